//! What each compression level costs for one page: bytes on the wire and CPU time per
//! response, through the same tower-http `CompressionLayer` the server puts in front of pages,
//! so the numbers need no rebuild per level. `bench/compression.sh` feeds it the landing page
//! as the release server renders it, and turns its lines into the table in
//! `bench/results.md`.
//!
//! Usage: `cargo run --release -p server --example compression_levels -- PAGE.html [ROUNDS]`
//!
//! Prints one tab-separated line per encoding and level: `encoding level bytes µs shipped`,
//! where µs is the process CPU time per response over ROUNDS responses (default 640), compressed
//! 32 at a time on one runtime thread per core, as the server does under load (the encoders'
//! buffers compete for the caches then); CPU time, not wall time, so a busy machine does not
//! inflate it. `shipped` marks the level the server uses (`http_layers::HTML_COMPRESSION`).

use axum::body::{Body, Bytes};
use http::{Request, Response, header};
use kilat_server::http_layers::HTML_COMPRESSION;
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_http::compression::{CompressionLayer, CompressionLevel};

const LEVELS: &[(&str, &[i32])] = &[
    ("identity", &[0]),
    ("br", &[1, 3, 4, 5, 6, 9, 11]),
    ("gzip", &[1, 6, 9]),
];
/// Responses in flight at once, as wrk -c32 keeps them.
const IN_FLIGHT: usize = 32;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let page = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: compression_levels PAGE.html [ROUNDS]"))?;
    let rounds: usize = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|_| anyhow::anyhow!("ROUNDS must be a whole number, not {n:?}"))?,
        None => 640,
    };
    let html = Bytes::from(
        std::fs::read(&page).map_err(|e| anyhow::anyhow!("cannot read the page {page}: {e}"))?,
    );
    let shipped = match HTML_COMPRESSION {
        CompressionLevel::Precise(level) => Some(level),
        _ => None,
    };
    for (encoding, levels) in LEVELS {
        let mut levels = levels.to_vec();
        // The shipped level always has its row, to compare with the server's measured one.
        if let Some(level) = shipped
            && *encoding != "identity"
            && !levels.contains(&level)
        {
            levels.push(level);
            levels.sort();
        }
        for level in levels {
            let (bytes, micros) = measure(&html, encoding, level, rounds).await;
            let mark = if *encoding != "identity" && shipped == Some(level) {
                "shipped"
            } else {
                ""
            };
            println!("{encoding}\t{level}\t{bytes}\t{micros:.0}\t{mark}");
        }
    }
    Ok(())
}

/// The size of one response and the CPU time per response, in µs, over `rounds` responses.
async fn measure(html: &Bytes, encoding: &'static str, level: i32, rounds: usize) -> (usize, f64) {
    let page = html.clone();
    let respond = service_fn(move |_: Request<Body>| {
        let page = page.clone();
        async move {
            Ok::<_, std::convert::Infallible>(
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                    .body(Body::from(page))
                    .unwrap(),
            )
        }
    });
    let service = ServiceBuilder::new()
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(level)))
        .service(respond);
    let run = |responses: usize| {
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let service = service.clone();
                tokio::spawn(async move {
                    let mut size = 0;
                    for _ in 0..responses.div_ceil(IN_FLIGHT) {
                        let request = Request::get("/")
                            .header(header::ACCEPT_ENCODING, encoding)
                            .body(Body::empty())
                            .unwrap();
                        let response = service.clone().oneshot(request).await.unwrap();
                        let body =
                            axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
                                .await
                                .expect("the compressed body is read");
                        size = body.len();
                        // Let the other responses in flight take turns, as connections do.
                        tokio::task::yield_now().await;
                    }
                    size
                })
            })
            .collect();
        async move {
            let mut size = 0;
            for task in tasks {
                size = task.await.expect("a compression task finished");
            }
            size
        }
    };
    // The first responses warm caches and the allocator; they are not counted.
    run(IN_FLIGHT).await;
    let before = process_cpu_seconds();
    let size = run(rounds).await;
    let spent = process_cpu_seconds() - before;
    let responses = rounds.div_ceil(IN_FLIGHT) * IN_FLIGHT;
    (size, spent / responses as f64 * 1e6)
}

/// CPU time this process has used so far, all threads together.
fn process_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the process's CPU clock is readable");
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}
