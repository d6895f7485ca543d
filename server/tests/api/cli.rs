//! The `server` binary as a person runs it.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{TestDb, workspace_root};

pub fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    // Only what each test sets: no shell settings, and no developer `.env` (dotenvy looks in the
    // working directory and its parents, so run from the temporary folder).
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir());
    command
}

fn copy_migrations() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kilat-migrations-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(workspace_root().join("migrations")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

fn doctor(db: &TestDb, dir: &Path) -> (bool, String) {
    let output = server()
        .args(["doctor", "--migrations"])
        .arg(dir)
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn doctor_finds_no_drift_then_reports_a_changed_file_and_a_missing_migration() {
    let db = TestDb::empty().await;
    let migrate = server()
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let dir = copy_migrations();
    let (ok, out) = doctor(&db, &dir);
    assert!(ok, "{out}");
    assert!(out.contains("no drift"), "{out}");

    // Someone edits an applied migration.
    let first = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let mut sql = std::fs::read_to_string(&first).unwrap();
    sql.push_str("\n-- edited after it was applied\n");
    std::fs::write(&first, sql).unwrap();
    let (ok, out) = doctor(&db, &dir);
    assert!(!ok, "{out}");
    assert!(out.contains("changed"), "{out}");

    // And the database forgets one it had applied.
    let last: i64 = sqlx::query_scalar("select max(version) from _sqlx_migrations")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("delete from _sqlx_migrations where version = $1")
        .bind(last)
        .execute(&db.pool)
        .await
        .unwrap();
    let (ok, out) = doctor(&db, &dir);
    assert!(!ok);
    assert!(out.contains(&format!("missing   {last}")), "{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn env_check_prints_every_feature_state() {
    let output = server()
        .arg("env-check")
        .env("ENABLE_CONTACT", "no")
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap();
    assert!(output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("environment: development"), "{out}");
    assert!(out.contains("contact   disabled by flag"), "{out}");
    // Payments go to the local Midtrans twin until its key is set; AI has its key.
    assert!(
        out.contains("payments  local stand-in (unset: MIDTRANS_SERVER_KEY)"),
        "{out}"
    );
    assert!(out.contains("ai        ready"), "{out}");
    assert!(
        out.contains("auth      local stand-in (unset: SUPABASE_URL, SUPABASE_ANON_KEY)"),
        "{out}"
    );
    assert!(out.contains("waitlist  ready"), "{out}");
    assert!(out.contains("admin"), "{out}");
}

/// Everything production needs, pointing at real services (nothing is contacted: the server
/// refuses before connecting anywhere, or these tests would not be about configuration).
const PRODUCTION: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    (
        "DATABASE_URL",
        "postgres://kilat:pw@db.example.invalid:5432/kilat",
    ),
    ("SUPABASE_URL", "https://abc.supabase.co"),
    ("SUPABASE_ANON_KEY", "sb_publishable_abc"),
    ("RESEND_API_KEY", "re_live_123"),
    ("MAIL_FROM", "Kilat <hello@kilat.id>"),
    ("SITE_URL", "https://kilat.id"),
    ("MIDTRANS_SERVER_KEY", "Mid-server-live-123"),
];

/// `server serve` with `vars`; returns its exit code and what it printed on stderr.
fn serve_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = server();
    command.arg("serve").env("PORT", "0");
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("the server runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn production_without(unset: &str) -> Vec<(&'static str, &'static str)> {
    PRODUCTION
        .iter()
        .copied()
        .filter(|(key, _)| *key != unset)
        .collect()
}

#[test]
fn production_refuses_to_serve_naming_each_missing_piece() {
    for (unset, needle) in [
        ("DATABASE_URL", "DATABASE_URL is required in production"),
        ("SUPABASE_URL", "set SUPABASE_URL"),
        ("SUPABASE_ANON_KEY", "set SUPABASE_ANON_KEY"),
        ("RESEND_API_KEY", "set RESEND_API_KEY"),
        ("MAIL_FROM", "set MAIL_FROM"),
        ("SITE_URL", "SITE_URL is required in production"),
        ("MIDTRANS_SERVER_KEY", "set MIDTRANS_SERVER_KEY"),
    ] {
        let (code, err) = serve_with(&production_without(unset));
        assert_eq!(code, Some(2), "without {unset}: {err}");
        assert!(err.contains(needle), "without {unset}: {err}");
        assert_eq!(
            err.matches("\n  - ").count(),
            1,
            "only what is wrong is named: {err}"
        );
    }
}

#[test]
fn production_refuses_local_stand_ins_and_plain_http() {
    for (key, value, needle) in [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:54322/kilat",
            "DATABASE_URL points at the local development database",
        ),
        (
            "SUPABASE_URL",
            "http://127.0.0.1:54321",
            "points at a local stand-in",
        ),
        (
            "RESEND_API_KEY",
            "re_local_stand_in",
            "RESEND_API_KEY is the local mail twin's key",
        ),
        (
            "SITE_URL",
            "http://kilat.id",
            "must be https:// in production",
        ),
    ] {
        let mut vars = production_without(key);
        vars.push((key, value));
        let (code, err) = serve_with(&vars);
        assert_eq!(code, Some(2), "{key}={value}: {err}");
        assert!(err.contains(needle), "{key}={value}: {err}");
    }
}

#[test]
fn production_with_nothing_configured_names_every_problem_in_one_message() {
    let (code, err) = serve_with(&[("APP_ENV", "production")]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.matches("invalid configuration").count(), 1, "{err}");
    for needle in [
        "DATABASE_URL is required",
        "set SUPABASE_URL and SUPABASE_ANON_KEY",
        "set RESEND_API_KEY and MAIL_FROM",
        "SITE_URL is required",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn production_commands_never_start_the_local_cluster() {
    for command in [&["migrate"][..], &["doctor"], &["admin", "grant", "a@b.id"]] {
        let output = server()
            .args(command)
            .env("APP_ENV", "production")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL is required"),
            "{command:?}"
        );
    }
}

#[test]
fn development_mode_is_refused_on_a_public_address_unless_app_env_says_so() {
    // PORT listens on every interface.
    let (code, err) = serve_with(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("APP_ENV is unset while listening on 0.0.0.0:0"),
        "{err}"
    );
}

#[test]
fn env_check_lists_what_production_refuses() {
    let output = server()
        .arg("env-check")
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "postgres://db.example.invalid/x")
        .env("SITE_URL", "http://kilat.id")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("production refuses to serve:"), "{out}");
    assert!(out.contains("must be https://"), "{out}");
    assert!(out.contains("set RESEND_API_KEY and MAIL_FROM"), "{out}");
}

#[test]
fn env_check_fails_in_production_when_a_feature_lacks_configuration() {
    let output = server()
        .arg("env-check")
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "postgres://db/x")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("auth      missing configuration (unset: SUPABASE_URL, SUPABASE_ANON_KEY)"),
        "{out}"
    );
}

#[test]
fn bad_configuration_stops_the_server_naming_every_problem() {
    let output = server()
        .env("ENABLE_AUTH", "maybe")
        .env("APP_ENV", "prod")
        .env("PORT", "http")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    for needle in ["ENABLE_AUTH=\"maybe\"", "APP_ENV=\"prod\"", "PORT=\"http\""] {
        assert!(err.contains(needle), "{err}");
    }
}

#[tokio::test]
async fn serve_logs_request_ids_and_stops_gracefully_on_sigterm() {
    let db = TestDb::migrated().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = server()
        .env("DATABASE_URL", db.url())
        // PORT listens on every interface: development there must be chosen explicitly.
        .env("APP_ENV", "development")
        .env("PORT", port.to_string())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/health");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client
            .get(&url)
            .header("x-request-id", "sigterm-test-7")
            .send()
            .await;
        if answer.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = tokio::task::spawn_blocking(move || child.wait().map(|s| (s, child)))
        .await
        .unwrap()
        .unwrap();
    assert!(status.0.success(), "exit status {:?}", status.0);
    let logs: Vec<String> = BufReader::new(status.1.stdout.unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    let logs = logs.join("\n");
    assert!(
        logs.contains("sigterm-test-7"),
        "the request id appears in the logs:\n{logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
}

#[tokio::test]
async fn admin_grant_and_revoke_by_email_are_audited_and_explain_an_unknown_address() {
    let db = TestDb::migrated().await;
    let user = db.add_user("ops@kilat.id").await;
    let admin = |action: &str, email: &str| {
        server()
            .args(["admin", action, email])
            .env("DATABASE_URL", db.url())
            .output()
            .unwrap()
    };
    let is_admin = || async {
        kilat_server::auth::roles::is_admin(&db.pool, user)
            .await
            .unwrap()
    };

    let granted = admin("grant", "Ops@Kilat.id");
    assert!(granted.status.success(), "{granted:?}");
    assert!(String::from_utf8_lossy(&granted.stdout).contains("is now admin"));
    assert!(is_admin().await);
    let again = admin("grant", "ops@kilat.id");
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));

    let revoked = admin("revoke", "ops@kilat.id");
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(!is_admin().await);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from public.audit_logs
         where action = 'role.changed' and target_id = $1::text and actor_id is null",
    )
    .bind(user)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2, "one entry per real change, made by the system");

    let unknown = admin("grant", "nobody@kilat.id");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no account has the email nobody@kilat.id"),
        "{unknown:?}"
    );
}
