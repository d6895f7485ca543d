-- payments: one row per checkout attempt, from PENDING to a final status.
--
-- the server creates the row (PENDING, amount from its own price catalogue —
-- the client never sends an amount) before asking the gateway for a
-- checkout; only a verified gateway notification may make it PAID or FAILED.
-- the browser's redirect back to the order page proves nothing and changes
-- nothing.


-- ---------------------------------------------------------------------------
-- enums
-- ---------------------------------------------------------------------------
--   PENDING   created, waiting for the gateway;
--   PAID      the gateway confirmed settlement (midtrans capture/settlement
--             with an accepted fraud status, doku SUCCESS);
--   FAILED    the gateway reported deny / cancel / failure;
--   EXPIRED   the checkout lapsed unpaid (gateway "expire", or our own
--             sweep of stale PENDING rows);
--   REFUNDED  money returned after PAID; kept apart from FAILED so revenue
--             history stays explainable.
create type public.payment_status as enum ('PENDING', 'PAID', 'FAILED', 'EXPIRED', 'REFUNDED');

-- the gateways kilat speaks; which one is used is PAYMENT_PROVIDER config.
create type public.payment_provider as enum ('MIDTRANS', 'DOKU');


-- ---------------------------------------------------------------------------
-- the table
-- ---------------------------------------------------------------------------
create table public.payments (
  id uuid not null default gen_random_uuid(),
  -- nullable and "on delete set null": when an account is deleted its
  -- payments stay (they are revenue and accounting history) but stop
  -- pointing at a person.
  user_id uuid,
  -- what was bought. FREE is never sold.
  plan public.subscription_plan not null,
  -- whole rupiah. idr has no minor unit in practice and both gateways take
  -- integer amounts, so bigint avoids every rounding question.
  amount bigint not null,
  currency text not null default 'IDR',
  provider public.payment_provider not null,
  -- the order id we send to the gateway (midtrans order_id, doku
  -- invoice_number), e.g. KK-1710000000000-1a2b3c4d. notifications are
  -- matched back to the payment by (provider, external_id).
  external_id text not null,
  status public.payment_status not null default 'PENDING',
  -- how the customer paid as the gateway reports it (bank_transfer, qris,
  -- gopay, credit_card, …); known only once a notification arrives.
  payment_type text,
  paid_at timestamptz,
  -- whatever the gateway told us that is worth keeping (transaction id,
  -- va numbers, fraud status, raw status codes) for support and refunds.
  -- the raw notifications themselves live in webhook_events.
  gateway_metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint payments_pkey primary key (id),
  constraint payments_user_id_fkey foreign key (user_id) references auth.users (id) on delete set null,
  constraint payments_amount_positive check (amount > 0),
  -- amounts are integer idr; another currency would need a minor-unit
  -- story first, so refuse it instead of mis-summing revenue.
  constraint payments_currency_idr check (currency = 'IDR'),
  constraint payments_plan_is_paid check (plan <> 'FREE'),
  -- both gateways cap order ids (midtrans 50, doku 64) and restrict their
  -- characters; checking here turns a gateway-side rejection into a clear
  -- local error.
  constraint payments_external_id_format check (external_id ~ '^[A-Za-z0-9._~-]{1,64}$'),
  -- one order id per gateway: a notification can only ever match one row.
  constraint payments_provider_external_id_key unique (provider, external_id),
  -- PAID (and REFUNDED, which was paid first) must say when.
  constraint payments_paid_at_when_paid check (status not in ('PAID', 'REFUNDED') or paid_at is not null),
  constraint payments_payment_type_length check (payment_type is null or char_length(payment_type) <= 64),
  constraint payments_gateway_metadata_is_object check (jsonb_typeof(gateway_metadata) = 'object')
);

comment on table public.payments is
  'Checkout attempts and their outcome. Created by the server, finalised only by verified gateway webhooks.';

-- a user's billing history, newest first.
create index payments_user_id_created_at_idx on public.payments (user_id, created_at desc);

create trigger payments_set_updated_at
  before update on public.payments
  for each row execute function public.set_updated_at();


-- ---------------------------------------------------------------------------
-- access: a user may read their own payments and nothing else
-- ---------------------------------------------------------------------------
-- inserts and status changes are service paths only: a user who could insert
-- or update a payment row through the rest api could mint a PAID one.
alter table public.payments enable row level security;

revoke all on table public.payments from anon, authenticated;
grant select on table public.payments to authenticated;

create policy payments_select_own
  on public.payments
  for select
  to authenticated
  using (user_id = (select auth.uid()));
