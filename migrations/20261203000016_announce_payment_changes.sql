-- payments announce their own status changes.
--
-- an order page waits for its payment to change (server-sent events). every
-- server instance listens on the channel 'kilat_payment_changed' and relays
-- the payment's id to the pages watching it. the notification used to be sent
-- by the webhook path itself, one more statement per notification; as a
-- trigger it costs no round trip and no path that changes a payment (a
-- webhook, a reconciliation, an admin's correction) can forget it. like every
-- notify it is delivered when the transaction commits, and not at all when it
-- rolls back.

create function public.announce_payment_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify('kilat_payment_changed', new.id::text);
  return null;
end;
$$;

comment on function public.announce_payment_change() is
  'Trigger: NOTIFY kilat_payment_changed with the payment id when a payment''s status changes.';

revoke execute on function public.announce_payment_change() from public, anon, authenticated;

create trigger payments_announce_status_change
  after update of status on public.payments
  for each row
  when (old.status is distinct from new.status)
  execute function public.announce_payment_change();
