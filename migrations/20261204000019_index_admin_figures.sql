-- indexes for the admin overview's figures.
--
-- the overview counts sign-ups per month (a profile is made with each account,
-- in our schema: auth's tables belong to supabase auth, which alone may index
-- them) and paying customers and revenue per month from the paid payments'
-- paid_at. both are range scans over one month at a time; with the user id in
-- the paid-payment index, revenue and paying customers never visit the table.

create index profiles_created_at_idx on public.profiles (created_at);

drop index public.payments_paid_at_idx;
create index payments_paid_at_idx on public.payments (paid_at) include (amount, user_id)
  where status = 'PAID';
