-- rate_limit_buckets: rate limits shared by every server instance.
--
-- an in-memory limiter is per process; behind a load balancer each instance
-- would allow the full limit again. keeping the counters in postgres makes
-- "5 per hour per ip" true across instances. fixed windows: a key's window
-- starts at its first request and lasts window_seconds; the first request
-- after it ends starts a new window with a fresh count.

create table public.rate_limit_buckets (
  -- what is being limited and for whom, built by the server, e.g.
  -- 'waitlist:ip:203.0.113.7', 'payment:user:<uuid>', 'ai:user:<uuid>'.
  key text not null,
  window_start timestamptz not null,
  window_seconds integer not null,
  -- requests seen in this window (capped just past the limit, see below).
  count integer not null,
  updated_at timestamptz not null default now(),

  constraint rate_limit_buckets_pkey primary key (key),
  constraint rate_limit_buckets_key_length check (char_length(key) between 1 and 256),
  constraint rate_limit_buckets_window_seconds_positive check (window_seconds > 0),
  constraint rate_limit_buckets_count_nonnegative check (count >= 0)
);

comment on table public.rate_limit_buckets is
  'Fixed-window request counters per key, shared across server instances. Service-only.';

-- the cleanup job deletes idle buckets by age.
create index rate_limit_buckets_updated_at_idx on public.rate_limit_buckets (updated_at);

-- access: none for api roles. keys contain client ips and user ids, and a
-- user who could write here could reset their own limits.
alter table public.rate_limit_buckets enable row level security;

revoke all on table public.rate_limit_buckets from anon, authenticated;


-- ---------------------------------------------------------------------------
-- rpc: consume_rate_limit(key, max_requests, window_seconds)
-- ---------------------------------------------------------------------------
-- counts one request against the key and says whether it is allowed:
--   allowed    this request is within the limit;
--   remaining  requests still allowed in this window (X-RateLimit-Remaining);
--   reset_at   when the window ends (X-RateLimit-Reset, Retry-After).
--
-- the whole decision is one insert … on conflict do update … returning, so it
-- is atomic without explicit locks: concurrent calls for one key queue on
-- its row and each sees the count the previous one left. 200 concurrent
-- calls at a limit of 50 allow exactly 50.
--
-- the count stops at max_requests + 1: a client hammering a closed window
-- cannot overflow it, and "over the limit" is all that needs remembering.
-- clock_timestamp(), not now(): a call made late inside a long transaction
-- must not count against a window that has already ended. it is read once
-- (the "clock" cte) and carried into the update as excluded.updated_at, so one
-- call uses one instant throughout.
create function public.consume_rate_limit(
  p_key text,
  p_max_requests integer,
  p_window_seconds integer
)
returns table (allowed boolean, remaining integer, reset_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if p_max_requests is null or p_max_requests < 1 then
    raise exception 'p_max_requests must be at least 1, got %', p_max_requests
      using errcode = 'invalid_parameter_value';
  end if;
  if p_window_seconds is null or p_window_seconds < 1 then
    raise exception 'p_window_seconds must be at least 1, got %', p_window_seconds
      using errcode = 'invalid_parameter_value';
  end if;

  return query
    with clock as (select pg_catalog.clock_timestamp() as ts)
    insert into public.rate_limit_buckets as b (key, window_start, window_seconds, count, updated_at)
    select p_key, clock.ts, p_window_seconds, 1, clock.ts
    from clock
    on conflict on constraint rate_limit_buckets_pkey do update
      set
        -- same window while it has not ended (and its length is unchanged);
        -- otherwise a new window starting now.
        window_start = case
          when b.window_seconds = excluded.window_seconds
           and excluded.updated_at < b.window_start + pg_catalog.make_interval(secs => b.window_seconds)
          then b.window_start
          else excluded.updated_at
        end,
        count = case
          when b.window_seconds = excluded.window_seconds
           and excluded.updated_at < b.window_start + pg_catalog.make_interval(secs => b.window_seconds)
          then least(b.count + 1, p_max_requests + 1)
          else 1
        end,
        window_seconds = excluded.window_seconds,
        updated_at = excluded.updated_at
    returning
      b.count <= p_max_requests,
      greatest(p_max_requests - b.count, 0),
      b.window_start + pg_catalog.make_interval(secs => b.window_seconds);
end;
$$;

comment on function public.consume_rate_limit(text, integer, integer) is
  'Counts one request for key in a fixed window; returns allowed, remaining, reset_at. One atomic upsert.';

revoke execute on function public.consume_rate_limit(text, integer, integer) from public, anon, authenticated;
grant execute on function public.consume_rate_limit(text, integer, integer) to service_role;


-- ---------------------------------------------------------------------------
-- rpc: cleanup_rate_limit_buckets(older_than)
-- ---------------------------------------------------------------------------
-- deletes buckets whose window ended and that have not been touched for
-- p_older_than; returns how many it deleted. run it periodically (say hourly,
-- from a server background task) so one-off client ips do not accumulate forever. a deleted
-- bucket only ever had an ended window, so no live limit is reset.
create function public.cleanup_rate_limit_buckets(p_older_than interval default interval '1 day')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_deleted bigint;
begin
  if p_older_than is null or p_older_than < interval '0 seconds' then
    raise exception 'p_older_than must be a non-negative interval, got %', p_older_than
      using errcode = 'invalid_parameter_value';
  end if;

  delete from public.rate_limit_buckets b
  where b.updated_at < pg_catalog.now() - p_older_than
    and b.window_start + pg_catalog.make_interval(secs => b.window_seconds) <= pg_catalog.now();

  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function public.cleanup_rate_limit_buckets(interval) is
  'Deletes rate-limit buckets idle for longer than older_than whose window has ended; returns the count.';

revoke execute on function public.cleanup_rate_limit_buckets(interval) from public, anon, authenticated;
grant execute on function public.cleanup_rate_limit_buckets(interval) to service_role;
