-- mail outbox: an admin may put a dead message back in the queue.
--
-- the worker gives a message up when it is still unsent MAIL_GIVE_UP_AFTER
-- after it was queued (20261203000014): that bound keeps every automatic
-- retry inside resend's 24 h idempotency-key window. a message an admin
-- retries from the outbox page (audited mail.retried) is usually older than
-- the bound already, so the worker would give it up again before taking it.
-- requeued_at is when it went back in the queue; the bound counts from there.
--
-- a retry is the admin's decision, made after the cause was fixed (a wrong
-- api key, an outage longer than the bound, an address corrected at the
-- provider). it sends under the same key as before: within 24 h of an earlier
-- attempt resend still deduplicates; later, a message resend had accepted
-- while every answer was lost would be mailed again — the one way a retry can
-- mail twice, and only for mail whose acceptance was never recorded.

alter table public.mail_outbox
  add column requeued_at timestamptz;

alter table public.mail_outbox
  add constraint mail_outbox_requeued_after_created check (requeued_at is null or requeued_at >= created_at);

comment on column public.mail_outbox.requeued_at is
  'When an admin last put this dead message back in the queue; the give-up bound counts from here instead of created_at.';
