-- protect the migration record from the public api.
--
-- the server's migrator (sqlx) keeps its record in public._sqlx_migrations.
-- on supabase, the project's default privileges grant anon and authenticated
-- every right on new tables in public, and postgrest serves public tables at
-- /rest/v1/<table>: anyone holding the publishable anon key could read,
-- rewrite or truncate the record — and so hide drift from `server doctor`.
-- the record is for the server (its owner, which bypasses rls) and nobody
-- else: row level security with no policy, and no rights for the api roles.
--
-- when these files are applied by another tool (`supabase db push`, the sql
-- editor) the table does not exist and this does nothing.
do $$
begin
  if exists (
    select 1 from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relname = '_sqlx_migrations'
      and c.relkind = 'r'
  ) then
    alter table public._sqlx_migrations enable row level security;
    if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
      revoke all on table public._sqlx_migrations from anon;
    end if;
    if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
      revoke all on table public._sqlx_migrations from authenticated;
    end if;
  end if;
end
$$;
