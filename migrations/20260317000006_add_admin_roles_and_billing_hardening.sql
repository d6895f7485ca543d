-- admin roles and billing hardening.
--
--   * user_roles — the source of truth for who is an admin. ADMIN_EMAILS is
--     only a bootstrap list the server applies on first sign-in (through
--     set_user_role, so even that is audited);
--   * billing metadata and constraints that make double charging and
--     impossible payment histories unrepresentable;
--   * the indexes the admin pages and billing queries need;
--   * the admin rpcs: is_admin, set_user_role, admin_dashboard_metrics.


-- ---------------------------------------------------------------------------
-- roles
-- ---------------------------------------------------------------------------
-- two roles are all the product has; an enum makes a typo ('admn') a type
-- error instead of a silently powerless row. mirrored by a rust enum in app.
create type public.app_role as enum ('admin', 'member');

create table public.user_roles (
  -- one role per user (primary key on user_id): "is this user an admin" is
  -- a single-row lookup and there is no ambiguity about several rows.
  user_id uuid not null,
  role public.app_role not null default 'member',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint user_roles_pkey primary key (user_id),
  constraint user_roles_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);

comment on table public.user_roles is
  'Application role per user (admin | member). Source of truth for admin access; changed only via set_user_role.';

-- admin lists and "how many admins are left" checks.
create index user_roles_admins_idx on public.user_roles (user_id) where role = 'admin';

create trigger user_roles_set_updated_at
  before update on public.user_roles
  for each row execute function public.set_updated_at();

-- a user may see their own role (the ui hides admin links from members);
-- nobody may change a role through the api — that would be self-promotion.
alter table public.user_roles enable row level security;

revoke all on table public.user_roles from anon, authenticated;
grant select on table public.user_roles to authenticated;

create policy user_roles_select_own
  on public.user_roles
  for select
  to authenticated
  using (user_id = (select auth.uid()));

-- signup trigger: every new user is a member. admin is never a default.
create function public.handle_new_user_role()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.user_roles (user_id, role)
  values (new.id, 'member'::public.app_role)
  on conflict (user_id) do nothing;
  return new;
end;
$$;

comment on function public.handle_new_user_role() is
  'Signup trigger: gives a new auth user the member role.';

revoke execute on function public.handle_new_user_role() from public, anon, authenticated;

create trigger on_auth_user_created_role
  after insert on auth.users
  for each row execute function public.handle_new_user_role();

-- users who existed before this migration become members too.
insert into public.user_roles (user_id, role)
select u.id, 'member'
from auth.users u
on conflict (user_id) do nothing;


-- ---------------------------------------------------------------------------
-- billing metadata
-- ---------------------------------------------------------------------------
-- a payment is for one subscription: the one of the same user. the pair
-- (id, user_id) is made referenceable so the foreign key below checks both —
-- a payment can never be attached to somebody else's subscription.
alter table public.subscriptions
  add constraint subscriptions_id_user_id_key unique (id, user_id);

alter table public.payments
  -- which subscription this payment extends or upgrades.
  add column subscription_id uuid,
  -- the gateway's hosted checkout (midtrans snap redirect_url, doku
  -- payment.url), kept so the order page can send the user back to an
  -- unfinished checkout instead of starting a second one.
  add column checkout_url text,
  -- when the gateway stops accepting this checkout; a PENDING row past it is
  -- swept to EXPIRED, which frees the one-pending slot below.
  add column expires_at timestamptz,
  -- postgresql 15's "set null (column)": when a subscription row goes away
  -- (its user was deleted), only subscription_id is cleared; user_id is
  -- handled by payments_user_id_fkey.
  add constraint payments_subscription_fkey
    foreign key (subscription_id, user_id)
    references public.subscriptions (id, user_id)
    on delete set null (subscription_id),
  add constraint payments_checkout_url_format
    check (checkout_url is null or (checkout_url ~ '^https?://' and char_length(checkout_url) <= 2048)),
  add constraint payments_expires_after_created
    check (expires_at is null or expires_at > created_at);

-- payments that predate this migration belong to their user's (only)
-- subscription.
update public.payments p
set subscription_id = s.id
from public.subscriptions s
where s.user_id = p.user_id
  and p.subscription_id is null;

-- at most one open checkout per user and plan: a double click, a retry or
-- two tabs cannot create two PENDING orders that could both be paid. the
-- server reuses (or expires) the open one instead. before the index can
-- exist, older duplicates from before this rule are expired, keeping the
-- newest.
update public.payments p
set status = 'EXPIRED'
where p.status = 'PENDING'
  and exists (
    select 1
    from public.payments newer
    where newer.status = 'PENDING'
      and newer.user_id = p.user_id
      and newer.plan = p.plan
      and (newer.created_at, newer.id) > (p.created_at, p.id)
  );

create unique index payments_one_pending_per_user_plan
  on public.payments (user_id, plan)
  where status = 'PENDING';


-- ---------------------------------------------------------------------------
-- payment status transitions
-- ---------------------------------------------------------------------------
-- gateways retry, duplicate and reorder notifications; a late "expire" must
-- not turn a PAID payment into EXPIRED. the rules, enforced for every writer:
--   PENDING          -> anything;
--   PAID             -> REFUNDED only;
--   FAILED, EXPIRED  -> PAID only (a late settlement means money was taken:
--                       it must be recorded, never lost);
--   REFUNDED         -> nothing;
--   nothing          -> PENDING (a finished checkout is never reopened).
-- raised as check_violation naming payments_status_transition, the same
-- shape as a check constraint, so the server maps it like one.
create function public.guard_payment_status_transition()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status = old.status then
    return new;
  end if;

  if old.status = 'PENDING'
     or (old.status = 'PAID' and new.status = 'REFUNDED')
     or (old.status in ('FAILED', 'EXPIRED') and new.status = 'PAID') then
    return new;
  end if;

  raise exception 'payment % cannot go from % to %', old.id, old.status, new.status
    using errcode = 'check_violation',
          constraint = 'payments_status_transition',
          table = 'payments',
          schema = 'public',
          hint = 'PAID can only become REFUNDED; FAILED and EXPIRED can only become PAID; nothing returns to PENDING.';
end;
$$;

revoke execute on function public.guard_payment_status_transition() from public, anon, authenticated;

create trigger payments_status_transition
  before update of status on public.payments
  for each row execute function public.guard_payment_status_transition();


-- ---------------------------------------------------------------------------
-- indexes for the admin pages and billing
-- ---------------------------------------------------------------------------
-- admin payments table: newest first, paginated, optionally by status.
create index payments_created_at_idx on public.payments (created_at desc);
create index payments_status_created_at_idx on public.payments (status, created_at desc);
-- revenue metric and chart: only PAID rows count, bucketed by paid_at.
create index payments_paid_at_idx on public.payments (paid_at) include (amount) where status = 'PAID';
-- the PENDING sweep looks for checkouts past expires_at.
create index payments_pending_expires_at_idx on public.payments (expires_at) where status = 'PENDING';
-- foreign keys are not indexed automatically; deleting a subscription would
-- otherwise scan payments.
create index payments_subscription_id_idx on public.payments (subscription_id);
-- "active subscriptions per plan" on the dashboard.
create index subscriptions_status_plan_idx on public.subscriptions (status, plan);
-- the expiry job: paid plans whose period has ended.
create index subscriptions_paid_period_end_idx
  on public.subscriptions (current_period_end)
  where plan <> 'FREE';
-- admin ai usage over time, across users.
create index ai_usage_created_at_idx on public.ai_usage (created_at desc);


-- ---------------------------------------------------------------------------
-- rpc: is_admin(uuid)
-- ---------------------------------------------------------------------------
-- callable by authenticated, on purpose: a future rls policy or a
-- user-scoped guard may ask "is the current user an admin?", and a policy's
-- functions run with the querying role's privileges. security definer lets
-- it read user_roles without tripping user_roles' own rls (and without the
-- infinite recursion a policy on user_roles calling it would otherwise
-- cause).
--
-- but a user must not be able to probe who the admins are (supabase serves
-- every executable public function at /rest/v1/rpc/…). so for requests made
-- as anon or authenticated — recognised by the role claim postgrest and
-- kilat's user-scoped transactions set — it only answers about the caller
-- and says false for anyone else. the server's own connection and
-- service_role (no such claim, or 'service_role') get the truth about anyone.
create function public.is_admin(target_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select
    exists (
      select 1
      from public.user_roles r
      where r.user_id = target_user_id
        and r.role = 'admin'::public.app_role
    )
    and (
      target_user_id = auth.uid()
      or coalesce(auth.role(), '') not in ('anon', 'authenticated')
    );
$$;

comment on function public.is_admin(uuid) is
  'True when the user has the admin role. Users may only ask about themselves; service callers about anyone.';

revoke execute on function public.is_admin(uuid) from public, anon, authenticated;
grant execute on function public.is_admin(uuid) to authenticated, service_role;


-- ---------------------------------------------------------------------------
-- rpc: set_user_role(...)
-- ---------------------------------------------------------------------------
-- the only way a role changes: from the admin page (actor = the signed-in
-- admin), the ADMIN_EMAILS bootstrap and the "admin grant/revoke" cli (actor
-- = null: the operator / system, who can run sql anyway). every change
-- writes a role.changed audit entry in the same transaction, so a role
-- change without its audit entry cannot exist.
--
-- it writes public.audit_logs, which 20260317000010 creates. plpgsql
-- resolves table names when a statement first runs, not when the function
-- is created, so defining it here is fine; between this migration and 010 a
-- call fails (and rolls back) rather than changing a role unaudited — it
-- fails closed. the role rules belong with the roles, hence this file.
--
-- refusals, each with its own sqlstate so the server can map them:
--   22004 (null_value_not_allowed)  target or new role missing;
--   42501 (insufficient_privilege)  actor is not an admin           -> 403;
--   KL001                           an admin demoting themselves    -> 400
--                                   (so there is always an admin left
--                                   who can fix things);
--   P0002 (no_data_found)           target user does not exist      -> 404.
create function public.set_user_role(
  target_user_id uuid,
  new_role public.app_role,
  actor_id uuid,
  actor_email text default null,
  request_ip inet default null,
  request_user_agent text default null
)
returns table (previous_role public.app_role, assigned_role public.app_role, changed boolean)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_previous public.app_role;
begin
  if target_user_id is null or new_role is null then
    raise exception 'set_user_role needs a target user and a role'
      using errcode = 'null_value_not_allowed';
  end if;

  -- lock the actor's and the target's role rows, always in the same (id)
  -- order. two admins demoting each other at the same moment then run one
  -- after the other, and the second finds it is no longer an admin —
  -- instead of both succeeding and leaving nobody in charge.
  perform 1
  from public.user_roles r
  where r.user_id in (target_user_id, actor_id)
  order by r.user_id
  for update;

  if actor_id is not null and not exists (
    select 1 from public.user_roles r
    where r.user_id = actor_id and r.role = 'admin'::public.app_role
  ) then
    raise exception 'only an admin can change user roles'
      using errcode = 'insufficient_privilege';
  end if;

  if actor_id = target_user_id and new_role <> 'admin'::public.app_role then
    raise exception 'an admin cannot remove their own admin role'
      using errcode = 'KL001',
            hint = 'Ask another admin to change your role.';
  end if;

  if not exists (select 1 from auth.users u where u.id = target_user_id) then
    raise exception 'user % does not exist', target_user_id
      using errcode = 'no_data_found';
  end if;

  select r.role into v_previous
  from public.user_roles r
  where r.user_id = target_user_id;

  if v_previous is not distinct from new_role then
    -- nothing changes, so there is nothing to audit.
    return query select v_previous, new_role, false;
    return;
  end if;

  insert into public.user_roles as r (user_id, role)
  values (target_user_id, new_role)
  on conflict on constraint user_roles_pkey do update set role = excluded.role;

  insert into public.audit_logs (actor_id, actor_email, action, target_type, target_id, metadata, ip, user_agent)
  values (
    set_user_role.actor_id,
    set_user_role.actor_email,
    'role.changed',
    'user',
    target_user_id::text,
    pg_catalog.jsonb_build_object('from', v_previous, 'to', new_role),
    request_ip,
    request_user_agent
  );

  return query select v_previous, new_role, true;
end;
$$;

comment on function public.set_user_role(uuid, public.app_role, uuid, text, inet, text) is
  'Changes a user''s role and writes a role.changed audit entry. Actor must be an admin (null = system/operator); admins cannot demote themselves (KL001).';

revoke execute on function public.set_user_role(uuid, public.app_role, uuid, text, inet, text) from public, anon, authenticated;
grant execute on function public.set_user_role(uuid, public.app_role, uuid, text, inet, text) to service_role;


-- ---------------------------------------------------------------------------
-- rpc: admin_dashboard_metrics()
-- ---------------------------------------------------------------------------
-- one row of typed numbers for the dashboard cards (a fixed set of plans, so
-- one column per plan beats a json blob the server would have to re-parse).
--   revenue_idr            sum of PAID payments, whole rupiah (REFUNDED ones
--                          no longer count: that money went back);
--   paid_payments          how many payments are PAID;
--   pending_payments       open checkouts right now;
--   active_<plan>          subscriptions in force per plan. a paid plan
--                          whose period has passed but which the expiry job
--                          has not swept yet is not counted as active.
create function public.admin_dashboard_metrics()
returns table (
  revenue_idr bigint,
  paid_payments bigint,
  pending_payments bigint,
  active_free bigint,
  active_basic bigint,
  active_pro bigint,
  active_ultimate bigint
)
language sql
stable
security definer
set search_path = ''
as $$
  with pay as (
    select
      coalesce(sum(p.amount) filter (where p.status = 'PAID'), 0)::bigint as revenue_idr,
      count(*) filter (where p.status = 'PAID') as paid_payments,
      count(*) filter (where p.status = 'PENDING') as pending_payments
    from public.payments p
    where p.status in ('PAID', 'PENDING')
  ),
  subs as (
    select
      count(*) filter (where s.plan = 'FREE') as active_free,
      count(*) filter (where s.plan = 'BASIC') as active_basic,
      count(*) filter (where s.plan = 'PRO') as active_pro,
      count(*) filter (where s.plan = 'ULTIMATE') as active_ultimate
    from public.subscriptions s
    where s.status = 'active'
      and (s.current_period_end is null or s.current_period_end > pg_catalog.now())
  )
  select
    pay.revenue_idr, pay.paid_payments, pay.pending_payments,
    subs.active_free, subs.active_basic, subs.active_pro, subs.active_ultimate
  from pay, subs;
$$;

comment on function public.admin_dashboard_metrics() is
  'Admin dashboard numbers: revenue from PAID payments (IDR), paid and pending counts, active subscriptions per plan.';

revoke execute on function public.admin_dashboard_metrics() from public, anon, authenticated;
grant execute on function public.admin_dashboard_metrics() to service_role;
