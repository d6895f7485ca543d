-- webhook_events: the ledger of payment gateway notifications.
--
-- gateways deliver "at least once": the same notification can arrive twice,
-- concurrently, out of order, or be replayed hours later. every verified
-- notification is first *claimed* here; only the claim holder applies its
-- effects (payment, subscription, audit entry) and then *finishes* the claim.
-- so a notification's effects happen once, a repeat is answered
-- "duplicate", and a crash mid-way leaves a claim that goes stale and can be
-- taken over. the raw payload stays here for debugging and for the admin
-- page.


-- processing: claimed, effects being applied (or the holder crashed);
-- processed: effects applied — any repeat is a duplicate;
-- failed:     the holder gave up (last_error says why); the next delivery
--             or a replay from the admin page may claim it again.
create type public.webhook_event_status as enum ('processing', 'processed', 'failed');


create table public.webhook_events (
  id uuid not null default gen_random_uuid(),
  provider public.payment_provider not null,
  -- the notification's identity as the server derives it per gateway (doku:
  -- the Request-Id header; midtrans, which has no delivery id: order id +
  -- transaction status + status code, so "pending" then "settlement" for
  -- one order are two events but a retried "settlement" is the same one).
  event_id text not null,
  -- gateway's own status word (settlement, expire, SUCCESS, …), for the
  -- admin list.
  event_type text not null,
  -- our payments.external_id, when the payload has one. not a foreign key:
  -- a notification for an unknown order is still recorded (and answered
  -- 404), which is exactly when the raw payload matters most.
  order_id text,
  payload jsonb not null,
  status public.webhook_event_status not null default 'processing',
  -- deliveries that claimed this event; > 1 means retries or takeovers.
  attempts integer not null default 1,
  last_error text,
  -- the current claim: a random token handed to the claimer, required to
  -- finish. a takeover issues a new one, which voids the old holder's.
  claim_token uuid,
  locked_at timestamptz,
  received_at timestamptz not null default now(),
  -- when the event last reached processed or failed.
  processed_at timestamptz,

  constraint webhook_events_pkey primary key (id),
  -- the idempotency key: one row per gateway event, whatever the number of
  -- deliveries.
  constraint webhook_events_provider_event_id_key unique (provider, event_id),
  constraint webhook_events_event_id_length check (char_length(event_id) between 1 and 255),
  constraint webhook_events_event_type_length check (char_length(event_type) between 1 and 64),
  constraint webhook_events_order_id_length check (order_id is null or char_length(order_id) <= 64),
  constraint webhook_events_attempts_positive check (attempts >= 1),
  constraint webhook_events_processing_is_claimed
    check (status <> 'processing' or (claim_token is not null and locked_at is not null)),
  constraint webhook_events_finished_has_time
    check (status = 'processing' or processed_at is not null),
  constraint webhook_events_last_error_length check (last_error is null or char_length(last_error) <= 4000)
);

comment on table public.webhook_events is
  'Payment gateway notification ledger: idempotent claim/finish, raw payloads. Service-only; invisible to api users.';

-- admin page: newest first, and the events of one order.
create index webhook_events_received_at_idx on public.webhook_events (received_at desc);
create index webhook_events_order_idx on public.webhook_events (provider, order_id) where order_id is not null;
-- "what is stuck or failing": unfinished events are few, so a partial index.
create index webhook_events_unfinished_idx on public.webhook_events (status, locked_at) where status <> 'processed';


-- access: none for api roles. payloads carry customer details (names,
-- emails, masked cards, va numbers).
alter table public.webhook_events enable row level security;

revoke all on table public.webhook_events from anon, authenticated;


-- ---------------------------------------------------------------------------
-- rpc: claim_webhook_event(...)
-- ---------------------------------------------------------------------------
-- returns exactly one row:
--   ('claimed', token, attempts)    you hold the claim: apply the effects,
--                                   then finish_webhook_event with the token;
--   ('duplicate', null, attempts)   already processed: answer 200
--                                   duplicate, do nothing;
--   ('in_progress', null, attempts) someone else holds a live claim: answer
--                                   with a retryable status, do nothing.
--
-- first claim wins under any concurrency because the decision is one
-- insert … on conflict do update: concurrent deliveries of one event queue
-- on the row, and each re-evaluates the "may I take it over?" condition
-- against the latest committed version. a failed event, or a processing one
-- whose lock is older than p_stale_after (its holder crashed or hung), is
-- taken over: new token, attempts + 1. anything else falls through to
-- reading the row to say why not.
--
-- call it in its own short transaction (autocommit), so a live claim is
-- visible to other deliveries at once; apply the effects and finish in the
-- next one.
create function public.claim_webhook_event(
  p_provider public.payment_provider,
  p_event_id text,
  p_event_type text,
  p_order_id text,
  p_payload jsonb,
  p_stale_after interval default interval '5 minutes'
)
returns table (outcome text, claim_token uuid, attempts integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if p_stale_after is null or p_stale_after < interval '0 seconds' then
    raise exception 'p_stale_after must be a non-negative interval, got %', p_stale_after
      using errcode = 'invalid_parameter_value';
  end if;

  return query
    insert into public.webhook_events as w
      (provider, event_id, event_type, order_id, payload, status, attempts, claim_token, locked_at)
    values
      (p_provider, p_event_id, p_event_type, p_order_id, p_payload,
       'processing', 1, pg_catalog.gen_random_uuid(), pg_catalog.now())
    on conflict on constraint webhook_events_provider_event_id_key do update
      set status = 'processing',
          attempts = w.attempts + 1,
          claim_token = excluded.claim_token,
          locked_at = excluded.locked_at,
          processed_at = null,
          event_type = excluded.event_type,
          order_id = coalesce(excluded.order_id, w.order_id),
          -- keep the latest delivery's payload: a replay may carry
          -- corrected data, and the previous attempt's error is kept in
          -- last_error until this attempt finishes.
          payload = excluded.payload
      where w.status = 'failed'
         or (w.status = 'processing' and w.locked_at < pg_catalog.now() - p_stale_after)
    returning 'claimed'::text, w.claim_token, w.attempts;

  if found then
    return;
  end if;

  return query
    select
      case when w.status = 'processed' then 'duplicate' else 'in_progress' end::text,
      null::uuid,
      w.attempts
    from public.webhook_events w
    where w.provider = p_provider
      and w.event_id = p_event_id;
end;
$$;

comment on function public.claim_webhook_event(public.payment_provider, text, text, text, jsonb, interval) is
  'Idempotent claim of a gateway notification: claimed (with token) | duplicate | in_progress. Failed and stale claims are taken over.';

revoke execute on function public.claim_webhook_event(public.payment_provider, text, text, text, jsonb, interval) from public, anon, authenticated;
grant execute on function public.claim_webhook_event(public.payment_provider, text, text, text, jsonb, interval) to service_role;


-- ---------------------------------------------------------------------------
-- rpc: finish_webhook_event(...)
-- ---------------------------------------------------------------------------
-- marks the event processed (p_succeeded) or failed (with p_error), but only
-- for the current claim holder: the token must match and the event must
-- still be processing. returns false otherwise — in particular to a holder
-- whose stale claim was taken over, which must then roll back whatever it
-- did. call it in the same transaction as the effects, so "processed" and
-- the effects commit together or not at all.
create function public.finish_webhook_event(
  p_provider public.payment_provider,
  p_event_id text,
  p_claim_token uuid,
  p_succeeded boolean,
  p_error text default null
)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update public.webhook_events w
  set status = case when p_succeeded
                    then 'processed'::public.webhook_event_status
                    else 'failed'::public.webhook_event_status end,
      processed_at = pg_catalog.now(),
      last_error = case when p_succeeded
                        then null
                        else pg_catalog.left(coalesce(p_error, 'failed without a message'), 4000) end
  where w.provider = p_provider
    and w.event_id = p_event_id
    and w.claim_token = p_claim_token
    and w.status = 'processing';

  return found;
end;
$$;

comment on function public.finish_webhook_event(public.payment_provider, text, uuid, boolean, text) is
  'Finishes a claimed notification as processed or failed. Only the current claim token can; returns whether it did.';

revoke execute on function public.finish_webhook_event(public.payment_provider, text, uuid, boolean, text) from public, anon, authenticated;
grant execute on function public.finish_webhook_event(public.payment_provider, text, uuid, boolean, text) to service_role;
