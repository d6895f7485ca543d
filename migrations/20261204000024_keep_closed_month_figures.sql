-- the admin overview's figures for periods that are over, kept instead of
-- summed on every view.
--
-- the overview shows all-time revenue and twelve months of sign-ups, paying
-- customers and revenue. summing them from the payments on each view costs
-- about 30 ms at 100,000 payments (counting each month's distinct payers is
-- most of it), and grows with the table. a month that is over rarely changes:
-- new payments are paid now, new accounts made now. so each closed period's
-- figures are computed once, when first asked for, and kept here; only the
-- current month is summed live (a few thousand rows at most).
--
-- what can still change a closed period: a payment leaving PAID (a refund), a
-- paid payment's amount, owner or time corrected, an account deleted, rows
-- written with past timestamps (`server seed-demo`). row triggers on payments
-- and profiles delete every kept period containing the moment they touch, and
-- the next view computes it again. their when-clauses keep the payments
-- triggers off the hot path: a checkout or a failed notification never calls
-- them; a settlement to PAID deletes nothing (its month is the current one)
-- but still takes the lock below, as does every sign-up (one begun just before
-- a month ends may commit after a view kept that month). truncating either
-- table forgets everything.
--
-- the race: a view computes a closed month from a snapshot that misses a
-- refund committing meanwhile, and keeps the stale figure after the refund's
-- trigger already ran. so a view fills a period under an exclusive advisory
-- lock, and the triggers take the same lock shared (they never wait for each
-- other): a fill waits for every change in flight to commit and then reads
-- them; a change arriving during a fill waits for it and then deletes what it
-- kept. plpgsql statements take a fresh snapshot each in read committed, which
-- both sides rely on: a view in a stricter transaction sums closed periods
-- without keeping them. changes that find something to forget also take a
-- second lock, exclusively, before deleting: two of them each deleting two
-- kept periods in opposite orders would otherwise deadlock on the rows.
--
-- periods are ranges of time (starts, ends), so one zone's months and another's
-- never mix. `zone` names the calendar a range was cut from (months in the
-- business's zone; 'UTC' for the all-time figures of admin_dashboard_metrics,
-- whose caller gives no zone).

create table kilat_private.admin_closed_periods (
  zone text not null,
  starts timestamptz not null,
  ends timestamptz not null,
  signups bigint not null,
  paying_users bigint not null,
  revenue_idr bigint not null,
  paid_payments bigint not null,
  primary key (zone, starts, ends),
  check (starts < ends)
);

comment on table kilat_private.admin_closed_periods is
  'The admin overview''s figures of periods that are over, computed when first asked for; the payments and profiles triggers delete a period whenever a change touches it.';

-- the figures of [p_starts, p_ends), summed now. one definition for the
-- current month and for filling a closed period.
create function kilat_private.period_figures(p_starts timestamptz, p_ends timestamptz)
returns table (signups bigint, paying_users bigint, revenue_idr bigint, paid_payments bigint)
language plpgsql
-- one row: the planner's default guess (1000) would price the overview high
-- enough to compile it with jit, which costs more than the query.
rows 1
stable
set search_path = ''
as $$
begin
  -- plpgsql, not sql: its plan is kept for the session's next call.
  return query
    select
      (select count(*) from public.profiles u
        where u.created_at >= p_starts and u.created_at < p_ends),
      paid.paying_users, paid.revenue_idr, paid.paid_payments
    from (
      select count(distinct p.user_id) as paying_users,
             coalesce(sum(p.amount), 0)::bigint as revenue_idr,
             count(*) as paid_payments
      from public.payments p
      where p.status = 'PAID' and p.paid_at >= p_starts and p.paid_at < p_ends
    ) paid;
end;
$$;

-- the key of the lock between filling and forgetting closed periods.
create function kilat_private.closed_periods_lock_key()
returns bigint
language sql
immutable
set search_path = ''
as $$ select pg_catalog.hashtextextended('kilat.admin_closed_periods', 0) $$;

-- the key of the lock that takes deleters of kept periods one at a time.
create function kilat_private.closed_periods_deleters_lock_key()
returns bigint
language sql
immutable
set search_path = ''
as $$ select pg_catalog.hashtextextended('kilat.admin_closed_periods.deleters', 0) $$;

-- the kept figures of a period that is over, computed and kept on first use.
create function kilat_private.closed_period_figures(p_zone text, p_starts timestamptz, p_ends timestamptz)
returns table (signups bigint, paying_users bigint, revenue_idr bigint, paid_payments bigint)
language plpgsql
-- one row: the planner's default guess (1000) would price the overview high
-- enough to compile it with jit, which costs more than the query.
rows 1
volatile
set search_path = ''
as $$
begin
  if p_ends > now() then
    raise exception 'the period ending % is not over', p_ends using errcode = '22023';
  end if;
  return query
    select c.signups, c.paying_users, c.revenue_idr, c.paid_payments
    from kilat_private.admin_closed_periods c
    where c.zone = p_zone and c.starts = p_starts and c.ends = p_ends;
  if found then
    return;
  end if;
  if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
    -- one snapshot for the whole transaction: the lock below could not make a
    -- fill see the changes it waited for.
    return query select * from kilat_private.period_figures(p_starts, p_ends);
    return;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(kilat_private.closed_periods_lock_key());
  -- a fresh snapshot: every change that held the lock has committed.
  insert into kilat_private.admin_closed_periods as c
    (zone, starts, ends, signups, paying_users, revenue_idr, paid_payments)
  select p_zone, p_starts, p_ends, f.signups, f.paying_users, f.revenue_idr, f.paid_payments
  from kilat_private.period_figures(p_starts, p_ends) f
  on conflict (zone, starts, ends) do nothing;
  return query
    select c.signups, c.paying_users, c.revenue_idr, c.paid_payments
    from kilat_private.admin_closed_periods c
    where c.zone = p_zone and c.starts = p_starts and c.ends = p_ends;
end;
$$;

-- forgets the kept periods containing p_at (a moment whose figures changed).
create function kilat_private.forget_closed_periods(p_at timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_at is null then
    return;
  end if;
  perform pg_catalog.pg_advisory_xact_lock_shared(kilat_private.closed_periods_lock_key());
  -- no fill can keep a period now until this transaction ends: what is not
  -- there stays away, and a settlement paid now finds nothing and locks nothing.
  if exists (
    select 1 from kilat_private.admin_closed_periods c where p_at >= c.starts and p_at < c.ends
  ) then
    perform pg_catalog.pg_advisory_xact_lock(kilat_private.closed_periods_deleters_lock_key());
    delete from kilat_private.admin_closed_periods c where p_at >= c.starts and p_at < c.ends;
  end if;
end;
$$;

-- forgets every kept period (a table the figures read was truncated).
create function kilat_private.forget_all_closed_periods()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock_shared(kilat_private.closed_periods_lock_key());
  perform pg_catalog.pg_advisory_xact_lock(kilat_private.closed_periods_deleters_lock_key());
  delete from kilat_private.admin_closed_periods;
  return null;
end;
$$;

create function kilat_private.forget_closed_payment_periods()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.status = 'PAID' then
    perform kilat_private.forget_closed_periods(old.paid_at);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.status = 'PAID' then
    perform kilat_private.forget_closed_periods(new.paid_at);
  end if;
  return null;
end;
$$;

create trigger payments_forget_closed_periods_on_insert
  after insert on public.payments
  for each row when (new.status = 'PAID')
  execute function kilat_private.forget_closed_payment_periods();

create trigger payments_forget_closed_periods_on_update
  after update on public.payments
  for each row when (
    (old.status = 'PAID' or new.status = 'PAID')
    and (old.status, old.paid_at, old.amount, old.user_id)
        is distinct from (new.status, new.paid_at, new.amount, new.user_id)
  )
  execute function kilat_private.forget_closed_payment_periods();

create trigger payments_forget_closed_periods_on_delete
  after delete on public.payments
  for each row when (old.status = 'PAID')
  execute function kilat_private.forget_closed_payment_periods();

create function kilat_private.forget_closed_signup_periods()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform kilat_private.forget_closed_periods(old.created_at);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform kilat_private.forget_closed_periods(new.created_at);
  end if;
  return null;
end;
$$;

create trigger profiles_forget_closed_periods_on_insert
  after insert on public.profiles
  for each row
  execute function kilat_private.forget_closed_signup_periods();

create trigger profiles_forget_closed_periods_on_update
  after update of created_at on public.profiles
  for each row when (old.created_at is distinct from new.created_at)
  execute function kilat_private.forget_closed_signup_periods();

create trigger profiles_forget_closed_periods_on_delete
  after delete on public.profiles
  for each row
  execute function kilat_private.forget_closed_signup_periods();

create trigger payments_forget_closed_periods_on_truncate
  after truncate on public.payments
  for each statement
  execute function kilat_private.forget_all_closed_periods();

create trigger profiles_forget_closed_periods_on_truncate
  after truncate on public.profiles
  for each statement
  execute function kilat_private.forget_all_closed_periods();

-- the overview's months: the last p_months calendar months in p_zone, this
-- one included (summed live), the others kept once over.
create function public.admin_monthly_figures(p_zone text, p_months integer)
returns table (
  starts text,
  signups bigint,
  paying_users bigint,
  revenue_idr bigint,
  paid_payments bigint
)
language plpgsql
rows 12
volatile
security definer
set search_path = ''
as $$
begin
  return query
    with series as (
      select m as local_start, m at time zone p_zone as period_starts,
             (m + interval '1 month') at time zone p_zone as period_ends
      from pg_catalog.generate_series(
        pg_catalog.date_trunc('month', now() at time zone p_zone)
          - pg_catalog.make_interval(months => least(greatest(p_months, 1), 120) - 1),
        pg_catalog.date_trunc('month', now() at time zone p_zone),
        interval '1 month') m
    )
    select pg_catalog.to_char(s.local_start, 'YYYY-MM-DD'),
           f.signups, f.paying_users, f.revenue_idr, f.paid_payments
    from series s
    cross join lateral (
      select * from kilat_private.closed_period_figures(p_zone, s.period_starts, s.period_ends)
      where s.period_ends <= now()
      union all
      select * from kilat_private.period_figures(s.period_starts, s.period_ends)
      where s.period_ends > now()
    ) f
    order by s.period_starts;
end;
$$;

comment on function public.admin_monthly_figures(text, integer) is
  'The admin overview''s last p_months calendar months in p_zone (oldest first): sign-ups, paying customers, revenue and paid payments. Closed months are computed once and kept (kilat_private.admin_closed_periods).';

revoke execute on function public.admin_monthly_figures(text, integer) from public, anon, authenticated;
grant execute on function public.admin_monthly_figures(text, integer) to service_role;

-- admin_dashboard_metrics, the same columns and meaning: the paid figures are
-- now everything before this UTC month (kept) plus this month (summed live).
create or replace function public.admin_dashboard_metrics()
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
volatile
security definer
set search_path = ''
as $$
  with this_month as (
    select pg_catalog.date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' as starts
  ),
  paid as (
    select coalesce(sum(f.revenue_idr), 0)::bigint as revenue_idr,
           coalesce(sum(f.paid_payments), 0)::bigint as paid_payments
    from this_month t
    cross join lateral (
      select * from kilat_private.closed_period_figures('UTC', '-infinity', t.starts)
      union all
      select * from kilat_private.period_figures(t.starts, 'infinity')
    ) f
  ),
  pending as (
    select count(*) as pending_payments
    from public.payments p
    where p.status = 'PENDING'
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
    paid.revenue_idr, paid.paid_payments, pending.pending_payments,
    subs.active_free, subs.active_basic, subs.active_pro, subs.active_ultimate
  from paid, pending, subs;
$$;
