-- audit_logs: who did what, when, from where — append-only.
--
-- written by the admin, profile and payment flows (and by set_user_role from
-- 20260317000006, which was written against this table), read by the admin
-- dashboard and during investigations. an audit trail is only worth
-- something if nobody can quietly rewrite it, so rows cannot be updated or
-- deleted by anyone, including the server's own role and service_role.

create table public.audit_logs (
  -- bigint identity: cheap, and gives a stable keyset order for paging
  -- through entries that share a created_at.
  id bigint generated always as identity,
  -- no foreign key to auth.users, on purpose: the trail must outlive the
  -- accounts it mentions, and "on delete set null" would be an update, which
  -- this table refuses. null actor = the system (webhooks, bootstrap, cli).
  actor_id uuid,
  -- the actor's email at the time; it may change or disappear later.
  actor_email text,
  -- dotted "subject.verb": profile.updated, role.changed, payment.success,
  -- payment.failed, subscription.changed, … a pattern rather than a fixed
  -- list: the server's rust enum is the list (checked at compile time), and
  -- a new kind of entry must not need a migration — but free text like
  -- 'Role Changed!' cannot slip in and break filtering.
  action text not null,
  -- what was acted on: a kind ('user', 'payment', 'subscription') and an id
  -- as text (uuids, gateway order ids).
  target_type text,
  target_id text,
  -- action-specific details (from/to role, amount, provider, …).
  metadata jsonb not null default '{}'::jsonb,
  ip inet,
  user_agent text,
  created_at timestamptz not null default now(),

  constraint audit_logs_pkey primary key (id),
  constraint audit_logs_action_format check (action ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$' and char_length(action) <= 64),
  constraint audit_logs_target_type_format check (target_type is null or target_type ~ '^[a-z][a-z_]{0,31}$'),
  constraint audit_logs_target_id_length check (target_id is null or char_length(target_id) <= 255),
  constraint audit_logs_actor_email_length check (actor_email is null or char_length(actor_email) <= 320),
  constraint audit_logs_user_agent_length check (user_agent is null or char_length(user_agent) <= 1024),
  constraint audit_logs_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.audit_logs is
  'Append-only audit trail (updates, deletes and truncate are refused for every role). Service-written; invisible to api users.';

-- the admin trail: newest first, by actor, by action, and the history of
-- one target.
create index audit_logs_created_at_idx on public.audit_logs (created_at desc, id desc);
create index audit_logs_actor_id_created_at_idx on public.audit_logs (actor_id, created_at desc) where actor_id is not null;
create index audit_logs_action_created_at_idx on public.audit_logs (action, created_at desc);
create index audit_logs_target_idx on public.audit_logs (target_type, target_id, created_at desc);


-- ---------------------------------------------------------------------------
-- append-only
-- ---------------------------------------------------------------------------
-- privileges alone are not enough: the table owner (the migration role —
-- postgres, the server's privileged connection) keeps every privilege on its
-- own table whatever is revoked, and superusers ignore privileges. triggers
-- fire for everyone, so they are the real guard: before update/delete per
-- row, and before truncate per statement (truncate fires no row triggers).
-- the only way around them is "alter table … disable trigger", a schema
-- change made by the owner, visible in the logs, not a quiet edit.
--
-- sqlstate KL002 (kilat: append-only violation), distinct from privilege
-- errors so a test — or an alert — can tell "refused by design" apart.
create function public.refuse_audit_log_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_logs is append-only: % is not allowed', pg_catalog.lower(tg_op)
    using errcode = 'KL002',
          hint = 'Write a new audit entry instead of changing an old one.';
end;
$$;

revoke execute on function public.refuse_audit_log_change() from public, anon, authenticated;

create trigger audit_logs_refuse_update_delete
  before update or delete on public.audit_logs
  for each row execute function public.refuse_audit_log_change();

create trigger audit_logs_refuse_truncate
  before truncate on public.audit_logs
  for each statement execute function public.refuse_audit_log_change();


-- ---------------------------------------------------------------------------
-- access
-- ---------------------------------------------------------------------------
-- invisible to api users: rls on with no policy, and supabase's default
-- grants taken back. service_role keeps select and insert (the server writes
-- and the admin dashboard reads through service paths) but loses update,
-- delete and truncate — the trigger would refuse them anyway; the revoke
-- makes the intent visible in the privileges too.
alter table public.audit_logs enable row level security;

revoke all on table public.audit_logs from anon, authenticated;
revoke update, delete, truncate on table public.audit_logs from service_role;
revoke all on sequence public.audit_logs_id_seq from anon, authenticated;
