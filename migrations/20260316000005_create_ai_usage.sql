-- ai_usage: one row per finished ai call, the ledger behind monthly quotas.
--
-- the quota check sums this month's tokens for a user before every call
-- (FREE 0, BASIC 10k, PRO 100k, ULTIMATE unlimited), so the table is written
-- often, read by (user, time range), and never updated.


-- chat is the streamed conversation, generate the one-shot generation
-- endpoint; both count against the same monthly quota but are reported
-- separately.
create type public.ai_usage_kind as enum ('chat', 'generate');


create table public.ai_usage (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  -- text, not an enum: adding a provider (or a model) must not need a
  -- migration. the server's own enum decides what it accepts.
  provider text not null,
  model text not null,
  kind public.ai_usage_kind not null,
  prompt_tokens integer not null default 0,
  completion_tokens integer not null default 0,
  -- what quotas are counted in; computed once here instead of in every sum.
  total_tokens bigint generated always as (prompt_tokens::bigint + completion_tokens::bigint) stored,
  created_at timestamptz not null default now(),

  constraint ai_usage_pkey primary key (id),
  -- usage goes with the account: it is personal data, and quotas of a
  -- deleted user mean nothing.
  constraint ai_usage_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint ai_usage_provider_format check (provider ~ '^[a-z0-9_-]{1,32}$'),
  constraint ai_usage_model_length check (char_length(model) between 1 and 128),
  constraint ai_usage_prompt_tokens_nonnegative check (prompt_tokens >= 0),
  constraint ai_usage_completion_tokens_nonnegative check (completion_tokens >= 0)
);

comment on table public.ai_usage is
  'Token usage per finished AI call; monthly quotas are sums over it. Server-written, users read their own.';

-- the quota query: "sum(total_tokens) where user_id = $1 and created_at >=
-- start of month". total_tokens is included so it is answered from the index
-- alone.
create index ai_usage_user_id_created_at_idx
  on public.ai_usage (user_id, created_at desc)
  include (total_tokens);


-- ---------------------------------------------------------------------------
-- access: a user may read their own usage; only the server writes it
-- ---------------------------------------------------------------------------
-- a user who could insert, update or delete here could reset their own
-- quota.
alter table public.ai_usage enable row level security;

revoke all on table public.ai_usage from anon, authenticated;
grant select on table public.ai_usage to authenticated;

create policy ai_usage_select_own
  on public.ai_usage
  for select
  to authenticated
  using (user_id = (select auth.uid()));
