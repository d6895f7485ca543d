//! Build assets go out as `cargo leptos build --release --precompress` wrote them: the brotli
//! or gzip copy beside each file, untouched, with its year-long cache; pages are compressed per
//! response. The assets are served from a site root of the test's own, never from `target/site`.

use std::path::{Path, PathBuf};

use reqwest::{Response, header};

use crate::helpers::{spawn_app, spawn_app_serving_files};

const SCRIPT: &str = "/pkg/kilat.0123abcd.js";
/// The script's text, long enough that it would be worth compressing.
const SCRIPT_TEXT: &str = "export function hydrate() { return 'Kilat'; }\n";
/// Stand-ins for the compressed copies: the server must hand them over as they are, without
/// looking inside, so any distinct bytes prove it did.
const SCRIPT_BR: &[u8] = b"\x1b\x8f brotli 11 bytes written by cargo leptos --precompress";
const SCRIPT_GZ: &[u8] = b"\x1f\x8b gzip bytes written by cargo leptos --precompress";
/// A stylesheet without compressed copies beside it, as a debug build leaves it.
const STYLESHEET: &str = "/pkg/kilat.0123abcd.css";
const YEAR_LONG: &str = "public, max-age=31536000, immutable";

/// A site root of the test's own, removed when the test ends.
struct SiteRoot(PathBuf);

impl SiteRoot {
    fn with_precompressed_script() -> Self {
        let root = std::env::temp_dir().join(format!("kilat-site-{}", uuid::Uuid::new_v4()));
        let file = |path: &str| root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file("/pkg")).unwrap();
        std::fs::write(file(SCRIPT), SCRIPT_TEXT.repeat(20)).unwrap();
        std::fs::write(file(&format!("{SCRIPT}.br")), SCRIPT_BR).unwrap();
        std::fs::write(file(&format!("{SCRIPT}.gz")), SCRIPT_GZ).unwrap();
        std::fs::write(file(STYLESHEET), "body { margin: 0; }\n".repeat(20)).unwrap();
        SiteRoot(root)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SiteRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn get(app: &crate::helpers::TestApp, path: &str, accept_encoding: &str) -> Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .send()
        .await
        .expect("request is answered")
}

fn header_of(response: &Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// What every answer for the script carries, whichever copy it is: the script's type, the
/// year-long cache of a hashed name, and `Vary`, so a shared cache never hands the brotli copy
/// to a browser that did not ask for it.
fn assert_script_headers(response: &Response) {
    assert_eq!(response.status(), 200);
    assert_eq!(header_of(response, header::CONTENT_TYPE), "text/javascript");
    assert_eq!(header_of(response, header::CACHE_CONTROL), YEAR_LONG);
    assert!(
        header_of(response, header::VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "Vary: {:?}",
        response.headers().get_all(header::VARY)
    );
}

#[tokio::test]
async fn a_browser_accepting_brotli_gets_the_precompressed_copy_as_it_is() {
    let site = SiteRoot::with_precompressed_script();
    let app = spawn_app_serving_files(site.path()).await;

    // What Chromium sends: brotli is preferred over gzip.
    let response = get(&app, SCRIPT, "gzip, deflate, br, zstd").await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "br");
    assert_script_headers(&response);
    assert_eq!(response.bytes().await.unwrap(), SCRIPT_BR);

    let response = get(&app, SCRIPT, "br").await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "br");
    assert_eq!(response.bytes().await.unwrap(), SCRIPT_BR);
}

#[tokio::test]
async fn a_browser_accepting_only_gzip_gets_the_precompressed_gzip_copy_as_it_is() {
    let site = SiteRoot::with_precompressed_script();
    let app = spawn_app_serving_files(site.path()).await;

    for accepted in ["gzip", "gzip, deflate", "br;q=0, gzip"] {
        let response = get(&app, SCRIPT, accepted).await;
        assert_eq!(
            header_of(&response, header::CONTENT_ENCODING),
            "gzip",
            "{accepted}"
        );
        assert_script_headers(&response);
        assert_eq!(response.bytes().await.unwrap(), SCRIPT_GZ, "{accepted}");
    }
}

#[tokio::test]
async fn a_client_that_refuses_compression_gets_the_plain_file() {
    let site = SiteRoot::with_precompressed_script();
    let app = spawn_app_serving_files(site.path()).await;

    for accepted in ["identity", "br;q=0, gzip;q=0"] {
        let response = get(&app, SCRIPT, accepted).await;
        assert_eq!(
            response.headers().get(header::CONTENT_ENCODING),
            None,
            "{accepted}"
        );
        assert_script_headers(&response);
        assert_eq!(
            response.text().await.unwrap(),
            SCRIPT_TEXT.repeat(20),
            "{accepted}"
        );
    }
    // No Accept-Encoding at all: the plain file too.
    let response = app
        .client
        .get(format!("{}{SCRIPT}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get(header::CONTENT_ENCODING), None);
    assert_eq!(response.text().await.unwrap(), SCRIPT_TEXT.repeat(20));
}

#[tokio::test]
async fn an_asset_without_precompressed_copies_is_compressed_per_request() {
    let site = SiteRoot::with_precompressed_script();
    let app = spawn_app_serving_files(site.path()).await;

    let plain = get(&app, STYLESHEET, "identity").await;
    assert_eq!(plain.status(), 200);
    let plain = plain.bytes().await.unwrap();

    for encoding in ["br", "gzip"] {
        let response = get(&app, STYLESHEET, encoding).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), encoding);
        assert_eq!(header_of(&response, header::CACHE_CONTROL), YEAR_LONG);
        let compressed = response.bytes().await.unwrap();
        assert!(
            compressed.len() < plain.len() / 4,
            "{encoding}: {} bytes for {} plain",
            compressed.len(),
            plain.len()
        );
    }
}

#[tokio::test]
async fn pages_are_compressed_per_response_brotli_first() {
    let app = spawn_app().await;

    let plain = get(&app, "/", "identity").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers().get(header::CONTENT_ENCODING), None);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"<!DOCTYPE html>"), "the landing page");

    for (accepted, encoding) in [
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        ("gzip, deflate", "gzip"),
    ] {
        let response = get(&app, "/", accepted).await;
        assert_eq!(response.status(), 200, "{accepted}");
        assert_eq!(
            header_of(&response, header::CONTENT_ENCODING),
            encoding,
            "{accepted}"
        );
        assert!(
            header_of(&response, header::CONTENT_TYPE).starts_with("text/html"),
            "{accepted}"
        );
        assert!(
            header_of(&response, header::VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{accepted}"
        );
        // Each page carries its own nonce, so it cannot be compared byte for byte with a
        // reference; a landing page compresses to well under a third of its size.
        let compressed = response.bytes().await.unwrap();
        assert!(
            compressed.len() * 3 < plain.len(),
            "{accepted}: {} bytes for {} plain",
            compressed.len(),
            plain.len()
        );
    }
}
