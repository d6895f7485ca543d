-- ai: race-free monthly token quotas, and conversations.
--
-- a call's tokens are known only when it ends, but the quota must hold while
-- calls run: twenty parallel requests near the limit must not together pass
-- it. so before calling the provider the server reserves the most the call
-- can cost (a bound on the prompt plus the answer's max_tokens) against the
-- month's allowance, and when the call ends it settles: the reservation goes
-- and an ai_usage row with the real counts takes its place, in one
-- transaction. a reservation left by a process that died stops counting when
-- it expires.


-- ---------------------------------------------------------------------------
-- ai_reservations: tokens held for calls in flight
-- ---------------------------------------------------------------------------
create table public.ai_reservations (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  tokens bigint not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,

  constraint ai_reservations_pkey primary key (id),
  constraint ai_reservations_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint ai_reservations_tokens_positive check (tokens > 0),
  constraint ai_reservations_expiry_order check (expires_at > created_at)
);

comment on table public.ai_reservations is
  'Tokens held against a user''s monthly AI allowance by calls in flight. Service-only.';

create index ai_reservations_user_id_expires_at_idx
  on public.ai_reservations (user_id, expires_at)
  include (tokens);

alter table public.ai_reservations enable row level security;
revoke all on table public.ai_reservations from anon, authenticated;


-- ---------------------------------------------------------------------------
-- ai_month_start(time_zone, at): where the quota month containing `at` began
-- ---------------------------------------------------------------------------
-- the month is the calendar month in the product's time zone (AI_QUOTA_TIME_ZONE,
-- default Asia/Jakarta): in Jakarta a new month starts at 17:00 UTC the day before.
create function public.ai_month_start(p_time_zone text, p_at timestamptz)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select pg_catalog.date_trunc('month', p_at at time zone p_time_zone) at time zone p_time_zone;
$$;

comment on function public.ai_month_start(text, timestamptz) is
  'Start of the calendar month containing p_at in time zone p_time_zone.';

revoke execute on function public.ai_month_start(text, timestamptz) from public, anon, authenticated;


-- ---------------------------------------------------------------------------
-- rpc: ai_standing(user, allowances, time_zone): where a user stands this month
-- ---------------------------------------------------------------------------
-- the one place that says which plan is in force (active and, for a paid plan,
-- inside its period; otherwise FREE), what its allowance is, what was used
-- this month, what calls in flight hold, and when the month starts over.
--   p_allowances  monthly tokens per plan, in plan order (FREE, BASIC, PRO,
--                 ULTIMATE); null is unlimited, 0 is a plan without AI.
create function public.ai_standing(
  p_user uuid,
  p_allowances bigint[],
  p_time_zone text
)
returns table (
  plan public.subscription_plan,
  allowance bigint,
  used bigint,
  held bigint,
  resets_at timestamptz
)
language sql
volatile
security definer
set search_path = ''
as $$
  with clock as (
    select pg_catalog.clock_timestamp() as now
  ),
  in_force as (
    select coalesce(
      (select case
                when s.status = 'active' and (s.plan = 'FREE' or s.current_period_end > clock.now) then s.plan
                else 'FREE'::public.subscription_plan
              end
         from public.subscriptions s
        where s.user_id = p_user),
      'FREE'::public.subscription_plan) as plan
    from clock
  )
  select
    in_force.plan,
    p_allowances[case in_force.plan when 'FREE' then 1 when 'BASIC' then 2 when 'PRO' then 3 else 4 end],
    (select coalesce(sum(u.total_tokens), 0)::bigint
       from public.ai_usage u
      where u.user_id = p_user and u.created_at >= public.ai_month_start(p_time_zone, clock.now)),
    (select coalesce(sum(r.tokens), 0)::bigint
       from public.ai_reservations r
      where r.user_id = p_user and r.expires_at > clock.now),
    (pg_catalog.date_trunc('month', clock.now at time zone p_time_zone) + interval '1 month') at time zone p_time_zone
  from clock, in_force;
$$;

comment on function public.ai_standing(uuid, bigint[], text) is
  'A user''s AI month: plan in force, its allowance, tokens used and held, when the month resets.';

revoke execute on function public.ai_standing(uuid, bigint[], text) from public, anon, authenticated;


-- ---------------------------------------------------------------------------
-- rpc: reserve_ai_tokens
-- ---------------------------------------------------------------------------
-- reserves up to p_wanted tokens for one call of p_user, never fewer than
-- p_least (the prompt's bound plus the shortest answer worth having): near the
-- end of an allowance the answer gets shorter before it is refused.
--   p_hold  how long the reservation counts if nobody settles it.
-- outcomes, with the standing (ai_standing) before this reservation:
--   reserved   `reservation` holds `granted` tokens;
--   no_ai      the plan has no AI (403 with an upgrade link);
--   quota      not even p_least is left this month (429 until resets_at).
-- the per-user advisory lock serialises reservations of one user (other users
-- never wait) from the standing's sums to the insert; it is released when the
-- calling transaction ends.
create function public.reserve_ai_tokens(
  p_user uuid,
  p_wanted bigint,
  p_least bigint,
  p_allowances bigint[],
  p_time_zone text,
  p_hold interval
)
returns table (
  outcome text,
  plan public.subscription_plan,
  reservation uuid,
  granted bigint,
  used bigint,
  held bigint,
  allowance bigint,
  resets_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := pg_catalog.clock_timestamp();
  v_granted bigint;
begin
  if p_wanted is null or p_least is null or p_least < 1 or p_wanted < p_least then
    raise exception 'reserve_ai_tokens: need 1 <= p_least <= p_wanted, got % and %', p_least, p_wanted
      using errcode = 'invalid_parameter_value';
  end if;
  if pg_catalog.array_length(p_allowances, 1) is distinct from 4 then
    raise exception 'reserve_ai_tokens: p_allowances needs one entry per plan (4)'
      using errcode = 'invalid_parameter_value';
  end if;

  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('kilat.ai_quota:' || p_user::text, 0));
  delete from public.ai_reservations r where r.user_id = p_user and r.expires_at <= v_now;

  select s.plan, s.allowance, s.used, s.held, s.resets_at
    into plan, allowance, used, held, resets_at
    from public.ai_standing(p_user, p_allowances, p_time_zone) s;

  if allowance = 0 then
    outcome := 'no_ai';
    return next;
    return;
  end if;
  v_granted := case
                 when allowance is null then p_wanted
                 else least(p_wanted, allowance - used - held)
               end;
  if v_granted < p_least then
    outcome := 'quota';
    return next;
    return;
  end if;

  insert into public.ai_reservations (user_id, tokens, created_at, expires_at)
  values (p_user, v_granted, v_now, v_now + p_hold)
  returning id into reservation;
  outcome := 'reserved';
  granted := v_granted;
  return next;
end;
$$;

comment on function public.reserve_ai_tokens(uuid, bigint, bigint, bigint[], text, interval) is
  'Reserves tokens for one AI call against the monthly allowance of the user''s plan, atomically per user.';

revoke execute on function public.reserve_ai_tokens(uuid, bigint, bigint, bigint[], text, interval) from public, anon, authenticated;


-- ---------------------------------------------------------------------------
-- rpc: settle_ai_tokens
-- ---------------------------------------------------------------------------
-- ends a call: its reservation goes (if it has not expired already) and the
-- real usage is recorded, in one statement. usage is recorded even without a
-- reservation: tokens the provider counted were spent.
create function public.settle_ai_tokens(
  p_user uuid,
  p_reservation uuid,
  p_provider text,
  p_model text,
  p_kind public.ai_usage_kind,
  p_prompt_tokens integer,
  p_completion_tokens integer
)
returns uuid
language sql
volatile
security definer
set search_path = ''
as $$
  with released as (
    delete from public.ai_reservations where id = p_reservation and user_id = p_user
  )
  insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens)
  values (p_user, p_provider, p_model, p_kind, p_prompt_tokens, p_completion_tokens)
  returning id;
$$;

comment on function public.settle_ai_tokens(uuid, uuid, text, text, public.ai_usage_kind, integer, integer) is
  'Releases an AI call''s reservation and records its real usage in ai_usage.';

revoke execute on function public.settle_ai_tokens(uuid, uuid, text, text, public.ai_usage_kind, integer, integer) from public, anon, authenticated;


-- ---------------------------------------------------------------------------
-- ai_conversations and ai_messages
-- ---------------------------------------------------------------------------
create table public.ai_conversations (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  title text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint ai_conversations_pkey primary key (id),
  constraint ai_conversations_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  -- what ai_messages references, so a message's owner is its conversation's.
  constraint ai_conversations_id_user_id_key unique (id, user_id),
  constraint ai_conversations_title_length check (char_length(title) between 1 and 200)
);

comment on table public.ai_conversations is
  'A user''s AI chats. Server-written; each user reads their own.';

-- the conversation list: newest first, keyset-paginated.
create index ai_conversations_user_id_updated_at_idx
  on public.ai_conversations (user_id, updated_at desc, id);

create table public.ai_messages (
  id bigint generated always as identity,
  conversation_id uuid not null,
  -- the conversation's owner, repeated so the row policy needs no join.
  user_id uuid not null,
  role text not null,
  content text not null,
  -- an answer the person stopped, or the provider cut, keeps what came.
  status text not null default 'complete',
  model text,
  created_at timestamptz not null default now(),

  constraint ai_messages_pkey primary key (id),
  constraint ai_messages_conversation_fkey foreign key (conversation_id, user_id)
    references public.ai_conversations (id, user_id) on delete cascade,
  constraint ai_messages_role check (role in ('user', 'assistant')),
  constraint ai_messages_status check (status in ('complete', 'stopped', 'failed')),
  constraint ai_messages_content_length check (char_length(content) <= 100000)
);

comment on table public.ai_messages is
  'The turns of an AI chat, in order (id). Server-written; each user reads their own.';

create index ai_messages_conversation_id_id_idx on public.ai_messages (conversation_id, id);

alter table public.ai_conversations enable row level security;
alter table public.ai_messages enable row level security;
revoke all on table public.ai_conversations, public.ai_messages from anon, authenticated;
grant select on table public.ai_conversations, public.ai_messages to authenticated;

create policy ai_conversations_select_own
  on public.ai_conversations
  for select
  to authenticated
  using (user_id = (select auth.uid()));

create policy ai_messages_select_own
  on public.ai_messages
  for select
  to authenticated
  using (user_id = (select auth.uid()));
