-- profiles: the user-facing half of an account.
--
-- auth.users belongs to supabase auth (gotrue) and is not exposed to the
-- api; everything the app shows or lets a user edit about themselves lives
-- here, one row per auth user, created by a trigger at signup so that no code
-- path ever meets a user without a profile.


-- ---------------------------------------------------------------------------
-- shared helper: keep updated_at honest
-- ---------------------------------------------------------------------------
-- defined once here and reused by every table with an updated_at column.
-- a trigger rather than "set updated_at = now()" in each query, because rows
-- are also changed from the supabase dashboard, the rest api and psql.
-- search_path is pinned (empty) like every function in these migrations, so
-- a user who can create objects in some schema cannot shadow now().
create function public.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function public.set_updated_at() is
  'Trigger helper: stamps updated_at on every update.';

-- supabase exposes every public function over rest (/rpc/...); a trigger
-- function cannot be called directly anyway, but nobody needs execute on it.
revoke execute on function public.set_updated_at() from public, anon, authenticated;


-- ---------------------------------------------------------------------------
-- the table
-- ---------------------------------------------------------------------------
create table public.profiles (
  -- the profile *is* the user: same id, gone when the user is deleted.
  id uuid not null,
  -- nullable: sign-up does not require a name, and google may not send one.
  full_name text,
  -- server-owned extras (locale, onboarding state, …). jsonb so adding a
  -- preference needs no migration; users cannot write it directly (see the
  -- column grants below), so the server validates what goes in.
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint profiles_pkey primary key (id),
  constraint profiles_id_fkey foreign key (id) references auth.users (id) on delete cascade,
  -- a name, not an essay; the ui shows it in headers and emails.
  constraint profiles_full_name_length check (full_name is null or char_length(full_name) <= 120),
  constraint profiles_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.profiles is
  'One row per auth user: name and profile data the user sees and edits. Created by the signup trigger.';

create trigger profiles_set_updated_at
  before update on public.profiles
  for each row execute function public.set_updated_at();


-- ---------------------------------------------------------------------------
-- access: read your own row, edit your own name — nothing else
-- ---------------------------------------------------------------------------
-- supabase's default privileges grant all on new public tables to anon and
-- authenticated and leave the rest to rls. rls limits *rows*, not columns,
-- and does not apply to truncate at all; so privileges are cut back to
-- exactly what the policies below are meant to allow:
--   * anon: nothing (a profile is never public);
--   * authenticated: select, and update of the user-editable columns only —
--     id, metadata and the timestamps stay server-owned even on your own row.
-- service_role keeps its default privileges (it bypasses rls by design).
alter table public.profiles enable row level security;

revoke all on table public.profiles from anon, authenticated;
grant select on table public.profiles to authenticated;
grant update (full_name) on table public.profiles to authenticated;

-- "(select auth.uid())" rather than "auth.uid()": the sub-select is evaluated
-- once per statement (an initplan) instead of once per row.
create policy profiles_select_own
  on public.profiles
  for select
  to authenticated
  using (id = (select auth.uid()));

-- using: which rows you may target; with check: what the row may look like
-- afterwards (still yours). the column grant above decides which columns.
create policy profiles_update_own
  on public.profiles
  for update
  to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- signup trigger: every new auth user gets a profile
-- ---------------------------------------------------------------------------
-- security definer: it runs inside gotrue's insert, as gotrue's database
-- role, which has no rights on public.profiles; the function runs as its
-- owner instead. search_path = '' and fully qualified names so nothing the
-- caller controls can redirect it.
--
-- it must never fail on user input: a failing auth.users trigger makes
-- signup itself fail ("database error saving new user"). so the name taken
-- from the signup form (data.full_name, or "name" as google sends it) is
-- trimmed, emptied to null and cut to the column's limit instead of being
-- allowed to trip profiles_full_name_length.
create function public.handle_new_user_profile()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, full_name)
  values (
    new.id,
    pg_catalog.left(
      coalesce(
        nullif(pg_catalog.btrim(new.raw_user_meta_data ->> 'full_name'), ''),
        nullif(pg_catalog.btrim(new.raw_user_meta_data ->> 'name'), '')
      ),
      120
    )
  )
  on conflict (id) do nothing;
  return new;
end;
$$;

comment on function public.handle_new_user_profile() is
  'Signup trigger: creates the profile of a new auth user (full name from raw_user_meta_data).';

revoke execute on function public.handle_new_user_profile() from public, anon, authenticated;

create trigger on_auth_user_created_profile
  after insert on auth.users
  for each row execute function public.handle_new_user_profile();

-- users who signed up before this migration (an existing supabase project)
-- get their profile now; "on conflict do nothing" keeps it re-runnable.
insert into public.profiles (id, full_name)
select
  u.id,
  left(
    coalesce(
      nullif(btrim(u.raw_user_meta_data ->> 'full_name'), ''),
      nullif(btrim(u.raw_user_meta_data ->> 'name'), '')
    ),
    120
  )
from auth.users u
on conflict (id) do nothing;
