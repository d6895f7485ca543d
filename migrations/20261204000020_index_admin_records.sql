-- indexes for the admin records: the audit trail and its filters, the
-- waitlist, the mail outbox and ai usage.
--
-- every admin list is paged newest first by keyset: "the 51 rows before
-- (t, id) in (created_at desc, id desc) order". with id in the index right
-- after created_at, postgres reads exactly those rows from the index — the
-- row comparison (created_at, id) < (t, id) is an index condition and no sort
-- is needed, however many rows share a created_at (a bulk import, a seeded
-- batch, one transaction's audit entries). the indexes made earlier ended at
-- created_at, so they are made again with id; the new ones serve filters no
-- index served.


-- ---------------------------------------------------------------------------
-- audit_logs (20260317000010)
-- ---------------------------------------------------------------------------
-- newest first, unfiltered, is audit_logs_created_at_idx (created_at desc,
-- id desc) already.

-- by actor id: "what did this person do".
drop index public.audit_logs_actor_id_created_at_idx;
create index audit_logs_actor_id_created_at_idx
  on public.audit_logs (actor_id, created_at desc, id desc)
  where actor_id is not null;

-- by actor email, any case: the address an admin knows, which also finds
-- entries of an account deleted since (actor_email is kept as it was then).
create index audit_logs_actor_email_created_at_idx
  on public.audit_logs (lower(actor_email), created_at desc, id desc)
  where actor_email is not null;

-- by action ("every payment.failed").
drop index public.audit_logs_action_created_at_idx;
create index audit_logs_action_created_at_idx
  on public.audit_logs (action, created_at desc, id desc);

-- by target, "type:id": the history of one payment, user, mail, …
drop index public.audit_logs_target_idx;
create index audit_logs_target_idx
  on public.audit_logs (target_type, target_id, created_at desc, id desc);

-- by target id alone, when the admin has an id but not its kind (an order id
-- from a support mail): the index above leads with the type and cannot serve
-- it.
create index audit_logs_target_id_idx
  on public.audit_logs (target_id, created_at desc, id desc)
  where target_id is not null;


-- ---------------------------------------------------------------------------
-- waitlist (20260316000004): the list and the export, newest first
-- ---------------------------------------------------------------------------
drop index public.waitlist_created_at_idx;
create index waitlist_created_at_idx on public.waitlist (created_at desc, id desc);


-- ---------------------------------------------------------------------------
-- mail_outbox (20261203000014): the latest mail, and by status
-- ---------------------------------------------------------------------------
drop index public.mail_outbox_created_at_idx;
create index mail_outbox_created_at_idx on public.mail_outbox (created_at desc, id desc);

-- "what died" (or what is still waiting) among every message ever sent.
create index mail_outbox_status_created_at_idx
  on public.mail_outbox (status, created_at desc, id desc);


-- ---------------------------------------------------------------------------
-- ai_usage (20260317000006): the admin's last 30 days and this month's top
-- users, summed over a range of created_at
-- ---------------------------------------------------------------------------
-- with what the sums group by and add up in the index, they are index-only
-- scans: a busy month is hundreds of thousands of calls, and the heap is never
-- visited for them.
drop index public.ai_usage_created_at_idx;
create index ai_usage_created_at_idx
  on public.ai_usage (created_at desc)
  include (user_id, total_tokens, provider, model);
