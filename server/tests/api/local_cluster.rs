use std::{net::TcpListener, path::PathBuf, time::Duration};

use crate::{cli::server, helpers::workspace_root};

/// Where a new cluster of its own may live, and a free port for it.
fn scratch_cluster() -> (PathBuf, u16) {
    let dir = workspace_root().join(format!(
        "target/test-clusters/{}/postgres",
        uuid::Uuid::new_v4().simple()
    ));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    (dir, port)
}

/// Two servers starting at once against one (new) local cluster: one creates and starts it, the
/// other waits for it and reuses it; both migrate the same database without error.
#[tokio::test]
async fn two_servers_share_one_new_local_cluster() {
    let (dir, port) = scratch_cluster();
    let port = port.to_string();
    let spawn = {
        let (dir, port) = (dir.clone(), port.clone());
        move || {
            server()
                .arg("migrate")
                .env("LOCAL_POSTGRES_DIR", &dir)
                .env("LOCAL_POSTGRES_PORT", &port)
                .output()
        }
    };
    let (first, second) = tokio::join!(
        tokio::task::spawn_blocking(spawn.clone()),
        tokio::task::spawn_blocking(spawn)
    );
    let (first, second) = (first.unwrap().unwrap(), second.unwrap().unwrap());

    let pid = std::fs::read_to_string(dir.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok());
    let outcome = (first.status.success(), second.status.success());
    let out = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let (first_out, second_out) = (out(&first), out(&second));

    // Stop the cluster before asserting, so a failure leaves nothing running.
    if let Some(pid) = pid {
        // SAFETY: signals the postmaster this test started; SIGINT is PostgreSQL's fast shutdown.
        unsafe { libc::kill(pid, libc::SIGINT) };
        for _ in 0..100 {
            if !dir.join("postmaster.pid").exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());

    assert_eq!(
        outcome,
        (true, true),
        "first:\n{first_out}\nsecond:\n{second_out}"
    );
    assert!(pid.is_some(), "the cluster was running");
    let applied = [&first_out, &second_out]
        .iter()
        .filter(|o| o.contains("were already applied"))
        .count();
    assert_eq!(applied, 2, "both report:\n{first_out}\n{second_out}");
}

/// Roles belong to the whole cluster: databases of a new cluster migrated at the same moment
/// race to create `anon`, `authenticated` and `service_role`, and every one must succeed.
#[tokio::test]
async fn migrations_apply_at_once_to_several_databases_of_a_new_cluster() {
    use kilat_server::db::{self, local_cluster::LocalCluster, migrations::MIGRATOR};
    use sqlx::postgres::PgConnectOptions;

    let (dir, port) = scratch_cluster();
    let cluster = LocalCluster::new(&dir, port);
    cluster
        .ensure_running()
        .await
        .expect("a new cluster starts");

    let server: PgConnectOptions = cluster.url("postgres").parse().unwrap();
    let mut pools = Vec::new();
    for i in 0..4 {
        let name = format!("concurrent_{i}");
        db::create_database_if_missing(&server, &name)
            .await
            .unwrap();
        pools.push((
            name.clone(),
            sqlx::PgPool::connect_with(server.clone().database(&name))
                .await
                .unwrap(),
        ));
    }
    let migrations: Vec<_> = pools
        .into_iter()
        .map(|(name, pool)| {
            tokio::spawn(async move {
                MIGRATOR
                    .run(&pool)
                    .await
                    .map_err(|e| format!("{name}: {e}"))
            })
        })
        .collect();
    let mut results = Vec::new();
    for migration in migrations {
        results.push(migration.await.unwrap());
    }

    let stopped = tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    assert!(stopped.unwrap(), "the cluster was running");
    for result in results {
        result.unwrap();
    }
}
