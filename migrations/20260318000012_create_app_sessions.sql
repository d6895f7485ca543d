-- app sessions: the server's signed-in browser sessions (tower-sessions).
--
-- a session row holds the person's supabase access and refresh tokens, so it
-- must never be reachable through supabase's rest api, which serves the
-- public schema: it lives in its own schema that no api role can use. the
-- server (the owner) reads and writes it directly.
create schema if not exists kilat_private;

comment on schema kilat_private is
  'Server-only data (browser sessions). Not exposed through the API; anon and authenticated have no access.';

revoke all on schema kilat_private from public;

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on schema kilat_private from anon;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    revoke all on schema kilat_private from authenticated;
  end if;
end
$$;

-- the shape tower-sessions' postgres store reads and writes: an opaque id,
-- the messagepack-encoded session record, and when it expires.
create table kilat_private.sessions (
  id text not null,
  data bytea not null,
  expiry_date timestamptz not null,

  constraint sessions_pkey primary key (id)
);

comment on table kilat_private.sessions is
  'Browser sessions (tower-sessions): the session record, including Supabase tokens. Expired rows are deleted hourly.';

-- the hourly sweep deletes by expiry.
create index sessions_expiry_date_idx on kilat_private.sessions (expiry_date);
