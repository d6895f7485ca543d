-- demo data for the admin dashboard (`server seed-demo`).
--
-- fills a migrated database with a believable year of kilat: indonesian
-- accounts signing up a little faster every month, the subscriptions they
-- hold today, a monthly PAID payment behind every paid month (and the
-- failed, expired, pending and refunded checkouts around them), the gateway
-- notifications in the webhook ledger, the audit trail, the mail outbox, three
-- months of ai usage and a launch waitlist. rows are written the way the
-- server would have written them (same event ids, payload shapes, audit
-- metadata, dedupe keys), with the timestamps of when it would have happened.
--
-- settings, read with current_setting(); the command sets them with
-- set_config(name, value, true). unset or empty means the default:
--   kilat.demo_users     accounts to create                         (2000)
--   kilat.demo_payments  payments to create                         (6000)
--   kilat.demo_audit     audit entries in total; never fewer than the
--                        payments and subscriptions imply           (20000)
--   kilat.demo_waitlist  waitlist entries                           (800)
--
-- how it stays honest:
--   * every demo address ends in @demo.kilat.test (.test is reserved: no
--     mail can ever reach it) and every demo account carries "demo": true in
--     raw_app_meta_data, which users cannot edit. the first statement refuses
--     to run when demo accounts exist already: audit_logs is append-only, so a
--     second run could never be cleaned up.
--   * the signup triggers make a profile, a FREE subscription and a member
--     role for each new auth user. here the three rows are written in the same
--     statement as the users, with the users' own timestamps; the triggers
--     then find them present and do nothing ("on conflict do nothing"). roles
--     stay member: nobody is made an admin.
--   * a paid month is one PAID payment, settled the way settle_payment would
--     have: payment.success and subscription.changed audited, the receipt
--     mailed. a year of growth holds about 2.5 paid months per account at
--     these plan shares; when kilat.demo_payments asks for more, the extra
--     payments are abandoned checkouts (EXPIRED) rather than impossible
--     second payments in a month.
--   * prices are the server's default catalogue (app::domain::PlanCatalogue):
--     BASIC 49 000, PRO 99 000, ULTIMATE 249 000 rupiah; ai allowances FREE
--     none, BASIC 10 000, PRO 100 000 tokens a month, ULTIMATE unlimited.
--
-- it must run inside one transaction (its scratch tables are "on commit
-- drop"). random() is seeded, so the shape of the data repeats from run to
-- run; uuids do not.


-- ---------------------------------------------------------------------------
-- once per database
-- ---------------------------------------------------------------------------
do $$
begin
  if exists (select 1 from auth.users u where u.email like '%@demo.kilat.test') then
    raise exception 'demo data is already in this database (accounts @demo.kilat.test exist)'
      using hint = 'seed-demo runs once per database: audit_logs is append-only, so demo rows cannot be replaced. Use a fresh database.';
  end if;
end
$$;

select setseed(0.42);

-- one process, so random() draws in the same order every run (and the
-- machine keeps its other cores); no jit, which would spend more time
-- compiling these one-off statements than running them (scratch tables
-- have no statistics, so every estimate looks huge); enough memory for the
-- big hash joins.
set local max_parallel_workers_per_gather = 0;
set local jit = off;
set local work_mem = '64MB';


-- ---------------------------------------------------------------------------
-- settings and constants
-- ---------------------------------------------------------------------------
create temp table demo_settings on commit drop as
select
  greatest(coalesce(nullif(current_setting('kilat.demo_users', true), '')::int, 2000), 1) as users,
  greatest(coalesce(nullif(current_setting('kilat.demo_payments', true), '')::int, 6000), 0) as payments,
  greatest(coalesce(nullif(current_setting('kilat.demo_audit', true), '')::int, 20000), 0) as audit,
  greatest(coalesce(nullif(current_setting('kilat.demo_waitlist', true), '')::int, 800), 0) as waitlist,
  -- what the local gateway twins sign with (billing::settings), so a replayed
  -- midtrans notification verifies against a local server.
  'SB-Mid-server-kilat-local-twin'::text as midtrans_key,
  'BRN-0000-0000000000001'::text as doku_client_id,
  'Kilat <noreply@demo.kilat.test>'::text as mail_from,
  'https://demo.kilat.test'::text as site;

create temp table demo_prices (
  plan public.subscription_plan primary key,
  amount bigint not null,
  -- monthly ai tokens; null is unlimited (ULTIMATE gets a notional budget
  -- below, people do not use infinity).
  ai_tokens bigint,
  label text not null
) on commit drop;

insert into demo_prices values
  ('BASIC', 49000, 10000, 'Basic'),
  ('PRO', 99000, 100000, 'Pro'),
  ('ULTIMATE', 249000, null, 'Ultimate');

-- browsers and places people use kilat from. android first, as in
-- indonesia; prefixes are indonesian access networks (telkomsel, indihome,
-- indosat, xl, smartfren, biznet, …) plus an office network.
create temp table demo_agents on commit drop as
select x.n::int, x.ua
from unnest(array[
  'Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; CPH2591) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 12; V2111) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-A256E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'
]) with ordinality as x(ua, n);

create temp table demo_networks on commit drop as
select x.n::int, x.prefix
from unnest(array[
  '114.124', '114.125', '114.5', '36.68', '36.72', '36.74', '36.79', '36.80', '36.85',
  '180.241', '180.244', '180.247', '180.251', '180.252', '182.253', '110.136', '110.137',
  '110.138', '125.160', '125.163', '125.164', '139.194', '139.195', '112.215', '120.188',
  '103.28', '103.47', '103.105', '202.67', '202.80', '140.213', '118.99', '158.140', '10.20'
]) with ordinality as x(prefix, n);


-- ---------------------------------------------------------------------------
-- the people
-- ---------------------------------------------------------------------------
-- signups grow about sixfold over the year (each month ~16% more than the
-- one before), during waking hours in jakarta. what shapes a person
-- (name, signup, whether and how they pay) is drawn here, in one fixed
-- order, so the same people come back under setseed.
create temp table demo_people on commit drop as
with names as (
  select
    array['Budi', 'Agus', 'Rizky', 'Andi', 'Dimas', 'Fajar', 'Hendra', 'Joko', 'Bayu', 'Arif',
          'Eko', 'Yoga', 'Reza', 'Fikri', 'Ilham', 'Hadi', 'Wahyu', 'Teguh', 'Gilang', 'Rudi',
          'Bambang', 'Aditya', 'Dani', 'Irfan', 'Rahmat', 'Surya', 'Taufik', 'Yusuf', 'Galih', 'Farhan'] as male,
    array['Siti', 'Dewi', 'Putri', 'Ayu', 'Rina', 'Sri', 'Wulan', 'Indah', 'Fitri', 'Nurul',
          'Ratna', 'Maya', 'Intan', 'Anisa', 'Dian', 'Citra', 'Mega', 'Novi', 'Ratih', 'Sinta',
          'Tika', 'Yuni', 'Kartika', 'Aulia', 'Nadia', 'Salsabila', 'Amelia', 'Rahma', 'Laras', 'Nabila'] as female,
    array['Santoso', 'Wijaya', 'Hidayat', 'Nugroho', 'Kusuma', 'Setiawan', 'Siregar', 'Nasution',
          'Harahap', 'Simanjuntak', 'Sihombing', 'Situmorang', 'Purba', 'Gunawan', 'Halim', 'Tanjung',
          'Rahman', 'Hakim', 'Permana', 'Ramadhan', 'Firmansyah', 'Kurniawan', 'Susanto', 'Wibowo',
          'Suryadi', 'Hartono', 'Hutapea', 'Sitompul', 'Manurung', 'Tambunan', 'Lubis', 'Daulay',
          'Pohan', 'Fauzi', 'Iskandar', 'Sulistyo', 'Budiman', 'Hasibuan', 'Marpaung', 'Pangaribuan',
          'Saputra', 'Pratama', 'Putra', 'Syahputra', 'Prasetyo'] as male_family,
    array['Santoso', 'Wijaya', 'Hidayat', 'Nugroho', 'Kusuma', 'Setiawan', 'Siregar', 'Nasution',
          'Harahap', 'Simanjuntak', 'Sihombing', 'Situmorang', 'Purba', 'Gunawan', 'Halim', 'Tanjung',
          'Rahman', 'Hakim', 'Permana', 'Ramadhan', 'Firmansyah', 'Kurniawan', 'Susanto', 'Wibowo',
          'Suryadi', 'Hartono', 'Hutapea', 'Sitompul', 'Manurung', 'Tambunan', 'Lubis', 'Daulay',
          'Pohan', 'Fauzi', 'Iskandar', 'Sulistyo', 'Budiman', 'Hasibuan', 'Marpaung', 'Pangaribuan',
          'Lestari', 'Utami', 'Maharani', 'Anggraini', 'Rahayu', 'Wulandari', 'Puspita', 'Safitri'] as female_family
),
draws as (
  select g.i,
         random() as r_when, random() as r_hour, random() as r_sex, random() as r_given,
         random() as r_family, random() as r_shape, random() as r_sep, random() as r_locale,
         random() as r_google, random() as r_confirm, random() as r_confirm_after, random() as r_seen,
         random() as r_avatar, random() as r_avatar_at, random() as r_net, random() as r_agent,
         random() as r_key, random() as r_conv, random() as r_plan, random() as r_upgrade,
         random() as r_upgrade_at, random() as r_prev, random() as r_cancel, random() as r_cancel_at,
         random() as r_len, random() as r_lapse_key, random() as r_lapse_at, random() as r_horizon,
         random() as r_ai, random() as r_ai_use
  from demo_settings s, generate_series(1, s.users) g(i)
),
named as (
  select d.*,
         case when d.r_sex < 0.5 then n.male[1 + floor(d.r_given * 30)::int]
              else n.female[1 + floor(d.r_given * 30)::int] end as given,
         -- one in twenty goes by a single name, as many indonesians do.
         case when d.r_shape < 0.05 then null
              when d.r_sex < 0.5 then n.male_family[1 + floor(d.r_family * 45)::int]
              else n.female_family[1 + floor(d.r_family * 48)::int] end as family,
         date_trunc('day', now() - (1 - ln(1 + 5 * d.r_when) / ln(6)) * interval '365 days', 'Asia/Jakarta')
           + interval '8 hours' + power(d.r_hour, 0.7) * interval '16 hours' as signup_raw
  from draws d, names n
),
shaped as (
  select x.*,
         -- a signup "later today" happened yesterday instead.
         case when x.signup_raw > now() - interval '2 minutes' then x.signup_raw - interval '1 day'
              else x.signup_raw end as signup_at,
         case when x.family is null then lower(x.given)
              else lower(x.given) || case when x.r_sep < 0.6 then '.' when x.r_sep < 0.85 then '' else '_' end
                   || lower(x.family) end as email_base
  from named x
)
select
  s.*,
  gen_random_uuid() as id,
  gen_random_uuid() as sub_id,
  -- a few signed up without a name and never gave one.
  case when s.r_shape > 0.96 then null else s.given || coalesce(' ' || s.family, '') end as full_name,
  s.email_base || case
                    when s.family is null then (86 + row_number() over w)::text
                    when row_number() over w = 1 then ''
                    else (row_number() over w)::text
                  end || '@demo.kilat.test' as email,
  case when s.r_locale < 0.78 then 'id' when s.r_locale < 0.96 then 'en' end as locale,
  s.r_google < 0.3 as google,
  -- google accounts arrive confirmed; one email signup in twelve never
  -- clicks the link (and so never signs in), and the newest may not have yet.
  case when s.r_google < 0.3 then s.signup_at
       when s.r_confirm < 0.085 then null
       when s.signup_at + (0.5 + 120 * power(s.r_confirm_after, 3)) * interval '1 minute' > now() then null
       else s.signup_at + (0.5 + 120 * power(s.r_confirm_after, 3)) * interval '1 minute' end as confirmed_at,
  1 + floor(s.r_net * (select count(*) from demo_networks))::int as network,
  -- a person mostly uses one browser: theirs.
  1 + floor(s.r_agent * (select count(*) from demo_agents))::int as agent,
  extract(epoch from now() - s.signup_at)::float8 / (30.44 * 86400) as tenure_months,
  'free'::text as kind,
  'FREE'::public.subscription_plan as plan,
  null::public.subscription_plan as prev_plan,
  null::int as upgrade_at,
  null::timestamptz as conv_at,
  0 as months,
  false as cancels,
  null::timestamptz as canceled_at,
  null::timestamptz as lapsed_at,
  null::timestamptz as avatar_at,
  null::timestamptz as last_seen,
  0 as name_edits,
  null::text as signup_name
from shaped s
window w as (partition by s.email_base order by s.i);

alter table demo_people add primary key (i);
create unique index on demo_people (id);

-- pictures: three in ten confirmed people upload one, some time after
-- joining.
update demo_people p
set avatar_at = p.confirmed_at + power(p.r_avatar_at, 2) * (now() - p.confirmed_at)
where p.confirmed_at is not null and p.r_avatar < 0.3;


-- ---------------------------------------------------------------------------
-- who pays
-- ---------------------------------------------------------------------------
-- plans in force today: 70% FREE, 15% BASIC, 10% PRO, 5% ULTIMATE. payers
-- are drawn a little more often from older accounts (they had longer to
-- convert); they start paying days after signing up and have paid every
-- month since. a paid month is one payment, so the months paid (PAID +
-- REFUNDED payments) aim at 82% of kilat.demo_payments; the rest are unpaid
-- checkouts.
create temp table demo_plan on commit drop as
select s.users, s.payments, s.audit,
       round(0.82 * s.payments)::int as paid_months,
       least(round(0.30 * s.users)::int, round(0.82 * s.payments)::int,
             (select count(*) from demo_people where confirmed_at is not null)::int) as active_payers,
       0 as chain,
       0 as refunded,
       0 as pending,
       0 as failed,
       0 as expired,
       0 as fill
from demo_settings s;

with ranked as (
  select p.i, p.signup_at, p.r_conv, p.r_plan,
         row_number() over (order by power(p.r_key, 1.0 / sqrt(0.5 + p.tenure_months)) desc, p.i) as rk
  from demo_people p
  where p.confirmed_at is not null
),
chosen as (
  select r.*, row_number() over (order by r.r_plan, r.i) as plan_rank,
         r.signup_at + least((now() - r.signup_at) * 0.8,
                             greatest(interval '20 minutes', -ln(1 - r.r_conv) * interval '5 days')) as conv_at
  from ranked r, demo_plan c
  where r.rk <= c.active_payers
)
update demo_people p
set kind = 'active',
    plan = case when x.plan_rank <= round(c.active_payers * 0.5) then 'BASIC'
                when x.plan_rank <= round(c.active_payers * 0.5) + round(c.active_payers / 3.0) then 'PRO'
                else 'ULTIMATE' end::public.subscription_plan,
    conv_at = x.conv_at,
    -- paid on converting and every month since: the period in force ends
    -- within the coming month.
    months = (extract(year from age(now(), x.conv_at)) * 12 + extract(month from age(now(), x.conv_at)))::int + 1,
    cancels = p.r_cancel < 0.1
from chosen x, demo_plan c
where p.i = x.i;

-- a small kilat.demo_payments: the payers converted more recently instead.
with total as (
  select sum(months)::float8 as months from demo_people where kind = 'active'
)
update demo_people p
set months = greatest(1, round(p.months * c.paid_months / t.months)::int),
    conv_at = p.conv_at + (p.months - greatest(1, round(p.months * c.paid_months / t.months)::int)) * interval '1 month'
from demo_plan c, total t
where p.kind = 'active' and t.months > c.paid_months;

-- a third of the PRO and ULTIMATE payers started on a smaller plan and
-- upgraded at a renewal.
update demo_people p
set prev_plan = case when p.plan = 'PRO' or p.r_prev < 0.4 then 'BASIC' else 'PRO' end::public.subscription_plan,
    upgrade_at = 1 + floor(p.r_upgrade_at * (p.months - 1))::int
where p.kind = 'active' and p.plan <> 'BASIC' and p.months >= 3 and p.r_upgrade < 0.35;

-- former payers: paid for a while, then let the plan run out (four in ten
-- after cancelling), mostly on BASIC. they are FREE again today and fill the
-- paid months the current payers leave. each stopped at some point up to
-- six months ago, so churn tapers off instead of ending the day before
-- yesterday; with most of the early accounts among them and today's payers
-- on bigger plans, monthly revenue keeps growing even where the number of
-- paid months levels off.
with converted as (
  select p.i, p.tenure_months, p.r_len, p.r_lapse_key, p.r_horizon,
         p.signup_at + least((now() - p.signup_at) * 0.8,
                             greatest(interval '20 minutes', -ln(1 - p.r_conv) * interval '5 days')) as conv_at
  from demo_people p
  where p.kind = 'free' and p.confirmed_at is not null
),
capped as (
  -- whole months that fit between converting and when they stopped.
  select c.*,
         (extract(year from age(c.horizon, c.conv_at)) * 12 + extract(month from age(c.horizon, c.conv_at)))::int as cap
  from (
    select v.*, now() - interval '1 hour' - v.r_horizon * interval '180 days' as horizon
    from converted v
  ) c
),
candidates as (
  select c.i, c.conv_at,
         least(c.cap, 1 + floor(power(c.r_len, 0.4) * c.cap)::int) as natural_months,
         power(c.r_lapse_key, 1.0 / (0.15 + c.tenure_months)) as key
  from capped c
  where c.cap >= 1
),
needed as (
  select greatest(c.paid_months - coalesce((select sum(months) from demo_people where kind = 'active'), 0), 0) as months
  from demo_plan c
),
running as (
  select k.*, sum(k.natural_months) over (order by k.key desc, k.i) as upto
  from candidates k
),
taken as (
  select r.i, r.conv_at, least(r.natural_months, (n.months - (r.upto - r.natural_months))::int) as months
  from running r, needed n
  where r.upto - r.natural_months < n.months
)
update demo_people p
set kind = 'lapsed',
    plan = case when p.r_plan < 0.72 then 'BASIC' when p.r_plan < 0.94 then 'PRO' else 'ULTIMATE' end::public.subscription_plan,
    conv_at = t.conv_at,
    months = t.months,
    cancels = p.r_cancel < 0.4,
    -- the lapse job runs every minute.
    lapsed_at = t.conv_at + t.months * interval '1 month' + (5 + 50 * p.r_lapse_at) * interval '1 second'
from taken t
where p.i = t.i;


-- ---------------------------------------------------------------------------
-- paid months
-- ---------------------------------------------------------------------------
-- one row per PAID payment, as grant_subscription_month would have seen
-- it: the first month starts the plan (so does an upgrade, paid when the
-- old period ran out); every renewal, paid a day or two early after the
-- reminder, extends it by a month from the period's end.
create temp table demo_chain on commit drop as
select
  (row_number() over (order by p.i, j.j))::int as k,
  p.i,
  p.id as user_id,
  p.sub_id,
  j.j,
  case when j.j < p.upgrade_at then p.prev_plan else p.plan end as plan,
  case when j.j = 0 or j.j = p.upgrade_at then p.conv_at + j.j * interval '1 month'
       else p.conv_at + j.j * interval '1 month' - (0.1 + 2.3 * random()) * interval '1 day' end as paid_at,
  case when j.j = 0 or j.j = p.upgrade_at then 'started' else 'extended' end as how,
  case when j.j = 0 then 'FREE'::public.subscription_plan
       when j.j = p.upgrade_at then p.prev_plan
       when j.j < p.upgrade_at then p.prev_plan
       else p.plan end as from_plan,
  case when j.j = 0 then null else p.conv_at + j.j * interval '1 month' end as from_period_end,
  p.conv_at + (j.j + 1) * interval '1 month' as period_end,
  j.j = p.months - 1 as is_last,
  null::timestamptz as refunded_at
from demo_people p
cross join lateral generate_series(0, p.months - 1) j(j)
where p.months > 0;

alter table demo_chain add primary key (k);

-- cancelling keeps the plan to the end of the period paid for: today's
-- cancellers some time since their last payment, former payers some time
-- in their last month.
update demo_people p
set canceled_at = c.paid_at + case when p.kind = 'active' then p.r_cancel_at * (now() - c.paid_at)
                                   else p.r_cancel_at * (c.period_end - c.paid_at) end
from demo_chain c
where c.i = p.i and c.is_last and p.cancels;

-- refunds: a paid month given back (the admin reviews each one), a few days
-- to two weeks after paying.
update demo_plan c
set chain = (select count(*) from demo_chain),
    refunded = least(round(0.02 * c.payments)::int,
                     (select count(*) from demo_chain where paid_at < now() - interval '16 days')::int);

update demo_chain ch
set refunded_at = ch.paid_at + (2 + 12 * random()) * interval '1 day'
where ch.k in (
  select x.k from demo_chain x where x.paid_at < now() - interval '16 days'
  order by random(), x.k
  limit (select refunded from demo_plan)
);

-- the unpaid checkouts: 3% still PENDING (today's), 8% FAILED, and the
-- rest abandoned until they EXPIRED (7% when the paid months reach their
-- 82%; more when kilat.demo_payments asks for more than the accounts could
-- have paid for).
update demo_plan c
set pending = least(round(0.03 * c.payments)::int,
                    (select count(*) from demo_people
                     where confirmed_at is not null and signup_at < now() - interval '10 minutes')::int,
                    greatest(c.payments - c.chain, 0));

update demo_plan c
set failed = least(round(0.08 * c.payments)::int, greatest(c.payments - c.chain - c.pending, 0));

update demo_plan c
set expired = greatest(c.payments - c.chain - c.pending - c.failed, 0);


-- ---------------------------------------------------------------------------
-- all payments, before they get their gateway
-- ---------------------------------------------------------------------------
create temp table demo_checkouts on commit drop as
-- the paid months.
select ch.i, ch.plan,
       case when ch.refunded_at is null then 'PAID' else 'REFUNDED' end::public.payment_status as status,
       null::timestamptz as created_at, ch.paid_at, ch.refunded_at, ch.k as chain_k
from demo_chain ch
union all
-- open checkouts of the last day, at most one per person: the renewal of
-- the plan in force, or a first try at one.
select x.i,
       case when x.kind = 'active' and x.r_a < 0.7 then x.plan
            when x.r_b < 0.55 then 'BASIC' when x.r_b < 0.85 then 'PRO' else 'ULTIMATE' end::public.subscription_plan,
       'PENDING',
       now() - interval '2 minutes' - x.r_c * least(interval '20 hours', now() - x.signup_at - interval '5 minutes'),
       null, null, null
from (
  select p.i, p.kind, p.plan, p.signup_at, random() as r_a, random() as r_b, random() as r_c
  from demo_people p
  where p.confirmed_at is not null and p.signup_at < now() - interval '10 minutes'
  order by random(), p.i
  limit (select pending from demo_plan)
) x
union all
-- failed and expired checkouts: six in ten from payers (a try that failed
-- before one that worked), the rest from people who never paid in the end.
select coalesce(pc.i, pf.i),
       coalesce(pc.plan,
                case when x.r_plan < 0.55 then 'BASIC' when x.r_plan < 0.85 then 'PRO' else 'ULTIMATE' end::public.subscription_plan),
       x.status,
       case when pc.k is not null and x.status = 'FAILED'
              then pc.paid_at - (25 + 1800 * x.r_when) * interval '1 minute'
            when pc.k is not null
              then pc.paid_at - (25 + 48 * x.r_when) * interval '1 hour'
            when x.status = 'FAILED'
              then pf.signup_at + x.r_when * (now() - pf.signup_at - interval '30 minutes')
            else pf.signup_at + x.r_when * (now() - pf.signup_at - interval '26 hours') end,
       null, null, null
from (
  select g.n,
         case when g.n <= c.failed then 'FAILED' else 'EXPIRED' end::public.payment_status as status,
         random() as r_source, random() as r_pick, random() as r_plan, random() as r_when
  from demo_plan c, generate_series(1, c.failed + c.expired) g(n)
) x
cross join (
  select count(*)::int as n
  from demo_chain ch join demo_people p on p.i = ch.i
  where ch.paid_at > p.signup_at + interval '4 days'
) cn
cross join (select count(*)::int as n from demo_people where confirmed_at is not null and signup_at < now() - interval '2 days') fn
left join (
  select ch.*, (row_number() over (order by ch.k))::int as pick
  from demo_chain ch join demo_people p on p.i = ch.i
  where ch.paid_at > p.signup_at + interval '4 days'
) pc on pc.pick = 1 + floor(x.r_pick * cn.n)::int and (x.r_source < 0.6 or fn.n = 0)
left join (
  select p.*, (row_number() over (order by p.i))::int as pick
  from demo_people p
  where p.confirmed_at is not null and p.signup_at < now() - interval '2 days'
) pf on pf.pick = 1 + floor(x.r_pick * fn.n)::int and not (x.r_source < 0.6 or fn.n = 0)
where coalesce(pc.i, pf.i) is not null;

-- each checkout's gateway (midtrans six in ten, doku four), how the person
-- paid, when, and how the gateway's word arrived: by notification
-- ("webhook") or by the reconciliation job asking ("reconciliation").
create temp table demo_pay on commit drop as
with drawn as (
  select c.*, p.id as user_id, p.sub_id, p.signup_at, pr.amount,
         random() as r_provider, random() as r_method, random() as r_delay, random() as r_tx,
         random() as r_close, random() as r_via, random() as r_fail, random() as r_event,
         random() as r_hex, random() as r_bank, random() as r_va, random() as r_err, random() as r_card
  from demo_checkouts c
  join demo_people p on p.i = c.i
  join demo_prices pr on pr.plan = c.plan
),
methods as (
  select d.*,
         case when d.r_provider < 0.6 then 'MIDTRANS' else 'DOKU' end::public.payment_provider as provider,
         case when d.r_provider < 0.6 then
                case when d.r_method < 0.30 then 'qris' when d.r_method < 0.58 then 'bank_transfer'
                     when d.r_method < 0.78 then 'gopay' when d.r_method < 0.90 then 'credit_card'
                     else 'shopeepay' end
              else
                case when d.r_method < 0.25 then 'VIRTUAL_ACCOUNT_BCA' when d.r_method < 0.40 then 'VIRTUAL_ACCOUNT_BANK_MANDIRI'
                     when d.r_method < 0.53 then 'VIRTUAL_ACCOUNT_BRI' when d.r_method < 0.78 then 'QRIS'
                     when d.r_method < 0.87 then 'EMONEY_OVO' when d.r_method < 0.95 then 'EMONEY_SHOPEE_PAY'
                     else 'CREDIT_CARD' end
         end as method
  from drawn d
),
paced as (
  -- from opening the checkout to the money arriving: seconds for cards,
  -- a few minutes for wallets and qris, up to hours for a bank transfer.
  select m.*,
         case when m.method in ('credit_card', 'CREDIT_CARD') then (20 + 70 * m.r_delay) * interval '1 second'
              when m.method = 'bank_transfer' or m.method like 'VIRTUAL_ACCOUNT%'
                then interval '2 minutes' + power(m.r_delay, 3) * interval '8 hours'
              else (25 + 240 * power(m.r_delay, 2)) * interval '1 second' end as pay_delay
  from methods m
),
opened as (
  select x.*,
         coalesce(x.created_at, x.paid_at - least(x.pay_delay, (x.paid_at - x.signup_at) * 0.5)) as opened_at
  from paced x
),
settled as (
  select o.*,
         -- when the person picked a way to pay at the gateway.
         case when o.paid_at is not null
                then o.opened_at + least((15 + 45 * o.r_tx) * interval '1 second', (o.paid_at - o.opened_at) / 2)
              else o.opened_at + (15 + 45 * o.r_tx) * interval '1 second' end as tx_at,
         o.opened_at + interval '24 hours' as expires_at,
         case
           when o.status in ('PAID', 'REFUNDED') and o.provider = 'DOKU' and o.r_via < 0.1
                and o.paid_at - o.opened_at > interval '6 minutes' then 'reconciliation'
           when o.status = 'EXPIRED' and o.provider = 'MIDTRANS' and o.r_via >= 0.7 then 'reconciliation'
           when o.status = 'EXPIRED' and o.provider = 'DOKU' and o.r_via >= 0.5 then 'reconciliation'
           else 'webhook' end as via
  from opened o
)
select
  gen_random_uuid() as id,
  s.i, s.user_id, s.sub_id, s.plan, s.amount, s.status, s.provider, s.method, s.chain_k,
  s.opened_at as created_at, s.tx_at, s.paid_at, s.refunded_at, s.expires_at, s.via,
  case s.status
    when 'PAID' then s.paid_at
    when 'REFUNDED' then s.refunded_at
    when 'FAILED' then s.tx_at + (30 + 1140 * s.r_close) * interval '1 second'
    when 'EXPIRED' then s.expires_at + case when s.via = 'webhook' then 60 * s.r_close * interval '1 second'
                                          else interval '10 minutes' + 60 * s.r_close * interval '1 second' end
  end as closed_at,
  case when s.provider = 'DOKU' then 'FAILED'
       when s.method = 'credit_card' or s.r_fail < 0.4 then 'deny'
       when s.r_fail < 0.7 then 'cancel'
       else 'failure' end as fail_word,
  case when s.provider = 'DOKU' then 'SUCCESS'
       when s.method = 'credit_card' then 'capture'
       else 'settlement' end as paid_word,
  -- an open checkout may already have a notification: midtrans says
  -- "pending" once a way to pay is chosen; and some had their payment's
  -- notification fail while the database was unreachable — the gateway is
  -- still retrying, and an admin may replay it.
  case when s.status <> 'PENDING' then null
       when s.r_event < 0.5 and now() - s.opened_at >= interval '40 minutes' then 'failed'
       when s.provider = 'MIDTRANS' and s.method <> 'credit_card' and s.r_event < 0.85 then 'pending'
       else 'none' end as pending_event,
  s.opened_at + least(s.pay_delay, greatest(now() - s.opened_at - interval '36 minutes', interval '0 seconds')) as fail_first_at,
  case when s.r_err < 0.55 then 'error communicating with database: Connection reset by peer (os error 104)'
       when s.r_err < 0.8 then 'pool timed out while waiting for an open connection'
       when s.r_err < 0.92 then 'error communicating with database: connection reset by peer'
       else 'error returned from database: canceling statement due to statement timeout' end as fail_error,
  'KK-' || floor(extract(epoch from s.opened_at) * 1000)::bigint::text || '-'
    || lpad(to_hex(floor(s.r_hex * 4294967296)::bigint), 8, '0') as external_id,
  gen_random_uuid() as checkout_token,
  gen_random_uuid()::text as transaction_id,
  gen_random_uuid()::text as request_id,
  case when s.method = 'bank_transfer' then (array['bca', 'bni', 'bri', 'permata'])[1 + floor(s.r_bank * 4)::int] end as va_bank,
  case when s.method = 'bank_transfer' then lpad(floor(s.r_va * 1e11)::bigint::text, 11, '0')
       when s.method like 'VIRTUAL_ACCOUNT%' then '8' || lpad(floor(s.r_va * 1e15)::bigint::text, 15, '0') end as va_number,
  case when s.method in ('credit_card', 'CREDIT_CARD')
       then (array['481111', '521111', '410505', '457508', '552133'])[1 + floor(s.r_card * 5)::int] || '11-'
            || lpad(floor(s.r_va * 10000)::int::text, 4, '0') end as masked_card,
  case when s.method = 'credit_card' then (array['bni', 'bca', 'mandiri', 'cimb'])[1 + floor(s.r_bank * 4)::int] end as card_bank,
  case s.method
    when 'VIRTUAL_ACCOUNT_BCA' then 'VIRTUAL_ACCOUNT'
    when 'VIRTUAL_ACCOUNT_BANK_MANDIRI' then 'VIRTUAL_ACCOUNT'
    when 'VIRTUAL_ACCOUNT_BRI' then 'VIRTUAL_ACCOUNT'
    when 'QRIS' then 'QRIS'
    when 'EMONEY_OVO' then 'EMONEY'
    when 'EMONEY_SHOPEE_PAY' then 'EMONEY'
    when 'CREDIT_CARD' then 'CREDIT_CARD' end as doku_service,
  case s.method
    when 'VIRTUAL_ACCOUNT_BCA' then 'BCA'
    when 'VIRTUAL_ACCOUNT_BANK_MANDIRI' then 'BANK_MANDIRI'
    when 'VIRTUAL_ACCOUNT_BRI' then 'BRI'
    when 'QRIS' then 'NOBU'
    when 'EMONEY_OVO' then 'OVO'
    when 'EMONEY_SHOPEE_PAY' then 'SHOPEE_PAY'
    when 'CREDIT_CARD' then 'BNI' end as doku_acquirer,
  0 as fail_attempts,
  null::timestamptz as fail_last_at
from settled s;

-- the failed notifications' retries so far: midtrans retries after 2, 10,
-- 30, 90 and 210 minutes, doku after 30 minutes, 6 hours and 12 hours.
-- every delivery claimed the event again and failed the same way.
update demo_pay p
set fail_attempts = 1 + r.retries,
    fail_last_at = p.fail_first_at + coalesce(r.last_offset, 0) * interval '1 minute'
from demo_pay q
cross join lateral (
  select count(*)::int as retries, max(o) as last_offset
  from unnest(case when q.provider = 'MIDTRANS' then array[2, 12, 42, 132, 342] else array[30, 390, 1110] end) o
  where now() - q.fail_first_at >= o * interval '1 minute'
) r
where p.id = q.id and p.pending_event = 'failed';


-- ---------------------------------------------------------------------------
-- what people did themselves
-- ---------------------------------------------------------------------------
-- when each person last signed in: recently for most, within the last ten
-- days for everyone paying now.
update demo_people p
set last_seen = greatest(p.confirmed_at + power(p.r_seen, 0.35) * (now() - p.confirmed_at),
                         case when p.kind = 'active' then now() - p.r_seen * interval '10 days' end)
where p.confirmed_at is not null;

-- the audit entries the payments and subscriptions imply come first; the
-- rest of kilat.demo_audit is people looking after their accounts: name
-- changes (20%), pictures (12%), cancelling and resuming (4%), email changes
-- (2%), a couple of role changes, and password changes for what is left.
update demo_plan c
set fill = greatest(c.audit - (
  2 * (select count(*) from demo_chain)
  + (select count(*) from demo_pay where status in ('REFUNDED', 'FAILED', 'EXPIRED'))
  + (select count(*) from demo_people where kind = 'lapsed')
  + (select count(*) from demo_people where canceled_at is not null)
  + (select count(*) from demo_people where avatar_at is not null)), 0)::int;

-- name changes: whoever changed their name signed up with another one (or
-- none), which is what raw_user_meta_data still says.
with named as (
  select p.i, (row_number() over (order by p.i))::int as pick
  from demo_people p
  where p.confirmed_at is not null and p.full_name is not null
),
picks as (
  select 1 + floor(random() * n.n)::int as pick
  from demo_plan c
  cross join (select count(*)::int as n from named) n
  cross join generate_series(1, round(0.2 * c.fill)::int)
  where n.n > 0
),
counted as (
  select nm.i, count(*)::int as edits
  from picks pk join named nm on nm.pick = pk.pick
  group by nm.i
)
update demo_people p
set name_edits = c.edits
from counted c
where p.i = c.i;

update demo_people p
set signup_name = case
  when p.name_edits = 0 then p.full_name
  -- google always sends a name; an email signup may come without one.
  when x.r < 0.3 and not p.google then null
  when x.r < 0.65 or split_part(p.full_name, ' ', 1) = p.full_name then lower(p.full_name)
  else split_part(p.full_name, ' ', 1) end
from (select i, random() as r from demo_people order by i) x
where x.i = p.i;

-- each change in order: the signup name, then SHOUTED and lower-cased
-- attempts, then the name of today.
create temp table demo_name_edits on commit drop as
with edits as (
  select p.i, p.id, p.email, p.full_name, p.signup_name, p.name_edits, p.confirmed_at,
         p.confirmed_at + random() * (p.last_seen - p.confirmed_at) as at
  from demo_people p
  cross join lateral generate_series(1, p.name_edits) g
  where p.name_edits > 0
),
ordered as (
  select e.*, (row_number() over (partition by e.i order by e.at))::int as t
  from edits e
)
select o.i, o.id, o.email, o.at, o.t,
       case when o.t = 1 then o.signup_name
            when (o.t - 1) % 2 = 1 then upper(o.full_name)
            else lower(o.full_name) end as before_name,
       case when o.t = o.name_edits then o.full_name
            when o.t % 2 = 1 then upper(o.full_name)
            else lower(o.full_name) end as after_name
from ordered o;


-- ---------------------------------------------------------------------------
-- accounts, profiles, subscriptions, roles
-- ---------------------------------------------------------------------------
-- one statement: the signup triggers fire at its end, find each profile,
-- subscription and role present and leave them be.
with last_paid as (
  select ch.i, ch.paid_at from demo_chain ch where ch.is_last
),
last_named as (
  select e.i, max(e.at) as at from demo_name_edits e group by e.i
),
new_users as (
  insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, confirmation_sent_at,
    last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
    confirmation_token, recovery_token, email_change_token_new, email_change, is_sso_user, is_anonymous
  )
  select
    '00000000-0000-0000-0000-000000000000'::uuid, p.id, 'authenticated', 'authenticated', p.email,
    -- no password: demo accounts are for looking at, not for signing in.
    '',
    p.confirmed_at,
    case when not p.google then p.signup_at end,
    p.last_seen,
    jsonb_build_object(
      'provider', case when p.google then 'google' else 'email' end,
      'providers', jsonb_build_array(case when p.google then 'google' else 'email' end),
      'demo', true),
    jsonb_strip_nulls(jsonb_build_object('full_name', p.signup_name, 'locale', p.locale))
      || case when p.google then jsonb_strip_nulls(jsonb_build_object(
           'name', p.signup_name, 'email', p.email, 'email_verified', true,
           'iss', 'https://accounts.google.com',
           'sub', (100000000000000000000 + p.i * 7919)::text,
           'provider_id', (100000000000000000000 + p.i * 7919)::text))
         else '{}'::jsonb end,
    p.signup_at,
    coalesce(p.last_seen, p.signup_at),
    '', '', '', '', false, false
  from demo_people p
  order by p.signup_at
  returning id
),
new_profiles as (
  insert into public.profiles (id, full_name, metadata, created_at, updated_at, avatar_path, avatar_updated_at, locale)
  select p.id, p.full_name, '{}'::jsonb, p.signup_at,
         greatest(p.signup_at, p.avatar_at, ln.at),
         -- the trail says they uploaded pictures, but no file exists in storage:
         -- the profile shows initials rather than a broken image.
         null, null,
         p.locale
  from demo_people p
  left join last_named ln on ln.i = p.i
  returning id
),
new_subscriptions as (
  insert into public.subscriptions (
    id, user_id, plan, status, current_period_start, current_period_end,
    cancel_at_period_end, canceled_at, created_at, updated_at
  )
  select p.sub_id, p.id,
         case when p.kind = 'active' then p.plan else 'FREE' end,
         'active',
         case when p.kind = 'active' then p.conv_at + coalesce(p.upgrade_at, 0) * interval '1 month' end,
         case when p.kind = 'active' then p.conv_at + p.months * interval '1 month' end,
         p.kind = 'active' and p.cancels,
         case when p.kind = 'active' then p.canceled_at end,
         p.signup_at,
         case p.kind when 'active' then greatest(lp.paid_at, p.canceled_at)
                     when 'lapsed' then p.lapsed_at
                     else p.signup_at end
  from demo_people p
  left join last_paid lp on lp.i = p.i
  returning id
),
new_roles as (
  insert into public.user_roles (user_id, role, created_at, updated_at)
  select p.id, 'member', p.signup_at, p.signup_at
  from demo_people p
  returning user_id
)
select (select count(*) from new_users) as users,
       (select count(*) from new_profiles) as profiles,
       (select count(*) from new_subscriptions) as subscriptions,
       (select count(*) from new_roles) as roles;


-- ---------------------------------------------------------------------------
-- payments
-- ---------------------------------------------------------------------------
-- gateway_metadata holds what settle_payment merged in: the checkout token,
-- then the details of each report that moved the payment (midtrans:
-- transaction id, times, fraud status, status code; doku: transaction date,
-- original request id, service, acquirer), failure_reason for FAILED,
-- needs_review for REFUNDED, reconciled_at when the reconciliation job asked.
insert into public.payments (
  id, user_id, subscription_id, plan, amount, currency, provider, external_id, status,
  payment_type, paid_at, gateway_metadata, checkout_url, expires_at, created_at, updated_at
)
select
  x.id, x.user_id, x.sub_id, x.plan, x.amount, 'IDR', x.provider, x.external_id, x.status,
  case when x.status = 'PENDING' or x.via = 'reconciliation' and x.status = 'EXPIRED' then null else x.method end,
  x.paid_at,
  jsonb_build_object('checkout_token', x.token)
    || case when x.status in ('PAID', 'REFUNDED') then x.details_paid else '{}'::jsonb end
    || case when x.status = 'REFUNDED' then x.details_refund || '{"needs_review": true}'::jsonb else '{}'::jsonb end
    || case when x.status = 'FAILED'
            then x.details_fail || jsonb_build_object('failure_reason', 'the gateway reported ' || x.fail_word)
            else '{}'::jsonb end
    || case when x.status = 'EXPIRED' and x.via = 'webhook' then x.details_expire else '{}'::jsonb end
    || case when x.reconciled_at is not null then jsonb_build_object('reconciled_at', x.reconciled_at) else '{}'::jsonb end,
  case when x.provider = 'MIDTRANS' then 'https://app.sandbox.midtrans.com/snap/v4/redirection/' || x.token
       else 'https://sandbox.doku.com/checkout-link-v2/' || x.token end,
  x.expires_at,
  x.created_at,
  coalesce(x.closed_at, x.reconciled_at, x.created_at)
from (
  select p.*,
         case when p.provider = 'MIDTRANS' then p.checkout_token::text
              else replace(p.checkout_token::text, '-', '') end as token,
         case when p.via = 'reconciliation' then p.closed_at - interval '1 second'
              when p.status = 'PENDING' and p.created_at < now() - interval '5 minutes'
                then now() - random() * interval '60 seconds' end as reconciled_at,
         case when p.provider = 'MIDTRANS' then jsonb_strip_nulls(jsonb_build_object(
                'transaction_id', p.transaction_id,
                'transaction_time', to_char(p.tx_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS'),
                'settlement_time', case when p.paid_word = 'settlement' then to_char(p.paid_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS') end,
                'fraud_status', 'accept',
                'status_code', '200',
                'status_message', 'midtrans payment notification'))
              else jsonb_build_object(
                'transaction_date', to_char(p.paid_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'original_request_id', p.request_id,
                'service', p.doku_service,
                'acquirer', p.doku_acquirer) end as details_paid,
         case when p.provider = 'MIDTRANS' then jsonb_build_object(
                'transaction_id', p.transaction_id,
                'transaction_time', to_char(p.tx_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS'),
                'status_code', '200',
                'status_message', 'midtrans payment notification')
              else jsonb_build_object(
                'transaction_date', to_char(p.refunded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'original_request_id', p.request_id,
                'service', p.doku_service,
                'acquirer', p.doku_acquirer) end as details_refund,
         case when p.provider = 'MIDTRANS' then jsonb_build_object(
                'transaction_id', p.transaction_id,
                'transaction_time', to_char(p.tx_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS'),
                'fraud_status', case when p.fail_word = 'deny' then 'deny' else 'accept' end,
                'status_code', '202',
                'status_message', 'midtrans payment notification')
              else jsonb_build_object(
                'transaction_date', to_char(p.closed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'original_request_id', p.request_id,
                'service', p.doku_service,
                'acquirer', p.doku_acquirer) end as details_fail,
         case when p.provider = 'MIDTRANS' then jsonb_build_object(
                'transaction_id', p.transaction_id,
                'transaction_time', to_char(p.tx_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS'),
                'status_code', '407',
                'status_message', 'midtrans payment notification')
              else jsonb_build_object(
                'transaction_date', to_char(p.closed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'original_request_id', p.request_id,
                'service', p.doku_service,
                'acquirer', p.doku_acquirer) end as details_expire
  from demo_pay p
) x
order by x.created_at;


-- ---------------------------------------------------------------------------
-- the webhook ledger
-- ---------------------------------------------------------------------------
-- every gateway word about a payment, keyed as the server keys it:
--   midtrans  <order id>:<transaction_status>:<status_code> (a notification
--             and a status check of the same status are one event);
--   doku      the notification's Request-Id, or status:<order id>:<status>
--             for the reconciliation job's status checks.
-- "apply" is the report that moved the payment (processed when the payment
-- changed); "keep" one that changed nothing (midtrans' "pending", a card's
-- settlement after its capture, doku's notification after the
-- reconciliation already settled it); "failed" a notification of an open
-- checkout that could not be processed (see pending_event).
create temp table demo_events on commit drop as
select p.*, e.word, e.code, e.at, e.role, e.channel,
       random() as r_lag, random() as r_retry, random() as r_ip
from demo_pay p
cross join lateral (values
  -- midtrans
  ('pending', '201',
   case when p.provider = 'MIDTRANS' and p.method <> 'credit_card'
             and (p.status in ('PAID', 'REFUNDED', 'FAILED') or (p.status = 'EXPIRED' and p.via = 'webhook')
                  or p.pending_event in ('pending', 'failed'))
        then p.tx_at + interval '3 seconds' end, 'keep', 'webhook'),
  (p.paid_word, '200',
   case when p.provider = 'MIDTRANS' and p.status in ('PAID', 'REFUNDED') then p.paid_at end, 'apply', 'webhook'),
  ('settlement', '200',
   case when p.provider = 'MIDTRANS' and p.method = 'credit_card' and p.status in ('PAID', 'REFUNDED')
             and p.paid_at + interval '26 hours' < least(now(), coalesce(p.refunded_at, now()))
        then date_trunc('day', p.paid_at + interval '1 day', 'Asia/Jakarta') + interval '2 hours' end, 'keep', 'webhook'),
  ('refund', '200',
   case when p.provider = 'MIDTRANS' and p.status = 'REFUNDED' then p.refunded_at end, 'apply', 'webhook'),
  (p.fail_word, '202',
   case when p.provider = 'MIDTRANS' and p.status = 'FAILED' then p.closed_at end, 'apply', 'webhook'),
  ('expire', '407',
   case when p.provider = 'MIDTRANS' and p.status = 'EXPIRED' and p.via = 'webhook' then p.closed_at end, 'apply', 'webhook'),
  ('unpaid_past_expiry', '',
   case when p.provider = 'MIDTRANS' and p.status = 'EXPIRED' and p.via = 'reconciliation' then p.closed_at end, 'apply', 'check'),
  (p.paid_word, '200',
   case when p.provider = 'MIDTRANS' and p.pending_event = 'failed' then p.fail_first_at end, 'failed', 'webhook'),
  -- doku
  ('SUCCESS', null,
   case when p.provider = 'DOKU' and p.status in ('PAID', 'REFUNDED') then p.paid_at end, 'apply',
   case when p.via = 'reconciliation' then 'check' else 'webhook' end),
  ('SUCCESS', null,
   case when p.provider = 'DOKU' and p.status in ('PAID', 'REFUNDED') and p.via = 'reconciliation'
             and p.paid_at + interval '45 minutes' < now()
        then p.paid_at + interval '4 minutes' end, 'keep', 'webhook'),
  ('REFUNDED', null,
   case when p.provider = 'DOKU' and p.status = 'REFUNDED' then p.refunded_at end, 'apply', 'webhook'),
  ('FAILED', null,
   case when p.provider = 'DOKU' and p.status = 'FAILED' then p.closed_at end, 'apply', 'webhook'),
  ('EXPIRED', null,
   case when p.provider = 'DOKU' and p.status = 'EXPIRED' and p.via = 'webhook' then p.closed_at end, 'apply', 'webhook'),
  ('unpaid_past_expiry', null,
   case when p.provider = 'DOKU' and p.status = 'EXPIRED' and p.via = 'reconciliation' then p.closed_at end, 'apply', 'check'),
  ('SUCCESS', null,
   case when p.provider = 'DOKU' and p.pending_event = 'failed' then p.fail_first_at end, 'failed', 'webhook')
) e(word, code, at, role, channel)
where e.at is not null;

insert into public.webhook_events (
  provider, event_id, event_type, order_id, payload, status, attempts, last_error,
  claim_token, locked_at, received_at, processed_at
)
select
  x.provider, x.event_id, x.word, x.external_id,
  case
    when x.channel = 'check' then jsonb_build_object(
      'checked_at', extract(epoch from x.at)::bigint,
      'status', x.word,
      'amount', case when x.word = 'unpaid_past_expiry' then null else x.amount end,
      'details', case when x.word = 'unpaid_past_expiry' then '{}'::jsonb
                      else jsonb_build_object(
                        'transaction_date', to_char(x.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                        'original_request_id', x.request_id,
                        'service', x.doku_service,
                        'acquirer', x.doku_acquirer) end)
    when x.provider = 'MIDTRANS' then jsonb_build_object(
      'body', jsonb_strip_nulls(jsonb_build_object(
        'transaction_time', to_char(x.tx_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS'),
        'transaction_status', x.word,
        'transaction_id', x.transaction_id,
        'status_message', 'midtrans payment notification',
        'status_code', x.code,
        'signature_key', encode(sha512(convert_to(x.external_id || x.code || x.amount::text || '.00' || s.midtrans_key, 'UTF8')), 'hex'),
        'settlement_time', case when x.word in ('settlement', 'refund') then to_char(least(x.paid_at, x.at) at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS') end,
        'payment_type', x.method,
        'order_id', x.external_id,
        'merchant_id', 'G812785002',
        'gross_amount', x.amount::text || '.00',
        'fraud_status', case when x.word = 'deny' then 'deny' when x.word <> 'pending' or x.method = 'credit_card' then 'accept' end,
        'currency', 'IDR',
        'expiry_time', case when x.method <> 'credit_card' then to_char(x.expires_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD HH24:MI:SS') end,
        'va_numbers', case when x.method = 'bank_transfer' then jsonb_build_array(jsonb_build_object('bank', x.va_bank, 'va_number', x.va_number)) end,
        'masked_card', x.masked_card,
        'bank', x.card_bank,
        'card_type', case when x.method = 'credit_card' then 'credit' end,
        'channel_response_code', case when x.method = 'credit_card' then case when x.word = 'deny' then '05' else '00' end end,
        'channel_response_message', case when x.method = 'credit_card' then case when x.word = 'deny' then 'Do not honor' else 'Approved' end end,
        'approval_code', case when x.method = 'credit_card' and x.word <> 'deny' then substr(md5(x.transaction_id), 1, 13) end,
        'eci', case when x.method = 'credit_card' then '05' end,
        'acquirer', case when x.method = 'qris' then 'gopay' end,
        'refund_amount', case when x.word = 'refund' then x.amount::text || '.00' end)),
      'headers', jsonb_build_object(
        'accept', 'application/json',
        'content-type', 'application/json',
        'user-agent', 'Veritrans',
        'x-forwarded-for', '103.208.23.' || (6 + floor(x.r_ip * 100)::int)::text,
        'x-forwarded-proto', 'https'))
    else jsonb_build_object(
      'body', jsonb_strip_nulls(jsonb_build_object(
        'service', jsonb_build_object('id', x.doku_service),
        'acquirer', jsonb_build_object('id', x.doku_acquirer),
        'channel', jsonb_build_object('id', x.method),
        'order', jsonb_build_object('invoice_number', x.external_id, 'amount', x.amount),
        'transaction', jsonb_build_object(
          'status', x.word,
          'date', to_char(x.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'original_request_id', x.request_id),
        'virtual_account_info', case when x.va_number is not null
                                     then jsonb_build_object('virtual_account_number', x.va_number) end)),
      'headers', jsonb_build_object(
        'client-id', s.doku_client_id,
        'request-id', x.event_id,
        'request-timestamp', to_char((x.at - interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'signature', 'HMACSHA256=' || encode(sha256(convert_to(x.event_id || x.external_id, 'UTF8')), 'base64'),
        'content-type', 'application/json',
        'user-agent', 'Apache-HttpClient/4.5.13 (Java/11.0.20)'))
  end,
  case x.role when 'failed' then 'failed' else 'processed' end::public.webhook_event_status,
  x.attempts,
  case when x.role = 'failed' then x.fail_error end,
  gen_random_uuid(),
  x.locked_at,
  x.received_at,
  x.processed_at
from (
  select e.*,
         case when e.provider = 'MIDTRANS' then e.external_id || ':' || e.word || ':' || e.code
              when e.channel = 'check' then 'status:' || e.external_id || ':' || e.word
              else gen_random_uuid()::text end as event_id,
         -- one delivery in seventy was taken over from a claim that went
         -- stale: it succeeded on the gateway's retry two minutes later.
         case when e.role = 'failed' then e.fail_attempts
              when e.role = 'apply' and e.r_retry < 1 / 70.0 then 2
              else 1 end as attempts,
         case when e.role = 'failed' then e.fail_first_at
              when e.role = 'apply' and e.r_retry < 1 / 70.0 then e.at - interval '2 minutes' - e.r_lag * interval '400 milliseconds'
              when e.role = 'apply' then e.at - (20 + 380 * e.r_lag) * interval '1 millisecond'
              else e.at end as received_at,
         case when e.role = 'failed' then e.fail_last_at
              when e.role = 'apply' then e.at - (5 + 15 * e.r_lag) * interval '1 millisecond'
              else e.at end as locked_at,
         case when e.role = 'failed' then least(e.fail_last_at + (1 + 3 * e.r_lag) * interval '1 second', now())
              when e.role = 'apply' then e.at
              else e.at + (15 + 235 * e.r_lag) * interval '1 millisecond' end as processed_at
  from demo_events e
) x
cross join demo_settings s
order by x.received_at;


-- ---------------------------------------------------------------------------
-- the audit trail
-- ---------------------------------------------------------------------------
-- pictures: the one in profiles.avatar_path (its upload is the last
-- avatar.updated), earlier ones it replaced, and people who tried one and
-- removed it again.
create temp table demo_avatar on commit drop as
with owners as (
  select p.i, p.confirmed_at, p.avatar_at, (row_number() over (order by p.i))::int as pick
  from demo_people p where p.avatar_at is not null
),
earlier as (
  select o.i, 'avatar.updated'::text as action,
         o.confirmed_at + x.r * (o.avatar_at - o.confirmed_at) as at
  from (
    select 1 + floor(random() * n.n)::int as pick, random() as r
    from demo_plan c
    cross join (select count(*)::int as n from owners) n
    cross join generate_series(1, round(0.06 * c.fill)::int)
    where n.n > 0
  ) x
  join owners o on o.pick = x.pick
),
tried as (
  select p.i, p.confirmed_at + 0.9 * random() * (now() - p.confirmed_at) as at, random() as r
  from demo_people p
  where p.confirmed_at is not null and p.avatar_at is null
  order by random(), p.i
  limit (select round(0.03 * fill)::int from demo_plan)
)
select a.i, a.action, a.at,
       a.action = 'avatar.updated' and row_number() over (partition by a.i, a.action order by a.at) > 1 and a.kept as replaced,
       random() as r_type, random() as r_size
from (
  select o.i, 'avatar.updated' as action, o.avatar_at as at, true as kept from owners o
  union all
  select e.i, e.action, e.at, true from earlier e
  union all
  select t.i, 'avatar.updated', t.at, false from tried t
  union all
  select t.i, 'avatar.removed', t.at + t.r * (now() - t.at), false from tried t
) a;

-- cancelled and resumed again within a month that was paid for (before the
-- renewal reminder, so the renewal still came).
create temp table demo_second_thoughts on commit drop as
with open_months as (
  select ch.*, (row_number() over (order by ch.k))::int as pick
  from demo_chain ch
  where not ch.is_last
),
picks as (
  select distinct on (x.pick) x.*
  from (
    select 1 + floor(random() * n.n)::int as pick, random() as r0, random() as r
    from demo_plan c
    cross join (select count(*)::int as n from open_months) n
    cross join generate_series(1, round(0.02 * c.fill)::int)
    where n.n > 0
  ) x
  order by x.pick, x.r0
),
canceled as (
  select om.i, om.plan, om.period_end, pk.r,
         om.paid_at + 0.7 * pk.r0 * (om.period_end - interval '3 days' - om.paid_at) as canceled
  from picks pk
  join open_months om on om.pick = pk.pick
)
select c.i, c.plan, c.period_end, c.canceled,
       c.canceled + c.r * (c.period_end - interval '3 days' - c.canceled) as resumed
from canceled c;

-- email changes asked for and never confirmed (the address stayed), and two
-- people an operator made admin for a day and then member again.
create temp table demo_account_changes on commit drop as
with people as (
  select p.i, p.email, p.confirmed_at, p.last_seen as last_seen,
         (row_number() over (order by p.i))::int as pick
  from demo_people p where p.confirmed_at is not null
),
emails as (
  select pe.i, 'email.change_requested'::text as action,
         pe.confirmed_at + x.r * (pe.last_seen - pe.confirmed_at) as at,
         jsonb_build_object(
           'before', pe.email,
           'after', split_part(pe.email, '@', 1) || '.' || (array['kantor', 'kerja', 'baru', 'official'])[1 + floor(x.r2 * 4)::int]
                    || '@demo.kilat.test',
           'changed_now', false) as metadata,
         true as self
  from (
    select 1 + floor(random() * n.n)::int as pick, random() as r, random() as r2
    from demo_plan c
    cross join (select count(*)::int as n from people) n
    cross join generate_series(1, round(0.02 * c.fill)::int)
    where n.n > 0
  ) x
  join people pe on pe.pick = x.pick
),
promoted as (
  select pe.i, pe.confirmed_at + random() * (now() - interval '2 days' - pe.confirmed_at) as at
  from people pe
  where (select fill from demo_plan) >= 200 and pe.confirmed_at < now() - interval '3 days'
  order by random(), pe.i
  limit 2
)
select e.* from emails e
union all
select pr.i, 'role.changed', pr.at, '{"from": "member", "to": "admin"}'::jsonb, false from promoted pr
union all
select pr.i, 'role.changed', pr.at + interval '1 day' + random() * interval '3 hours',
       '{"from": "admin", "to": "member"}'::jsonb, false
from promoted pr;

-- and password changes for whatever is left of kilat.demo_audit.
update demo_plan c
set fill = greatest(c.audit - (
  2 * (select count(*) from demo_chain)
  + (select count(*) from demo_pay where status in ('REFUNDED', 'FAILED', 'EXPIRED'))
  + (select count(*) from demo_people where kind = 'lapsed')
  + (select count(*) from demo_people where canceled_at is not null)
  + (select count(*) from demo_avatar)
  + (select count(*) from demo_name_edits)
  + 2 * (select count(*) from demo_second_thoughts)
  + (select count(*) from demo_account_changes)), 0)::int;

-- in time order, so ids follow created_at as they do when the server writes
-- them. payment and subscription entries of a settlement share its moment;
-- actor, ip and user agent only for what a person did themselves (system
-- entries — webhooks, the lapse job, the operator — have none).
insert into public.audit_logs (actor_id, actor_email, action, target_type, target_id, metadata, ip, user_agent, created_at)
select
  case when a.self then p.id end,
  case when a.self then p.email end,
  a.action, a.target_type, a.target_id, a.metadata,
  case when not a.self then null
       when a.r3 < 0.04 then format('2001:448a:%s:%s::%s', to_hex(4096 + p.i % 4000), to_hex(floor(a.r2 * 65535)::int),
                                    to_hex(1 + floor(a.r1 * 65534)::int))::inet
       else (n.prefix || '.' || case when a.r1 < 0.75 then 1 + (p.i * 37) % 254 else 1 + floor(a.r3 * 254)::int end
             || '.' || (1 + floor(a.r2 * 254)::int))::inet end,
  case when a.self then g.ua end,
  a.created_at
from (
  select u.*, random() as r1, random() as r2, random() as r3
  from (
    -- payments: what settle_payment wrote.
    select pa.i, 1 as seq, pa.paid_at as created_at, false as self,
           'payment.success' as action, 'payment' as target_type, pa.id::text as target_id,
           jsonb_build_object('order_id', pa.external_id, 'provider', pa.provider, 'plan', pa.plan, 'amount', pa.amount,
                              'gateway_status', pa.paid_word, 'source', pa.via) as metadata
    from demo_pay pa where pa.status in ('PAID', 'REFUNDED')
    union all
    select pa.i, 2, pa.paid_at, false, 'subscription.changed', 'subscription', pa.user_id::text,
           jsonb_build_object('from_plan', ch.from_plan, 'from_period_end', extract(epoch from ch.from_period_end)::bigint,
                              'to_plan', ch.plan, 'to_period_end', extract(epoch from ch.period_end)::bigint,
                              'how', ch.how, 'payment_id', pa.id, 'reason', null)
    from demo_pay pa join demo_chain ch on ch.k = pa.chain_k
    union all
    select pa.i, 1, pa.refunded_at, false, 'payment.refunded', 'payment', pa.id::text,
           jsonb_build_object('order_id', pa.external_id, 'provider', pa.provider, 'plan', pa.plan, 'amount', pa.amount,
                              'gateway_status', case when pa.provider = 'MIDTRANS' then 'refund' else 'REFUNDED' end,
                              'source', 'webhook', 'needs_review', true)
    from demo_pay pa where pa.status = 'REFUNDED'
    union all
    select pa.i, 1, pa.closed_at, false, 'payment.failed', 'payment', pa.id::text,
           jsonb_build_object('order_id', pa.external_id, 'provider', pa.provider, 'plan', pa.plan, 'amount', pa.amount,
                              'gateway_status', pa.fail_word, 'source', 'webhook',
                              'reason', 'the gateway reported ' || pa.fail_word, 'reported_amount', pa.amount)
    from demo_pay pa where pa.status = 'FAILED'
    union all
    select pa.i, 1, pa.closed_at, false, 'payment.expired', 'payment', pa.id::text,
           jsonb_build_object('order_id', pa.external_id, 'provider', pa.provider, 'plan', pa.plan, 'amount', pa.amount,
                              'gateway_status', case when pa.via = 'reconciliation' then 'unpaid_past_expiry'
                                                     when pa.provider = 'MIDTRANS' then 'expire' else 'EXPIRED' end,
                              'source', pa.via)
    from demo_pay pa where pa.status = 'EXPIRED'
    union all
    -- subscriptions: the lapse job, and people cancelling.
    select p.i, 3, p.lapsed_at, false, 'subscription.lapsed', 'subscription', p.id::text,
           jsonb_build_object('from_plan', p.plan, 'period_end', extract(epoch from p.conv_at + p.months * interval '1 month')::bigint,
                              'why', case when p.cancels then 'canceled' else 'not renewed' end)
    from demo_people p where p.kind = 'lapsed'
    union all
    select p.i, 3, p.canceled_at, true, 'subscription.canceled', 'subscription', p.id::text,
           jsonb_build_object('plan', p.plan, 'period_end', extract(epoch from p.conv_at + p.months * interval '1 month')::bigint)
    from demo_people p where p.canceled_at is not null
    union all
    select t.i, 3, t.canceled, true, 'subscription.canceled', 'subscription', pp.id::text,
           jsonb_build_object('plan', t.plan, 'period_end', extract(epoch from t.period_end)::bigint)
    from demo_second_thoughts t join demo_people pp on pp.i = t.i
    union all
    select t.i, 3, t.resumed, true, 'subscription.resumed', 'subscription', pp.id::text,
           jsonb_build_object('plan', t.plan, 'period_end', extract(epoch from t.period_end)::bigint)
    from demo_second_thoughts t join demo_people pp on pp.i = t.i
    union all
    -- profiles.
    select e.i, 3, e.at, true, 'profile.updated', 'user', e.id::text,
           jsonb_build_object('before', jsonb_build_object('full_name', e.before_name),
                              'after', jsonb_build_object('full_name', e.after_name))
    from demo_name_edits e
    union all
    select av.i, 3, av.at, true, av.action, 'user', pp.id::text,
           case when av.action = 'avatar.removed' then '{}'::jsonb
                else jsonb_build_object(
                  'content_type', case when av.r_type < 0.6 then 'image/jpeg' when av.r_type < 0.85 then 'image/png' else 'image/webp' end,
                  'bytes', 24000 + floor(power(av.r_size, 2) * 2000000)::int,
                  'width', (array[400, 512, 640, 800, 960, 1024])[1 + floor(av.r_size * 6)::int],
                  'height', (array[400, 512, 640, 800, 960, 1024])[1 + floor(av.r_size * 6)::int],
                  'replaced', av.replaced) end
    from demo_avatar av join demo_people pp on pp.i = av.i
    union all
    select ac.i, 3, ac.at, ac.self, ac.action, 'user', pp.id::text, ac.metadata
    from demo_account_changes ac join demo_people pp on pp.i = ac.i
    union all
    select pp.i, 3, pp.confirmed_at + x.r * (least(now(), pp.last_seen + interval '3 days') - pp.confirmed_at),
           true, 'password.changed', 'user', pp.id::text, '{}'::jsonb
    from (
      select 1 + floor(random() * n.n)::int as pick, random() as r
      from demo_plan c
      cross join (select count(*)::int as n from demo_people where confirmed_at is not null) n
      cross join generate_series(1, c.fill)
      where n.n > 0
    ) x
    join (select p.*, (row_number() over (order by p.i))::int as pick from demo_people p where p.confirmed_at is not null) pp
      on pp.pick = x.pick
  ) u
) a
join demo_people p on p.i = a.i
left join demo_networks n on n.n = case when a.r1 < 0.75 then p.network
                                       else 1 + floor(a.r2 * (select count(*) from demo_networks))::int end
left join demo_agents g on g.n = case when a.r1 < 0.8 then p.agent
                                     else 1 + floor(a.r3 * (select count(*) from demo_agents))::int end
order by a.created_at, a.seq;


-- ---------------------------------------------------------------------------
-- the waitlist
-- ---------------------------------------------------------------------------
-- almost half joined in the weeks before launch, the rest since; one in five
-- later made an account with the same address.
create temp table demo_waitlist on commit drop as
with cfg as (
  select s.waitlist as total, least(round(0.2 * s.waitlist)::int,
         (select count(*) from demo_people where signup_at > now() - interval '330 days')::int) as signed_up
  from demo_settings s
),
later_users as (
  select p.email, p.full_name as name, p.signup_at - (1 + 59 * random()) * interval '1 day' as created_at, random() as r_source
  from demo_people p
  where p.signup_at > now() - interval '330 days'
  order by random(), p.i
  limit (select signed_up from cfg)
),
strangers as (
  select g.n, random() as r_sex, random() as r_given, random() as r_family, random() as r_when, random() as r_early,
         random() as r_named, random() as r_source, random() as r_sep
  from cfg, generate_series(1, cfg.total - cfg.signed_up) g(n)
),
strangers_named as (
  select s.*,
         case when s.r_sex < 0.5
              then (array['Budi', 'Agus', 'Rizky', 'Andi', 'Dimas', 'Fajar', 'Hendra', 'Joko', 'Bayu', 'Arif',
                          'Eko', 'Yoga', 'Reza', 'Fikri', 'Ilham', 'Hadi', 'Wahyu', 'Teguh', 'Gilang', 'Rudi'])[1 + floor(s.r_given * 20)::int]
              else (array['Siti', 'Dewi', 'Putri', 'Ayu', 'Rina', 'Sri', 'Wulan', 'Indah', 'Fitri', 'Nurul',
                          'Ratna', 'Maya', 'Intan', 'Anisa', 'Dian', 'Citra', 'Mega', 'Novi', 'Ratih', 'Sinta'])[1 + floor(s.r_given * 20)::int]
         end as given,
         (array['Santoso', 'Wijaya', 'Hidayat', 'Nugroho', 'Kusuma', 'Setiawan', 'Siregar', 'Nasution', 'Harahap',
                'Gunawan', 'Halim', 'Tanjung', 'Rahman', 'Permana', 'Kurniawan', 'Wibowo', 'Hartono', 'Lubis',
                'Saputra', 'Pratama', 'Lestari', 'Rahayu'])[1 + floor(s.r_family * 22)::int] as family,
         case when s.r_early < 0.45
              then now() - interval '365 days' + s.r_when * interval '56 days'
              else now() - (1 - ln(1 + 5 * s.r_when) / ln(6)) * interval '300 days' - random() * interval '1 day' end as created_at
  from strangers s
)
select l.email, l.name, l.created_at, l.r_source from later_users l
union all
select lower(n.given) || case when n.r_sep < 0.7 then '.' else '' end || lower(n.family)
         || (1979 + row_number() over (partition by lower(n.given) || case when n.r_sep < 0.7 then '.' else '' end || lower(n.family) order by n.n))::text
         || '@demo.kilat.test',
       case when n.r_named < 0.85 then n.given || ' ' || n.family end,
       least(n.created_at, now() - interval '1 minute'),
       n.r_source
from strangers_named n;

insert into public.waitlist (email, name, source, created_at)
select w.email, w.name,
       case when w.r_source < 0.40 then 'landing'
            when w.r_source < 0.55 then 'waitlist'
            when w.r_source < 0.69 then 'utm:twitter'
            when w.r_source < 0.79 then 'utm:newsletter'
            when w.r_source < 0.88 then 'utm:instagram'
            when w.r_source < 0.95 then 'pricing'
            else 'utm:tiktok' end,
       w.created_at
from demo_waitlist w
order by w.created_at;


-- ---------------------------------------------------------------------------
-- the mail outbox
-- ---------------------------------------------------------------------------
-- what the server queued: a welcome at each first sign-in, a receipt for
-- every payment that became PAID (settle_payment), a renewal reminder three
-- days before each paid period ended unless it was cancelled, and a
-- confirmation for each waitlist entry. nearly all of it sent; what was
-- queued in the last minutes is still pending, a few wait for a retry, and a
-- few are dead (refused, or given up on) with the reason.
create temp table demo_mail on commit drop as
select
  'welcome'::text as kind, p.email as recipient, p.locale, p.confirmed_at + (1 + 4 * random()) * interval '1 second' as created_at,
  'welcome:' || p.id::text as dedupe_key,
  jsonb_build_object('name', p.signup_name) as payload,
  p.signup_name as name, null::public.subscription_plan as plan, null::bigint as amount, null::text as order_id,
  null::timestamptz as paid_at, null::timestamptz as period_end
from demo_people p
where p.confirmed_at is not null
union all
select 'invoice', pp.email, pp.locale, pa.paid_at, 'invoice:' || pa.id::text,
       jsonb_build_object('plan', pa.plan, 'amount', pa.amount, 'order_id', pa.external_id,
                          'paid_at', extract(epoch from pa.paid_at)::bigint,
                          'period_end', extract(epoch from ch.period_end)::bigint),
       pp.full_name, pa.plan, pa.amount, pa.external_id, pa.paid_at, ch.period_end
from demo_pay pa
join demo_chain ch on ch.k = pa.chain_k
join demo_people pp on pp.i = pa.i
union all
select 'renewal_reminder', pp.email, pp.locale, ch.period_end - interval '3 days' + 20 * random() * interval '1 second',
       'renewal_reminder:' || pp.sub_id::text || ':' || extract(epoch from ch.period_end)::bigint::text,
       jsonb_build_object('plan', ch.plan, 'period_end', extract(epoch from ch.period_end)::bigint),
       pp.full_name, ch.plan, null, null, null, ch.period_end
from demo_chain ch
join demo_people pp on pp.i = ch.i
where ch.period_end - interval '3 days' < now() - interval '30 seconds'
  and not (ch.is_last and pp.cancels)
union all
select 'waitlist_confirmation', w.email, case when w.r_source < 0.8 then 'id' else 'en' end,
       w.created_at + (1 + 2 * random()) * interval '1 second', null, null,
       w.name, null, null, null, null, null
from demo_waitlist w;

insert into public.mail_outbox (
  kind, recipient, locale, subject, html, text, payload, dedupe_key, status, attempts,
  next_attempt_at, last_attempt_at, sender, last_error, provider_message_id, created_at, sent_at, dead_at
)
select
  r.kind, r.recipient, r.locale,
  case when r.rendered then r.subject end,
  case when r.rendered then
    '<!doctype html>' || chr(10) || '<html lang="' || r.lang || '">' || chr(10)
    || '<head><meta charset="utf-8"><title>' || r.subject || '</title></head>' || chr(10)
    || '<body><h1>' || r.heading || '</h1>' || chr(10)
    || '<p>' || r.greeting || '</p>' || chr(10)
    || '<p>' || r.body || '</p>' || chr(10)
    || coalesce('<p>' || replace(r.facts, chr(10), '<br>') || '</p>' || chr(10), '')
    || '<p><a href="' || r.action_url || '">' || r.action_label || '</a></p>' || chr(10)
    || '<p>' || r.sign_off || '</p><p><small>' || r.footer || '</small></p></body>' || chr(10) || '</html>'
  end,
  case when r.rendered then
    r.greeting || chr(10) || chr(10) || r.body || chr(10) || chr(10)
    || coalesce(r.facts || chr(10) || chr(10), '')
    || r.action_label || ': ' || r.action_url || chr(10) || chr(10)
    || r.sign_off || chr(10) || '-- ' || chr(10) || r.footer
  end,
  r.payload, r.dedupe_key, r.status, r.attempts,
  case when r.status = 'pending' and r.attempts > 0 then now() + (20 + 100 * r.r_when) * interval '1 second'
       else r.created_at end,
  case when r.attempts > 0 then coalesce(r.sent_at, r.dead_at, now() - 30 * r.r_when * interval '1 second') - interval '400 milliseconds' end,
  case when r.attempts > 0 then s.mail_from end,
  r.last_error,
  case when r.status = 'sent' then gen_random_uuid()::text end,
  r.created_at, r.sent_at, r.dead_at
from (
  select m.*,
         m.status in ('sent', 'dead') or m.attempts > 0 or m.kind = 'waitlist_confirmation' as rendered,
         case when m.status = 'sent' then m.created_at + case when m.attempts > 1 then 30 + 60 * m.r_when else 1 + 3 * m.r_when end * interval '1 second' end as sent_at,
         case when m.status = 'dead' and m.dead_why = 'refused' then m.created_at + (1 + 3 * m.r_when) * interval '1 second'
              when m.status = 'dead' then m.created_at + interval '2 hours' + 50 * m.r_when * interval '1 second' end as dead_at,
         case when m.status = 'dead' and m.dead_why = 'refused'
                then '422 validation_error: Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'
              when m.status = 'dead'
                then 'gave up: still unsent 2 hours after it was queued (last error: 503 application_error: Service unavailable)'
              when m.attempts > 0
                then case when m.r_when < 0.5 then '429 rate_limit_exceeded: Too many requests. You can only make 2 requests per second.'
                          else 'error sending request for url (https://api.resend.com/emails): operation timed out' end end as last_error
  from (
    select t.*,
           -- the newest few are not out yet: just queued, or waiting to be
           -- retried after the provider pushed back.
           case
             when t.newest <= 3 + t.total / 5000 then 'pending'
             when t.r_fate < 0.003 then 'dead'
             else 'sent' end as status,
           case
             when t.newest <= 3 + t.total / 5000 and t.created_at > now() - interval '2 minutes' then 0
             when t.newest <= 3 + t.total / 5000 then 1 + floor(3 * t.r_why)::int
             when t.r_fate < 0.003 and t.r_why < 0.6 then 1
             when t.r_fate < 0.003 then 7
             when t.r_fate > 0.98 then 2
             else 1 end as attempts,
           case when t.r_why < 0.6 then 'refused' else 'gave_up' end as dead_why,
           coalesce(t.locale, 'id') as lang,
           case coalesce(t.locale, 'id')
             when 'id' then case t.kind
               when 'welcome' then 'Selamat datang di Kilat'
               when 'invoice' then 'Bukti pembayaran Kilat untuk pesanan ' || t.order_id
               when 'renewal_reminder' then 'Paket ' || pr.label || ' Anda berakhir pada ' || t.end_id
               else 'Anda masuk daftar tunggu Kilat' end
             else case t.kind
               when 'welcome' then 'Welcome to Kilat'
               when 'invoice' then 'Your Kilat receipt for order ' || t.order_id
               when 'renewal_reminder' then 'Your ' || pr.label || ' plan ends on ' || t.end_en
               else 'You are on the Kilat waitlist' end
           end as subject,
           case coalesce(t.locale, 'id')
             when 'id' then case t.kind
               when 'welcome' then 'Selamat bergabung'
               when 'invoice' then 'Terima kasih atas pembayaran Anda'
               when 'renewal_reminder' then 'Paket Anda segera berakhir'
               else 'Anda sudah terdaftar' end
             else case t.kind
               when 'welcome' then 'Welcome aboard'
               when 'invoice' then 'Thank you for your payment'
               when 'renewal_reminder' then 'Your plan ends soon'
               else 'You are on the list' end
           end as heading,
           case when coalesce(t.locale, 'id') = 'id' then coalesce('Halo ' || t.name || ',', 'Halo,')
                else coalesce('Hi ' || t.name || ',', 'Hi,') end as greeting,
           case coalesce(t.locale, 'id')
             when 'id' then case t.kind
               when 'welcome' then 'Akun Anda sudah siap dan Anda memakai paket Free. Di dasbor, Anda dapat mengelola profil, paket, dan pembayaran Anda.'
               when 'invoice' then 'Pembayaran Anda sudah kami terima dan paket Anda aktif. Simpan email ini sebagai bukti pembayaran.'
               when 'renewal_reminder' then 'Paket ' || pr.label || ' Anda sudah dibayar sampai ' || t.end_id
                                            || '. Paket tidak diperpanjang otomatis: untuk tetap memakainya, bayar satu bulan lagi sebelum tanggal itu.'
               else 'Terima kasih atas minat Anda pada Kilat. Kami akan menulis ke alamat ini satu kali, saat kami meluncur. Sampai saat itu, Anda tidak perlu melakukan apa pun.' end
             else case t.kind
               when 'welcome' then 'Your account is ready and you are on the Free plan. Your dashboard is where you manage your profile, your plan and your payments.'
               when 'invoice' then 'We received your payment and your plan is active. Keep this email as your receipt.'
               when 'renewal_reminder' then 'Your ' || pr.label || ' plan is paid until ' || t.end_en
                                            || '. Plans do not renew by themselves: to keep it, pay for another month before then.'
               else 'Thank you for your interest in Kilat. We will write to this address once, when we launch. Until then there is nothing you need to do.' end
           end as body,
           case when t.kind <> 'invoice' then null
                when coalesce(t.locale, 'id') = 'id' then
                  'Paket: ' || pr.label || chr(10)
                  || 'Jumlah dibayar: Rp ' || replace(to_char(t.amount, 'FM999,999,999'), ',', '.') || chr(10)
                  || 'Nomor pesanan: ' || t.order_id || chr(10)
                  || 'Dibayar pada: ' || t.paid_id || chr(10)
                  || 'Paket aktif sampai: ' || t.end_id
                else
                  'Plan: ' || pr.label || chr(10)
                  || 'Amount paid: IDR ' || to_char(t.amount, 'FM999,999,999') || chr(10)
                  || 'Order number: ' || t.order_id || chr(10)
                  || 'Paid on: ' || t.paid_en || chr(10)
                  || 'Plan active until: ' || t.end_en end as facts,
           case coalesce(t.locale, 'id')
             when 'id' then case t.kind when 'welcome' then 'Buka dasbor Anda' when 'invoice' then 'Lihat tagihan Anda'
                                         when 'renewal_reminder' then 'Tambah satu bulan' else 'Kunjungi Kilat' end
             else case t.kind when 'welcome' then 'Open your dashboard' when 'invoice' then 'See your billing'
                              when 'renewal_reminder' then 'Add a month' else 'Visit Kilat' end
           end as action_label,
           s.site || case t.kind when 'welcome' then '/dashboard' when 'invoice' then '/dashboard/billing'
                                 when 'renewal_reminder' then '/checkout/' || lower(t.plan::text) else '/' end as action_url,
           case when coalesce(t.locale, 'id') = 'id' then 'Tim Kilat' else 'The Kilat team' end as sign_off,
           case when coalesce(t.locale, 'id') = 'id'
                then 'Anda menerima email ini karena sesuatu yang Anda lakukan di Kilat. Ada pertanyaan? Balas saja email ini.'
                else 'You are receiving this email because of something you did on Kilat. Questions? Just reply.' end as footer
    from (
      select m.*, random() as r_fate, random() as r_why, random() as r_when,
             row_number() over (order by m.created_at desc) as newest, count(*) over () as total,
             -- dates as the templates write them: in jakarta time.
             extract(day from m.period_end at time zone 'Asia/Jakarta')::int || ' '
               || (array['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September',
                         'Oktober', 'November', 'Desember'])[extract(month from m.period_end at time zone 'Asia/Jakarta')::int]
               || ' ' || extract(year from m.period_end at time zone 'Asia/Jakarta')::int as end_id,
             extract(day from m.period_end at time zone 'Asia/Jakarta')::int || ' '
               || (array['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
                         'October', 'November', 'December'])[extract(month from m.period_end at time zone 'Asia/Jakarta')::int]
               || ' ' || extract(year from m.period_end at time zone 'Asia/Jakarta')::int as end_en,
             extract(day from m.paid_at at time zone 'Asia/Jakarta')::int || ' '
               || (array['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September',
                         'Oktober', 'November', 'Desember'])[extract(month from m.paid_at at time zone 'Asia/Jakarta')::int]
               || ' ' || extract(year from m.paid_at at time zone 'Asia/Jakarta')::int as paid_id,
             extract(day from m.paid_at at time zone 'Asia/Jakarta')::int || ' '
               || (array['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
                         'October', 'November', 'December'])[extract(month from m.paid_at at time zone 'Asia/Jakarta')::int]
               || ' ' || extract(year from m.paid_at at time zone 'Asia/Jakarta')::int as paid_en
      from demo_mail m
    ) t
    left join demo_prices pr on pr.plan = t.plan
    cross join demo_settings s
  ) m
) r
cross join demo_settings s
order by r.created_at;


-- ---------------------------------------------------------------------------
-- ai usage, the last three months
-- ---------------------------------------------------------------------------
-- a third of the people on a paid plan use the assistant, each at their own
-- pace, inside their plan's monthly allowance (calendar months in jakarta,
-- as the quota counts them). FREE has no ai, so people on FREE today show up
-- only for the months they were paying. chat mostly on the small models,
-- generation on the larger ones.
insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens, created_at)
with paying as (
  select p.i, p.id, p.plan, p.r_ai,
         greatest(p.conv_at + coalesce(p.upgrade_at, 0) * interval '1 month', now() - interval '90 days') as since,
         case when p.kind = 'active' then now() else p.lapsed_at end as until
  from demo_people p
  where p.kind in ('active', 'lapsed') and p.r_ai_use < 0.35
),
months as (
  select y.*, greatest(y.since, y.month_start) as seg_from, least(y.until, y.month_end) as seg_to
  from (
    select pa.*, m.m at time zone 'Asia/Jakarta' as month_start, (m.m + interval '1 month') at time zone 'Asia/Jakarta' as month_end
    from paying pa
    cross join lateral generate_series(date_trunc('month', pa.since at time zone 'Asia/Jakarta'),
                                       date_trunc('month', pa.until at time zone 'Asia/Jakarta'),
                                       interval '1 month') m(m)
    where pa.until > pa.since
  ) y
),
budgets as (
  -- tokens this person spends in this stretch of the month, and in how
  -- many calls.
  select mo.*,
         (coalesce(pr.ai_tokens, 150000) * (0.1 + 0.6 * mo.r_ai)
           * extract(epoch from mo.seg_to - mo.seg_from) / extract(epoch from mo.month_end - mo.month_start)) as budget,
         case mo.plan when 'BASIC' then 900 when 'PRO' then 3000 else 3500 end as call_size
  from months mo
  join demo_prices pr on pr.plan = mo.plan
  where mo.seg_to > mo.seg_from
),
calls as (
  select b.id, b.seg_from, b.seg_to, b.budget / greatest(ceil(b.budget / b.call_size), 1) as per_call,
         random() as r_kind, random() as r_model, random() as r_size, random() as r_split, random() as r_at
  from budgets b
  cross join lateral generate_series(1, greatest(ceil(b.budget / b.call_size)::int, 1))
  where b.budget >= 200
),
shaped as (
  select c.*,
         case when c.r_kind < 0.75 then 'chat' else 'generate' end::public.ai_usage_kind as kind,
         floor(c.per_call * (0.55 + 0.45 * c.r_size))::int as tokens
  from calls c
)
select
  s.id,
  case when s.kind = 'chat' and s.r_model < 0.8 then 'openai'
       when s.kind = 'chat' then 'anthropic'
       when s.r_model < 0.55 then 'anthropic'
       when s.r_model < 0.75 then 'anthropic'
       else 'openai' end,
  case when s.kind = 'chat' and s.r_model < 0.8 then 'gpt-4o-mini'
       when s.kind = 'chat' then 'claude-3-5-haiku-latest'
       when s.r_model < 0.55 then 'claude-3-5-haiku-latest'
       when s.r_model < 0.75 then 'claude-sonnet-4-5'
       else 'gpt-4o' end,
  s.kind,
  -- chat prompts carry the conversation so far; generation prompts are short
  -- and the answers long.
  floor(s.tokens * case when s.kind = 'chat' then 0.55 + 0.3 * s.r_split else 0.15 + 0.25 * s.r_split end)::int,
  s.tokens - floor(s.tokens * case when s.kind = 'chat' then 0.55 + 0.3 * s.r_split else 0.15 + 0.25 * s.r_split end)::int,
  least(s.seg_from + s.r_at * (s.seg_to - s.seg_from), now() - interval '5 seconds')
from shaped s
order by 7;
