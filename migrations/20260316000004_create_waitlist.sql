-- waitlist: emails of visitors who asked to hear about the launch.
--
-- written only by the server's waitlist endpoint (rate limited per client
-- ip) and read only by operators for export, so it is invisible to both api
-- roles: a visitor must not be able to read, or even probe for, anyone
-- else's address.

create table public.waitlist (
  id uuid not null default gen_random_uuid(),
  email text not null,
  name text,
  -- where the signup came from (landing hero, pricing page, a campaign tag)
  -- so growth can compare channels.
  source text,
  created_at timestamptz not null default now(),

  constraint waitlist_pkey primary key (id),
  -- a sanity check, not validation: the server parses emails properly; this
  -- only keeps obvious garbage out if some other path writes here.
  constraint waitlist_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  -- 254 is the longest address smtp can carry.
  constraint waitlist_email_length check (char_length(email) <= 254),
  constraint waitlist_name_length check (name is null or char_length(name) <= 120),
  constraint waitlist_source_length check (source is null or char_length(source) <= 64)
);

comment on table public.waitlist is
  'Launch waitlist. Server-written, operator-read; invisible to anon and authenticated.';

-- one entry per address however it is capitalised: Ana@x.id and ana@x.id
-- are the same person. the server turns the unique violation into a quiet
-- "you're already on the list" instead of leaking whether an address exists
-- through a different answer.
create unique index waitlist_email_lower_key on public.waitlist (lower(email));

-- exports go newest first.
create index waitlist_created_at_idx on public.waitlist (created_at desc);


-- ---------------------------------------------------------------------------
-- access: none for api roles
-- ---------------------------------------------------------------------------
-- rls with no policy already hides every row; the revoke also removes the
-- privileges supabase's defaults granted (including truncate, which rls does
-- not govern), so a policy added by mistake later still exposes nothing.
alter table public.waitlist enable row level security;

revoke all on table public.waitlist from anon, authenticated;
