-- a gateway's word applied to a payment in one call.
--
-- settling a paid notification used to be nine statements after the payment
-- row was locked (the payment, its audit entry, the subscription read and
-- written, the payment linked to it, its audit entry, the receipt queued, the
-- ledger finished), each a round trip between the server and the database.
-- the rules for which transition a report makes stay in the server
-- (billing::settle::transition, unit tested); what a transition does to the
-- rows is these two functions, one round trip.
--
-- grant_subscription_month is also the one place the subscription rules
-- live for any other grant (an admin's manual grant): paying for the plan in
-- force extends it by a month from its period's end; any other plan starts
-- now, for a month.

-- ---------------------------------------------------------------------------
-- grant_subscription_month(user, plan, payment, actor…, reason)
-- ---------------------------------------------------------------------------
-- a month of p_plan for p_user by the rules above, audited
-- subscription.changed (from and to plan and period end, how, the payment and
-- the reason). p_payment, when given, is linked to the subscription. the
-- actor (null: the system), ip and user agent go to the audit entry. returns
-- the subscription and its new period end.
create function public.grant_subscription_month(
  p_user uuid,
  p_plan public.subscription_plan,
  p_payment uuid default null,
  p_actor_id uuid default null,
  p_actor_email text default null,
  p_reason text default null,
  p_ip inet default null,
  p_user_agent text default null
)
returns table (granted_subscription uuid, granted_until timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_from_plan public.subscription_plan;
  v_from_end timestamptz;
  v_extends boolean := false;
begin
  select s.id, s.plan, s.current_period_end,
         coalesce(s.plan = p_plan and s.status = 'active' and s.current_period_end > now(), false)
    into v_id, v_from_plan, v_from_end, v_extends
    from public.subscriptions s
   where s.user_id = p_user
     for update;
  if v_id is null then
    -- an account made before the sign-up trigger existed gets its row now.
    insert into public.subscriptions (user_id, plan, status, current_period_start, current_period_end)
    values (p_user, p_plan, 'active', now(), now() + interval '1 month')
    returning id, current_period_end into granted_subscription, granted_until;
  else
    update public.subscriptions s
       set plan = p_plan,
           status = 'active',
           current_period_start = case when v_extends then s.current_period_start else now() end,
           current_period_end = case when v_extends then s.current_period_end + interval '1 month'
                                     else now() + interval '1 month' end,
           cancel_at_period_end = false,
           canceled_at = null
     where s.id = v_id
    returning s.id, s.current_period_end into granted_subscription, granted_until;
  end if;
  if p_payment is not null then
    update public.payments p
       set subscription_id = granted_subscription
     where p.id = p_payment and p.subscription_id is null;
  end if;
  insert into public.audit_logs (actor_id, actor_email, action, target_type, target_id, metadata, ip, user_agent)
  values (
    p_actor_id, p_actor_email, 'subscription.changed', 'subscription', p_user::text,
    jsonb_build_object(
      'from_plan', v_from_plan::text,
      'from_period_end', extract(epoch from v_from_end)::bigint,
      'to_plan', p_plan::text,
      'to_period_end', extract(epoch from granted_until)::bigint,
      'how', case when v_extends then 'extended' else 'started' end,
      'payment_id', p_payment,
      'reason', p_reason),
    p_ip, left(p_user_agent, 1024));
  return next;
end;
$$;

comment on function public.grant_subscription_month(uuid, public.subscription_plan, uuid, uuid, text, text, inet, text) is
  'A month of a plan for a person (extends the plan in force from its period end, else starts now), payment linked, audited subscription.changed.';

revoke execute on function public.grant_subscription_month(uuid, public.subscription_plan, uuid, uuid, text, text, inet, text)
  from public, anon, authenticated;

-- ---------------------------------------------------------------------------
-- settle_payment(payment, status, payment type, gateway metadata, action, audit metadata)
-- ---------------------------------------------------------------------------
-- moves a payment the caller has locked (select … for update) to p_status,
-- merging p_gateway_metadata into what the gateway said before and stamping
-- paid_at when it becomes PAID; audits it as p_action (the system as actor).
-- a payment that becomes PAID grants its owner a month of its plan and queues
-- the receipt in the mail outbox (once per payment: its dedupe key), stating
-- the period just granted. the status trigger announces the change on commit.
create function public.settle_payment(
  p_payment uuid,
  p_status public.payment_status,
  p_payment_type text,
  p_gateway_metadata jsonb,
  p_action text,
  p_audit_metadata jsonb
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_plan public.subscription_plan;
begin
  update public.payments p
     set status = p_status,
         paid_at = case when p_status = 'PAID' then now() else p.paid_at end,
         payment_type = coalesce(p_payment_type, p.payment_type),
         gateway_metadata = p.gateway_metadata || p_gateway_metadata
   where p.id = p_payment
  returning p.user_id, p.plan into v_user, v_plan;
  insert into public.audit_logs (action, target_type, target_id, metadata)
  values (p_action, 'payment', p_payment::text, p_audit_metadata);
  if p_status = 'PAID' and v_user is not null then
    perform public.grant_subscription_month(v_user, v_plan, p_payment);
    insert into public.mail_outbox (kind, recipient, locale, payload, dedupe_key)
    select 'invoice', u.email, pr.locale,
           jsonb_build_object(
             'plan', p.plan::text,
             'amount', p.amount,
             'order_id', p.external_id,
             'paid_at', extract(epoch from p.paid_at)::bigint,
             'period_end', extract(epoch from s.current_period_end)::bigint),
           'invoice:' || p.id::text
      from public.payments p
      join auth.users u on u.id = p.user_id
      left join public.profiles pr on pr.id = p.user_id
      left join public.subscriptions s on s.id = p.subscription_id
     where p.id = p_payment
       and u.email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and char_length(u.email) <= 254
    on conflict (dedupe_key) do nothing;
  end if;
end;
$$;

comment on function public.settle_payment(uuid, public.payment_status, text, jsonb, text, jsonb) is
  'Applies a gateway report''s transition to a locked payment: status, audit entry, and for PAID the month granted and the receipt queued.';

revoke execute on function public.settle_payment(uuid, public.payment_status, text, jsonb, text, jsonb)
  from public, anon, authenticated;
