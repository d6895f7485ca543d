//! The test harness: a fresh, migrated database per test on a real PostgreSQL, and the server
//! spawned on a random port against it.
//!
//! The PostgreSQL is `DATABASE_URL` when set, else the project's local cluster (started on demand).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use app::identity::api::SignUp;
use kilat_server::{
    config::{Config, DEFAULT_LOCAL_POSTGRES_PORT},
    db::{local_cluster::LocalCluster, migrations::MIGRATOR},
    leptos_settings,
    startup::Application,
};
use leptos::server_fn::ServerFn;
use reqwest::{Response, header};
use sqlx::{
    ConnectOptions, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::OnceCell;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The server the test databases are created on, started once per test binary.
async fn server_options() -> PgConnectOptions {
    static SERVER: OnceCell<PgConnectOptions> = OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            match std::env::var("DATABASE_URL") {
                Ok(url) => url
                    .parse()
                    .expect("DATABASE_URL is a valid connection string"),
                Err(_) => {
                    // The cluster the app uses, as the app's configuration would find it from
                    // the workspace root.
                    let port = std::env::var("LOCAL_POSTGRES_PORT")
                        .map(|p| p.parse().expect("LOCAL_POSTGRES_PORT is a port number"))
                        .unwrap_or(DEFAULT_LOCAL_POSTGRES_PORT);
                    let dir =
                        std::env::var("LOCAL_POSTGRES_DIR").unwrap_or(".data/postgres".into());
                    let cluster = LocalCluster::new(workspace_root().join(dir), port);
                    cluster
                        .ensure_running()
                        .await
                        .expect("the local PostgreSQL cluster starts");
                    cluster.url("postgres").parse().expect("a valid local URL")
                }
            }
        })
        .await
        .clone()
}

/// The name of a database with every migration applied, made once per set of migrations (its
/// name carries their checksums) and copied for each test. Test databases left by runs over
/// three hours ago are dropped here, so they do not pile up.
async fn migrated_template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            use sha2::{Digest, Sha256};
            let mut digest = Sha256::new();
            for migration in MIGRATOR.iter() {
                digest.update(migration.version.to_be_bytes());
                digest.update(&*migration.checksum);
            }
            let hash = format!("{:x}", digest.finalize());
            let name = format!("kilat_template_{}", &hash[..16]);
            let server = server_options().await;
            let mut conn = server.connect().await.expect("the test server answers");
            // Test binaries run at once (and in several checkouts) build it once, in turn.
            sqlx::query("select pg_advisory_lock(7014112026)")
                .execute(&mut conn)
                .await
                .unwrap();
            let exists: bool =
                sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            if !exists {
                let building = format!("{name}_building");
                for statement in [
                    format!("drop database if exists \"{building}\" with (force)"),
                    format!("create database \"{building}\""),
                ] {
                    sqlx::raw_sql(&statement)
                        .execute(&mut conn)
                        .await
                        .expect("the template database is created");
                }
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(server.database(&building))
                    .await
                    .unwrap();
                MIGRATOR
                    .run(&pool)
                    .await
                    .expect("migrations apply to a fresh database");
                pool.close().await;
                // Renamed only when complete, so a crash never leaves a half-migrated template.
                sqlx::raw_sql(&format!(
                    "alter database \"{building}\" rename to \"{name}\""
                ))
                .execute(&mut conn)
                .await
                .unwrap();
            }
            let stale: Vec<String> = sqlx::query_scalar(
                "select datname from pg_database
                 where datname ~ '^kilat_test_[0-9]+_'
                   and split_part(datname, '_', 3)::bigint < extract(epoch from now()) - 3 * 3600",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for database in stale {
                let _ = sqlx::raw_sql(&format!(
                    "drop database if exists \"{database}\" with (force)"
                ))
                .execute(&mut conn)
                .await;
            }
            sqlx::query("select pg_advisory_unlock(7014112026)")
                .execute(&mut conn)
                .await
                .unwrap();
            let _ = sqlx::Connection::close(conn).await;
            name
        })
        .await
}

/// A database of its own for one test.
pub struct TestDb {
    pub pool: PgPool,
    pub options: PgConnectOptions,
}

impl TestDb {
    /// A fresh database with every migration applied: a copy of the migrated template, which
    /// is much faster than applying the migrations again.
    pub async fn migrated() -> Self {
        let template = migrated_template().await;
        Self::create(&format!(" template \"{template}\"")).await
    }

    /// A fresh database with nothing in it.
    pub async fn empty() -> Self {
        Self::create("").await
    }

    async fn create(clause: &str) -> Self {
        let server = server_options().await;
        // The creation time in the name lets a later run drop what this one leaves behind.
        let name = format!(
            "kilat_test_{}_{}",
            chrono::Utc::now().timestamp(),
            uuid::Uuid::new_v4().simple()
        );
        let mut conn = server.connect().await.expect("the test server answers");
        sqlx::raw_sql(&format!("create database \"{name}\"{clause}"))
            .execute(&mut conn)
            .await
            .expect("test database is created");
        let _ = sqlx::Connection::close(conn).await;
        let options = server.database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options.clone())
            .await
            .unwrap();
        Self { pool, options }
    }

    /// An account in `auth.users`, as Supabase Auth would create it (the signup triggers give
    /// it a profile, a FREE subscription and the member role).
    pub async fn add_user(&self, email: &str) -> uuid::Uuid {
        sqlx::query_scalar(
            "insert into auth.users (id, email, aud, role, created_at)
             values (gen_random_uuid(), $1, 'authenticated', 'authenticated', now()) returning id",
        )
        .bind(email)
        .fetch_one(&self.pool)
        .await
        .expect("the account is created")
    }

    /// The connection string of this database, for child processes.
    pub fn url(&self) -> String {
        self.options.to_url_lossy().to_string()
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

/// The server on a random port against a fresh, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDb::migrated().await.pool, &[]).await
}

/// The server with extra environment variables on a fresh, migrated database, and that
/// database for the test to look into.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> (TestApp, PgPool) {
    let pool = TestDb::migrated().await.pool;
    (spawn_app_on(pool.clone(), vars).await, pool)
}

/// Sign-up signs in at once, without a confirmation email.
pub const NO_CONFIRMATION: (&str, &str) = ("LOCAL_AUTH_EMAIL_CONFIRMATION", "false");

/// The server on `pool`, with extra environment variables for its configuration.
pub async fn spawn_app_on(pool: PgPool, vars: &[(&str, &str)]) -> TestApp {
    let options = leptos_settings::load().expect("Leptos settings load");
    spawn_app_with_options(pool, vars, options).await
}

/// The server on a fresh, migrated database, serving the static files under `site_root`
/// instead of the build's `target/site`, with hashed asset names as in a release build. It
/// must only be asked for files: a page would need the hash file a release build writes beside
/// the binary.
pub async fn spawn_app_serving_files(site_root: &Path) -> TestApp {
    let mut options = leptos_settings::load().expect("Leptos settings load");
    options.site_root = site_root.to_string_lossy().into_owned().into();
    options.hash_files = true;
    spawn_app_with_options(TestDb::migrated().await.pool, &[], options).await
}

async fn spawn_app_with_options(
    pool: PgPool,
    vars: &[(&str, &str)],
    options: leptos::config::LeptosOptions,
) -> TestApp {
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // The pool is handed over directly; the URL only has to be well-formed.
    env.entry("DATABASE_URL".into())
        .or_insert_with(|| "postgres://127.0.0.1/given-pool".into());
    // Each test's stand-ins (Supabase Auth and mail twins) on a free port.
    env.entry("LOCAL_SUPABASE_PORT".into())
        .or_insert_with(|| "0".into());
    // The Storage twin's files in the system's temporary folder, not in the checkout.
    env.entry("LOCAL_STORAGE_DIR".into()).or_insert_with(|| {
        std::env::temp_dir()
            .join("kilat-test-storage")
            .to_string_lossy()
            .into_owned()
    });
    // Pages in English, which most tests read, unless a test asks for another default.
    env.entry("DEFAULT_LOCALE".into())
        .or_insert_with(|| "en".into());
    let mut config =
        Config::from_lookup(|key| env.get(key).cloned()).expect("test configuration is valid");
    config.listen_addr = Some(([127, 0, 0, 1], 0).into());
    let app = Application::build_with_pool(config, options, pool)
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        client: browser(),
    }
}

/// A client like a browser: its own cookies, redirects shown rather than followed. A request
/// that takes two minutes fails, naming it, instead of hanging the whole run.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap()
}

/// The password the helpers sign people up with.
pub const PASSWORD: &str = "rahasia-123";

impl TestApp {
    /// The same server seen from another browser (no cookies).
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: browser(),
        }
    }

    /// Posts the sign-up form for `email` with [`PASSWORD`], as a browser without JavaScript.
    pub async fn sign_up(&self, email: &str, full_name: &str) -> Response {
        self.post_form(
            SignUp::PATH,
            &[
                ("email", email),
                ("password", PASSWORD),
                ("full_name", full_name),
            ],
        )
        .await
    }

    /// Signs a new account up and checks it is signed in at once (the server must run with
    /// `LOCAL_AUTH_EMAIL_CONFIRMATION=false`).
    pub async fn sign_up_signed_in(&self, email: &str, full_name: &str) {
        let response = self.sign_up(email, full_name).await;
        assert_eq!(location(&response), "/dashboard", "{}", response.status());
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request is answered")
    }

    /// The HTML of the page at `path`, which must answer 200.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }

    /// A same-site form post, as a browser without JavaScript sends it.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .expect("request is answered")
    }

    /// Signs a new account up and opens the confirmation link from the mailbox, which signs it
    /// in (the server must require confirmation, the default).
    pub async fn sign_up_confirmed(&self, email: &str, full_name: &str) {
        let response = self.sign_up(email, full_name).await;
        assert_eq!(
            location(&response),
            "/auth/sign-up-success",
            "{}",
            response.status()
        );
        let signed_in = self.open_emailed_link("type=signup").await;
        assert_eq!(location(&signed_in), "/dashboard", "{}", signed_in.status());
    }

    /// The links in the local mailbox that contain `needle`, newest first.
    pub async fn links(&self, needle: &str) -> Vec<String> {
        let html = self.get("/dev/mailbox").await.text().await.unwrap();
        html.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|link| link.replace("&amp;", "&"))
            .filter(|link| link.contains(needle))
            .collect()
    }

    /// The newest link in the local mailbox that contains `needle`.
    pub async fn newest_link(&self, needle: &str) -> String {
        self.links(needle)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no link with {needle:?} in the mailbox"))
    }

    /// Calls a server function as the page's JavaScript does (answers with a status and JSON,
    /// not a redirect back to the form).
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header(header::ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .expect("request is answered")
    }

    /// Follows Supabase's redirect back to the app (the twin sends people to SITE_URL, which
    /// the tests cannot know before the server has bound its port).
    pub fn on_app(&self, url: &str) -> String {
        let path = url.splitn(4, '/').nth(3).unwrap_or_default();
        format!("{}/{path}", self.address)
    }

    /// Opens an emailed link: through Supabase's verify endpoint and back to `/auth/confirm`,
    /// whose answer is returned.
    pub async fn open_emailed_link(&self, needle: &str) -> Response {
        let verify = self.newest_link(needle).await;
        let back = self.client.get(&verify).send().await.unwrap();
        let confirm = location(&back);
        assert!(confirm.contains("/auth/confirm?code="), "{confirm}");
        self.client.get(self.on_app(&confirm)).send().await.unwrap()
    }
}

/// Starts "Continue with Google" with `next`, runs the local consent page for `email` and
/// returns the app callback it sends the browser to (`{SITE_URL}/auth/confirm?code=…`).
pub async fn google_consent(browser: &TestApp, email: &str, next: &str) -> String {
    let start = browser
        .client
        .get(format!("{}/auth/google", browser.address))
        .query(&[("next", next)])
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    assert!(
        authorize.contains("/auth/v1/authorize?provider=google"),
        "{}: {authorize}",
        start.status()
    );
    assert!(authorize.contains("code_challenge="), "{authorize}");
    let consent = location(&browser.client.get(&authorize).send().await.unwrap());
    let (form_url, query) = consent
        .split_once('?')
        .expect("the consent page has a state");
    let state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    let allowed = browser
        .client
        .post(form_url)
        .form(&[
            ("state", state.as_str()),
            ("email", email),
            ("name", "Dewi"),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let callback = location(&allowed);
    assert!(callback.contains("/auth/confirm?code="), "{callback}");
    browser.on_app(&callback)
}

/// Where a redirect points, or "".
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The session cookie a response sets, as `name=value`.
pub fn set_session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kilat_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// A pool whose server never answers, for "database down" cases.
pub fn unreachable_pool() -> PgPool {
    let options: PgConnectOptions = "postgres://postgres@127.0.0.1:1/none".parse().unwrap();
    PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy_with(options)
}

/// A `server` process on `db`, answering on the returned address (killed when dropped).
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn server_process(db: &TestDb) -> ServerProcess {
    server_process_with(db, &[]).await
}

/// [`server_process`] with extra environment variables.
pub async fn server_process_with(db: &TestDb, vars: &[(&str, &str)]) -> ServerProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = crate::cli::server()
        .env("DATABASE_URL", db.url())
        .env("APP_ENV", "development")
        .env("PORT", port.to_string())
        .env("LOCAL_SUPABASE_PORT", "0")
        .env(
            "LOCAL_STORAGE_DIR",
            std::env::temp_dir().join("kilat-test-storage"),
        )
        .envs(vars.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while reqwest::get(format!("{address}/api/health"))
        .await
        .map_or(true, |answer| answer.status() != 200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server process did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ServerProcess { child, address }
}
