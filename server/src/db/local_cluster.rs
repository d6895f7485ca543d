//! The project-local PostgreSQL used when `DATABASE_URL` is not set.
//!
//! The cluster lives under `.data/postgres`, listens on 127.0.0.1 only, and keeps running after
//! the server stops so the next start reuses it (`pg_ctl stop -D .data/postgres` stops it).
//! Starting is serialised with a file lock, so two servers never fight over one cluster.

use std::{
    fs::{self, File, OpenOptions},
    os::unix::{fs::chown, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The superuser `initdb` creates; local connections are trusted.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum LocalClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with \
         `sudo apt-get install -y postgresql` (Debian/Ubuntu), set PG_BIN_DIR to the folder that \
         holds them, or set DATABASE_URL to use an existing PostgreSQL"
    )]
    BinariesNotFound,
    #[error(
        "the server runs as root, and PostgreSQL refuses to run as root; it runs the local cluster \
         as the `postgres` system user, which does not exist here. Create it (`useradd --system postgres`) \
         or run as a normal user"
    )]
    NoUnprivilegedUser,
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Clone, Debug)]
pub struct LocalCluster {
    data_dir: PathBuf,
    port: u16,
}

impl LocalCluster {
    pub fn new(data_dir: impl Into<PathBuf>, port: u16) -> Self {
        let data_dir = data_dir.into();
        // PostgreSQL's programs run from `/` (see `Tools`), so relative paths would break.
        let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
        Self { data_dir, port }
    }

    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates the cluster on first use and starts it unless it already runs.
    pub async fn ensure_running(&self) -> Result<(), LocalClusterError> {
        let cluster = self.clone();
        tokio::task::spawn_blocking(move || cluster.ensure_running_blocking())
            .await
            .expect("the local cluster task does not panic")
    }

    fn ensure_running_blocking(&self) -> Result<(), LocalClusterError> {
        let tools = Tools::find()?;
        let parent = self.data_dir.parent().unwrap_or(Path::new("."));
        create_dir(parent)?;
        let lock_path = parent.join(format!(
            "{}.lock",
            self.data_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("postgres")
        ));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| io_error("cannot open", &lock_path, source))?;
        lock.lock()
            .map_err(|source| io_error("cannot lock", &lock_path, source))?;
        let result = self.init_and_start(&tools);
        drop(lock);
        result
    }

    /// Stops the cluster if it runs (fast shutdown: open sessions are ended). Returns whether it
    /// was running.
    pub fn stop(&self) -> Result<bool, LocalClusterError> {
        let tools = Tools::find()?;
        if !tools.is_running(&self.data_dir) {
            return Ok(false);
        }
        let output = tools
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w"])
            .output();
        check("pg_ctl stop", output)?;
        Ok(true)
    }

    fn init_and_start(&self, tools: &Tools) -> Result<(), LocalClusterError> {
        if !self.data_dir.join("PG_VERSION").exists() {
            create_dir(&self.data_dir)?;
            tools.own(&self.data_dir)?;
            tracing::info!(dir = %self.data_dir.display(), "creating the local PostgreSQL cluster");
            let output = tools
                .command("initdb")
                .arg("--pgdata")
                .arg(&self.data_dir)
                .args([
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                ])
                .args(["--locale", "C.UTF-8", "--no-instructions"])
                .output();
            check("initdb", output)?;
            // Loopback only, no Unix socket (its path length is limited), and commits that do
            // not wait for the disk: a development cluster trades crash durability for speed.
            let settings = "\n# kilat: local development cluster\nlisten_addresses = '127.0.0.1'\n\
                            unix_socket_directories = ''\nsynchronous_commit = off\n";
            let conf = self.data_dir.join("postgresql.conf");
            let mut current =
                fs::read_to_string(&conf).map_err(|e| io_error("cannot read", &conf, e))?;
            current.push_str(settings);
            fs::write(&conf, current).map_err(|e| io_error("cannot write", &conf, e))?;
        }

        if tools.is_running(&self.data_dir) {
            return Ok(());
        }
        let log = self.data_dir.with_extension("log");
        if !log.exists() {
            File::create(&log).map_err(|e| io_error("cannot create", &log, e))?;
            tools.own(&log)?;
        }
        tracing::info!(port = self.port, "starting the local PostgreSQL cluster");
        let output = tools
            .command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .output();
        check("pg_ctl start", output).map_err(|err| match err {
            LocalClusterError::Command { action, detail } => LocalClusterError::Command {
                action,
                detail: format!(
                    "{detail} (see {} — is port {} taken?)",
                    log.display(),
                    self.port
                ),
            },
            other => other,
        })
    }
}

/// PostgreSQL's server programs, run as the current user, or as `postgres` when we are root.
struct Tools {
    bin_dir: PathBuf,
    as_user: Option<(u32, u32)>,
}

impl Tools {
    fn find() -> Result<Self, LocalClusterError> {
        let bin_dir = find_bin_dir().ok_or(LocalClusterError::BinariesNotFound)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Self {
                bin_dir,
                as_user: None,
            });
        }
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let ids = passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        });
        ids.map(|ids| Self {
            bin_dir,
            as_user: Some(ids),
        })
        .ok_or(LocalClusterError::NoUnprivilegedUser)
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        if let Some((uid, gid)) = self.as_user {
            // Our working directory may not be readable by that user.
            command
                .uid(uid)
                .gid(gid)
                .env("HOME", "/tmp")
                .current_dir("/");
        }
        command
    }

    fn is_running(&self, data_dir: &Path) -> bool {
        let status = self
            .command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(data_dir)
            .output();
        matches!(status, Ok(out) if out.status.success())
    }

    fn own(&self, path: &Path) -> Result<(), LocalClusterError> {
        match self.as_user {
            Some((uid, gid)) => {
                chown(path, Some(uid), Some(gid)).map_err(|e| io_error("cannot hand over", path, e))
            }
            None => Ok(()),
        }
    }
}

/// `PG_BIN_DIR`, else the newest Debian/Ubuntu install, else `initdb` on `PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| has_tools(dir))
}

fn create_dir(path: &Path) -> Result<(), LocalClusterError> {
    fs::create_dir_all(path).map_err(|e| io_error("cannot create", path, e))
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> LocalClusterError {
    LocalClusterError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn check(action: &str, output: std::io::Result<Output>) -> Result<(), LocalClusterError> {
    let output = output.map_err(|e| LocalClusterError::Command {
        action: action.into(),
        detail: e.to_string(),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&output.stdout).trim().to_string();
    }
    Err(LocalClusterError::Command {
        action: action.into(),
        detail,
    })
}
