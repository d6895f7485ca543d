//! The `server` command line: serve (default), migrate, doctor, env-check, stop-local-db,
//! seed-demo, admin grant/revoke.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use sqlx::migrate::Migrator;

use app::domain::AppRole;

use crate::{
    admin::demo::{self, DemoSize},
    auth::roles::{self, RequestedBy},
    config::{Config, ConfigError, DatabaseSource, Environment, FeatureState},
    db::{self, local_cluster::LocalCluster, migrations},
    leptos_settings,
    startup::{Application, shutdown_signal},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "server",
    about = "Kilat: the full-stack Rust SaaS foundation",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve the app (the default).
    Serve,
    /// Apply pending migrations, then exit.
    Migrate,
    /// Compare the migration files with what the database has applied; exit 1 on any drift.
    Doctor {
        /// The folder of migration files to compare with.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
    },
    /// Show, per feature, whether it is ready, on a local stand-in, disabled, or missing configuration.
    EnvCheck,
    /// Stop the project-local PostgreSQL cluster (it keeps running after the server stops).
    StopLocalDb,
    /// Fill the database with believable demo data for the admin dashboard (not in production).
    SeedDemo {
        #[arg(long, default_value_t = DemoSize::default().users)]
        users: u32,
        #[arg(long, default_value_t = DemoSize::default().payments)]
        payments: u32,
        #[arg(long = "audit-entries", default_value_t = DemoSize::default().audit_entries)]
        audit_entries: u32,
        #[arg(long, default_value_t = DemoSize::default().waitlist)]
        waitlist: u32,
    },
    /// Give or take the admin role by email (audited as a change made by the system).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account with this email an admin.
    Grant { email: String },
    /// Make the account with this email a member again.
    Revoke { email: String },
}

pub fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.environment);
    let command = cli.command.unwrap_or(Command::Serve);
    if config.environment == Environment::Production
        && matches!(config.database, DatabaseSource::LocalCluster { .. })
        && matches!(
            command,
            Command::Migrate
                | Command::Doctor { .. }
                | Command::Admin { .. }
                | Command::SeedDemo { .. }
        )
    {
        eprintln!(
            "{}",
            ConfigError {
                problems: vec![
                    "DATABASE_URL is required in production (the local cluster is for development only)"
                        .into()
                ]
            }
        );
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    let result = runtime.block_on(async move {
        match command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Doctor { migrations } => doctor(config, migrations).await,
            Command::EnvCheck => Ok(env_check(&config)),
            Command::StopLocalDb => stop_local_db(&config),
            Command::SeedDemo {
                users,
                payments,
                audit_entries,
                waitlist,
            } => {
                let size = DemoSize {
                    users,
                    payments,
                    audit_entries,
                    waitlist,
                };
                seed_demo(config, size).await
            }
            Command::Admin { action } => match action {
                AdminAction::Grant { email } => change_role(config, &email, AppRole::Admin).await,
                AdminAction::Revoke { email } => change_role(config, &email, AppRole::Member).await,
            },
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let options = leptos_settings::load()?;
    // Refused before anything starts (no local cluster, no twins): one message, every problem.
    if let Err(error) = config.check_serve(config.listen_addr.unwrap_or(options.site_addr)) {
        eprintln!("{error}");
        return Ok(ExitCode::from(2));
    }
    let environment = config.environment;
    let app = Application::build(config, options).await?;
    tracing::info!(
        environment = environment.as_str(),
        "listening on http://{}",
        app.local_addr()
    );
    app.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn seed_demo(config: Config, size: DemoSize) -> anyhow::Result<ExitCode> {
    if config.environment == Environment::Production {
        eprintln!("seed-demo makes made-up people and payments: it never runs in production");
        return Ok(ExitCode::from(2));
    }
    let pool = db::connect(&config.database, config.database_pool_size).await?;
    migrations::MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations failed")?;
    let started = std::time::Instant::now();
    demo::seed(&pool, size)
        .await
        .context("making the demo data failed")?;
    println!(
        "demo data made in {:.1} s: {} people, {} payments, {} audit entries, {} waitlist sign-ups. \
         Sign in with an address in ADMIN_EMAILS to see it in /admin.",
        started.elapsed().as_secs_f64(),
        size.users,
        size.payments,
        size.audit_entries,
        size.waitlist
    );
    Ok(ExitCode::SUCCESS)
}

async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database, config.database_pool_size).await?;
    let before = migrations::compare(&pool, &migrations::MIGRATOR).await?;
    migrations::MIGRATOR
        .run(&pool)
        .await
        .context("applying migrations failed")?;
    println!(
        "applied {} migration(s); {} were already applied",
        before.pending.len(),
        before.applied
    );
    Ok(ExitCode::SUCCESS)
}

async fn doctor(config: Config, dir: PathBuf) -> anyhow::Result<ExitCode> {
    let files = Migrator::new(dir.as_path())
        .await
        .with_context(|| format!("cannot read migration files from {}", dir.display()))?;
    let pool = db::connect(&config.database, config.database_pool_size).await?;
    let report = migrations::compare(&pool, &files).await?;
    println!(
        "{} migration file(s) in {}; {} applied to the database",
        files.iter().count(),
        dir.display(),
        report.applied
    );
    for (version, description) in &report.pending {
        println!("  missing   {version} {description}: not applied (run `server migrate`)");
    }
    for (version, description) in &report.changed {
        println!("  changed   {version} {description}: the file differs from what was applied");
    }
    for version in &report.unknown_applied {
        println!("  extra     {version}: applied, but no file has this version");
    }
    if report.has_drift() {
        println!("drift found: the database does not match the migration files");
        Ok(ExitCode::FAILURE)
    } else {
        println!("no drift: every migration file is applied, unchanged");
        Ok(ExitCode::SUCCESS)
    }
}

async fn change_role(config: Config, email: &str, role: AppRole) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database, config.database_pool_size).await?;
    let user = roles::user_by_email(&pool, email)
        .await
        .context("cannot look the account up (is the database migrated? run `server migrate`)")?
        .with_context(|| format!("no account has the email {email}: sign up first"))?;
    let change = roles::set_user_role(&pool, user, role, &RequestedBy::default()).await?;
    if change.changed {
        println!("{email} is now {} (audited)", role.as_db());
    } else {
        println!("{email} already was {}; nothing changed", role.as_db());
    }
    Ok(ExitCode::SUCCESS)
}

fn stop_local_db(config: &Config) -> anyhow::Result<ExitCode> {
    let DatabaseSource::LocalCluster { data_dir, port } = &config.database else {
        anyhow::bail!("DATABASE_URL is set: there is no local cluster to stop");
    };
    let stopped = LocalCluster::new(data_dir, *port).stop()?;
    println!(
        "{} {}",
        if stopped {
            "stopped the local PostgreSQL cluster in"
        } else {
            "no local PostgreSQL cluster runs in"
        },
        data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn env_check(config: &Config) -> ExitCode {
    println!("environment: {}", config.environment.as_str());
    let mut complete = true;
    for (feature, state) in config.features() {
        let missing = state.missing_env();
        let detail = if missing.is_empty() {
            String::new()
        } else {
            format!(" (unset: {})", missing.join(", "))
        };
        println!("  {:<9} {}{detail}", feature.name(), state.label());
        complete &= !matches!(state, FeatureState::MissingConfiguration { .. });
    }
    let problems = config.production_problems();
    if !problems.is_empty() {
        println!("production refuses to serve:");
        for problem in problems {
            println!("  - {problem}");
        }
        complete = false;
    }
    if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
