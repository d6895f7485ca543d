-- subscriptions: which plan a user is on, and until when.
--
-- exactly one row per user (created at signup as FREE / active) that the
-- payment webhooks move between plans and periods. plans are monthly only,
-- paid once per period through midtrans or doku — there is no card on file
-- and no automatic renewal, which shapes the status set below.


-- ---------------------------------------------------------------------------
-- enums
-- ---------------------------------------------------------------------------
-- upper case because that is how the product names plans everywhere (ui,
-- price catalogue, gateway item names); mirrored by app::domain::Plan.
create type public.subscription_plan as enum ('FREE', 'BASIC', 'PRO', 'ULTIMATE');

comment on type public.subscription_plan is
  'Plans. Prices live in the server''s plan catalogue, never in the database or the client.';

-- lower case, stripe's / supabase's vocabulary, so the words mean what
-- readers already expect:
--   active    the plan is in force (FREE is always active; a paid plan until
--             current_period_end);
--   past_due  the period ended and a renewal payment was started but is not
--             PAID yet — a grace state the billing page can explain;
--   canceled  ended by the user (after cancel_at_period_end ran out) or by an
--             admin; canceled_at says when;
--   expired   the paid period ran out without renewal. gateways here charge
--             once per period, so "nobody paid again" is the normal way a paid
--             plan ends and deserves its own word, distinct from canceled.
-- what a user falls back to after canceled/expired is decided by the server
-- (normally: back to FREE / active).
create type public.subscription_status as enum ('active', 'past_due', 'canceled', 'expired');


-- ---------------------------------------------------------------------------
-- the table
-- ---------------------------------------------------------------------------
create table public.subscriptions (
  -- its own id (not the user id) so payments can reference "the subscription
  -- this payment was for" (20260317000006).
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  plan public.subscription_plan not null default 'FREE',
  status public.subscription_status not null default 'active',
  -- null for FREE: a free plan has no billing period.
  current_period_start timestamptz,
  current_period_end timestamptz,
  -- self-serve cancel keeps the paid plan until the period ends; resume
  -- clears it. nothing is refunded.
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint subscriptions_pkey primary key (id),
  constraint subscriptions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  -- one subscription row per user: billing code reads and updates "the"
  -- subscription, never picks among several.
  constraint subscriptions_user_id_key unique (user_id),
  constraint subscriptions_period_order
    check (current_period_start is null or current_period_end is null or current_period_end > current_period_start),
  -- a paid plan that is in force must say until when, or nothing would ever
  -- expire it.
  constraint subscriptions_active_paid_plan_has_period_end
    check (plan = 'FREE' or status <> 'active' or current_period_end is not null),
  constraint subscriptions_canceled_has_time
    check (status <> 'canceled' or canceled_at is not null)
);

comment on table public.subscriptions is
  'One row per user: current plan, status and billing period. Written by the signup trigger, payment webhooks and cancel/resume.';

create trigger subscriptions_set_updated_at
  before update on public.subscriptions
  for each row execute function public.set_updated_at();


-- ---------------------------------------------------------------------------
-- access: a user may read their own subscription and nothing else
-- ---------------------------------------------------------------------------
-- plan changes only ever come from verified payment webhooks and the
-- server's cancel/resume actions (service paths), so users get select only —
-- no insert/update/delete/truncate, whatever supabase's defaults granted.
alter table public.subscriptions enable row level security;

revoke all on table public.subscriptions from anon, authenticated;
grant select on table public.subscriptions to authenticated;

create policy subscriptions_select_own
  on public.subscriptions
  for select
  to authenticated
  using (user_id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- signup trigger: every new user starts on FREE / active
-- ---------------------------------------------------------------------------
-- security definer + empty search_path for the same reasons as the profile
-- trigger (runs as gotrue's role, must not be redirectable). the values are
-- spelled out instead of relying on column defaults so that this function
-- states the rule ("new users are FREE and active") in one place.
create function public.handle_new_user_subscription()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.subscriptions (user_id, plan, status)
  values (new.id, 'FREE'::public.subscription_plan, 'active'::public.subscription_status)
  on conflict (user_id) do nothing;
  return new;
end;
$$;

comment on function public.handle_new_user_subscription() is
  'Signup trigger: gives a new auth user the FREE plan, active.';

revoke execute on function public.handle_new_user_subscription() from public, anon, authenticated;

create trigger on_auth_user_created_subscription
  after insert on auth.users
  for each row execute function public.handle_new_user_subscription();

-- existing users (a project that already has accounts) start on FREE too.
insert into public.subscriptions (user_id, plan, status)
select u.id, 'FREE', 'active'
from auth.users u
on conflict (user_id) do nothing;
