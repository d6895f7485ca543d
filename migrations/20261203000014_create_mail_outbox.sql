-- mail outbox: every application email, queued in the transaction of the
-- event that causes it and sent afterwards by a worker.
--
-- why a table and not a direct call to resend: a payment settled, a first
-- sign-in or a waitlist entry is committed together with its email, so the
-- email is never lost when the provider is down or the process dies right
-- after the commit, and never sent for an event that rolled back. the worker
-- (server/src/mail/worker.rs, run by every instance) takes due rows with
-- `for update skip locked`, sends each with `Idempotency-Key` = the row's id
-- (resend keeps keys 24 h), and records the outcome; a crash between sending
-- and recording resends under the same key, which resend answers with the
-- first message instead of mailing again.
--
-- two ways in:
--   rendered  the caller rendered subject, html and text (the waitlist and
--             contact routes, which know the visitor's language);
--   facts     sql-only callers (the invoice in the settle transaction, the
--             welcome at first sign-in, the renewal reminders) store the
--             template's facts in `payload`; the worker renders them once,
--             in `locale` or the server's DEFAULT_LOCALE, and stores the
--             result before the first send, so every retry sends the same
--             bytes (resend refuses a reused key with another body).


create table public.mail_outbox (
  -- also the idempotency key of every send of this message.
  id uuid not null default gen_random_uuid(),
  -- which template; the admin pages group by it.
  kind text not null,
  recipient text not null,
  reply_to text,
  -- 'id' or 'en'; null until rendered means the server's DEFAULT_LOCALE.
  locale text,
  subject text,
  html text,
  text text,
  -- the template's facts, for mail the worker renders (see above).
  payload jsonb,
  -- "this event mails once": invoice:<payment id>, welcome:<user id>,
  -- renewal_reminder:<subscription id>:<period end>. callers insert with
  -- `on conflict (dedupe_key) do nothing`, so a repeated event (a replayed
  -- webhook, a second sign-in, a reminder job run by two instances) queues
  -- nothing new. null: no such rule (every contact message is its own).
  dedupe_key text,
  --   pending  waiting to be sent, or between attempts;
  --   sent     the provider accepted it (provider_message_id says as what);
  --   dead     refused for good (a 4xx validation error) or still unsent at
  --            the give-up bound (MAIL_GIVE_UP_AFTER, well inside resend's
  --            24 h key window, so a late retry can never mail twice).
  --            shown on the admin pages with last_error.
  status text not null default 'pending',
  -- sends started (counted when a worker takes the row, so a crash mid-send
  -- still counts).
  attempts integer not null default 0,
  -- when a worker may take the row next: now for new mail, after the
  -- backoff for a retry, and pushed past the send's timeout while a worker
  -- holds it (a lease: a worker that dies mid-send frees it by itself).
  next_attempt_at timestamptz not null default now(),
  last_attempt_at timestamptz,
  -- the from address of the first attempt (MAIL_FROM then), kept so a retry
  -- after MAIL_FROM changed still sends the very same message.
  sender text,
  -- the provider's (or the network's) last refusal, kept after a later
  -- success for the record.
  last_error text,
  provider_message_id text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  dead_at timestamptz,

  constraint mail_outbox_pkey primary key (id),
  constraint mail_outbox_dedupe_key_key unique (dedupe_key),
  constraint mail_outbox_kind_known check (
    kind in ('waitlist_confirmation', 'contact_message', 'welcome', 'invoice', 'renewal_reminder')
  ),
  constraint mail_outbox_status_known check (status in ('pending', 'sent', 'dead')),
  constraint mail_outbox_locale_known check (locale is null or locale in ('id', 'en')),
  -- a sanity check, not validation: callers parse addresses properly.
  constraint mail_outbox_recipient_format check (recipient ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  constraint mail_outbox_recipient_length check (char_length(recipient) <= 254),
  constraint mail_outbox_reply_to_format check (reply_to is null or reply_to ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  -- all three parts, or none yet (then the facts to render them from).
  constraint mail_outbox_content_complete check (
    (subject is null) = (html is null) and (subject is null) = (text is null)
  ),
  constraint mail_outbox_has_content check (subject is not null or payload is not null),
  constraint mail_outbox_payload_is_object check (payload is null or jsonb_typeof(payload) = 'object'),
  constraint mail_outbox_attempts_not_negative check (attempts >= 0),
  constraint mail_outbox_sent_has_time check ((status = 'sent') = (sent_at is not null)),
  constraint mail_outbox_dead_has_time check ((status = 'dead') = (dead_at is not null)),
  -- a message is rendered before it is sent.
  constraint mail_outbox_sent_was_rendered check (status <> 'sent' or subject is not null),
  constraint mail_outbox_last_error_length check (last_error is null or char_length(last_error) <= 2000)
);

comment on table public.mail_outbox is
  'Application email, queued in the transaction of its event and sent by the server''s worker with Idempotency-Key = id. Server-only.';

-- the worker's pick: due pending rows, oldest due first. partial, so the
-- index holds only the (few) pending rows however many were ever sent.
create index mail_outbox_due_idx on public.mail_outbox (next_attempt_at) where status = 'pending';

-- the admin pages: the latest mail, and what died, newest first.
create index mail_outbox_created_at_idx on public.mail_outbox (created_at desc);


-- ---------------------------------------------------------------------------
-- wake the workers: a notification on commit of every insert
-- ---------------------------------------------------------------------------
-- every instance listens on this channel, so mail queued by any of them (or
-- by sql) goes out at once instead of at the next poll. statement level, and
-- only when the statement queued something (an `on conflict do nothing`
-- that skipped every row wakes nobody).
create function public.notify_mail_queued()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from queued) then
    perform pg_catalog.pg_notify('kilat_mail_queued', '');
  end if;
  return null;
end;
$$;

comment on function public.notify_mail_queued() is
  'Trigger: NOTIFY kilat_mail_queued when mail was queued, so the workers send it at once.';

revoke execute on function public.notify_mail_queued() from public, anon, authenticated;

create trigger mail_outbox_notify_queued
  after insert on public.mail_outbox
  referencing new table as queued
  for each statement execute function public.notify_mail_queued();


-- ---------------------------------------------------------------------------
-- access: none for api roles
-- ---------------------------------------------------------------------------
-- addresses, names and private messages: only the server reads or writes
-- this table. rls with no policy hides every row; the revoke removes what
-- supabase's default privileges granted (truncate included).
alter table public.mail_outbox enable row level security;

revoke all on table public.mail_outbox from anon, authenticated;
