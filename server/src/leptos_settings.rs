//! Where the server finds its Leptos settings.

use std::path::{Path, PathBuf};

use leptos::config::{LeptosOptions, get_configuration};

/// The settings file people edit, at the workspace root.
pub const LEPTOS_TOML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml");

/// Under cargo-leptos (or a deploy that sets `LEPTOS_OUTPUT_NAME`) the `LEPTOS_*` environment;
/// otherwise `Leptos.toml` from the working directory or the workspace this was built in.
/// `LEPTOS_*` variables override file values in both cases.
pub fn load() -> anyhow::Result<LeptosOptions> {
    let file = if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        None
    } else {
        [PathBuf::from("Leptos.toml"), PathBuf::from(LEPTOS_TOML)]
            .into_iter()
            .find(|p| p.is_file())
    };
    let path = file.as_deref().and_then(Path::to_str);
    let conf = get_configuration(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the Leptos settings ({}): {e}",
            path.unwrap_or("LEPTOS_* environment")
        )
    })?;
    let mut options = conf.leptos_options;
    // cargo-leptos writes the asset hashes next to the binary it builds; Leptos panics on every
    // page when they are missing (a plain `cargo run`, the tests). Serve unhashed names then.
    if options.hash_files && !hash_file_present(&options) {
        tracing::debug!("no asset hash file beside the binary: serving unhashed asset names");
        options.hash_files = false;
    }
    Ok(options)
}

fn hash_file_present(options: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(options.hash_file.as_ref())))
        .is_some_and(|path| path.is_file())
}
