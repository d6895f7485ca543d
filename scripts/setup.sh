#!/usr/bin/env bash
# Installs whatever Kilat needs and this machine lacks. Idempotent: a second run only checks.
# Sourced by scripts/dev and scripts/test; `KILAT_SETUP_FOR=test` also installs Chromium.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen pinned in Cargo.toml
SQLX_CLI_VERSION=0.8.6        # must equal the sqlx in Cargo.toml
NODE_MAJOR_MIN=20

say() { printf '\033[1;33m[kilat setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[kilat setup]\033[0m %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install the Rust toolchain from https://rustup.rs first"
export PATH="$HOME/.cargo/bin:$PATH"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (install sudo, or run the command as root)"
  fi
}

apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || die "missing system packages: $* — install them with your package manager, then run this again"
  if [ -z "$apt_updated" ]; then
    say "updating the apt package index"
    as_root apt-get update -qq
    apt_updated=1
  fi
  say "installing system packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Rust: the WASM target and the pinned build tools -------------------------------------
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "${KILAT_SETUP_FOR:-}" = test ] && ! cargo sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION"; then
  say "installing sqlx-cli $SQLX_CLI_VERSION (about 4 minutes, once)"
  cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
fi

# --- System packages: a C compiler, PostgreSQL's server programs, Node.js, Chromium ---------
packages=()
command -v cc >/dev/null || packages+=(build-essential)
command -v pkg-config >/dev/null || packages+=(pkg-config)
if [ -z "${DATABASE_URL:-}" ] && [ -z "${PG_BIN_DIR:-}" ] \
  && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  packages+=(postgresql)
fi
command -v npm >/dev/null || packages+=(nodejs npm)
if [ "${KILAT_SETUP_FOR:-}" = test ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
  packages+=(chromium)
fi
[ ${#packages[@]} -eq 0 ] || apt_install "${packages[@]}"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge "$NODE_MAJOR_MIN" ] || die "Node.js $NODE_MAJOR_MIN or newer is needed (found $(node --version 2>/dev/null || echo none)); see https://nodejs.org/en/download/package-manager"

# --- npm: Tailwind CSS v4, binaryen's wasm-opt, Playwright (never its browser download) ------
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  say "installing npm packages"
  (cd "$root" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${KILAT_SETUP_FOR:-}" = test ]; then
  export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
fi
say "ready"
