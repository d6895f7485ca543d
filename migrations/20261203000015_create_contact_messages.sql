-- contact_messages: every message sent through the contact form, kept by the
-- server in the same transaction that queues its delivery to the operator
-- (mail_outbox), so nothing a visitor wrote is lost while mail is down.
--
-- written only by the server's contact endpoint (rate limited per client ip)
-- and read only by operators, so, like the waitlist, it is invisible to both
-- api roles.

create table public.contact_messages (
  id uuid not null default gen_random_uuid(),
  name text not null,
  email text not null,
  message text not null,
  -- the page's language, so a reply can be written in it.
  locale text not null,
  created_at timestamptz not null default now(),

  constraint contact_messages_pkey primary key (id),
  constraint contact_messages_name_length check (char_length(name) between 1 and 120),
  constraint contact_messages_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  constraint contact_messages_email_length check (char_length(email) <= 254),
  constraint contact_messages_message_length check (char_length(message) between 1 and 5000),
  constraint contact_messages_locale check (locale in ('id', 'en'))
);

comment on table public.contact_messages is
  'Contact form messages. Server-written, operator-read; invisible to anon and authenticated.';

-- operators read them newest first.
create index contact_messages_created_at_idx on public.contact_messages (created_at desc);

alter table public.contact_messages enable row level security;

revoke all on table public.contact_messages from anon, authenticated;
