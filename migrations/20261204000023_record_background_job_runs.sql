-- background jobs: when each last ran and how it went, for /admin/system.
--
-- every server process runs the jobs (payment reconciliation, the subscription
-- lapse, mail delivery, renewal reminders, the session sweep). each records its
-- runs here, one row per job shared by all processes: about once a minute
-- per job and process while its outcome stays the same, and at once when it
-- turns from working to failing or back. the mail worker runs every few
-- seconds; writing each of those runs would cost more than the runs.
--
-- the server's own connection writes and reads it; no role of postgrest's may.

create table kilat_private.job_runs (
  job text primary key check (job ~ '^[a-z]+(\.[a-z_]+)+$'),
  last_run_at timestamptz not null,
  last_ok boolean not null,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  last_error text check (char_length(last_error) <= 1000),
  check (last_ok = (last_success_at is not distinct from last_run_at))
);

comment on table kilat_private.job_runs is
  'Each background job''s latest recorded run (any server process): written at most once a minute per process while the outcome is unchanged, at once when it changes.';
comment on column kilat_private.job_runs.last_error is
  'The latest failure''s cause, kept after the job recovers (last_ok says how it stands).';
