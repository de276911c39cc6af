#!/usr/bin/env bash
# Sourced after setup.sh by the scripts that build the web app: Trunk, the wasm-bindgen CLI that
# matches Cargo.lock exactly, and wasm-opt from npm (Debian's binaryen 108 emits a wasm that
# breaks at load). Each step is skipped when already done; nothing is downloaded at build time.

trunk_version=0.21.14
wasm_bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')

if [ "$(trunk --version 2>/dev/null)" != "trunk $trunk_version" ]; then
  echo "== installing trunk $trunk_version (a one-time build, 15-30 min on 2 cores)"
  cargo install trunk --version "$trunk_version" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wasm_bindgen_version" ]; then
  echo "== installing wasm-bindgen-cli $wasm_bindgen_version (a one-time build, 6-12 min)"
  # Not --locked: its lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi
if ! command -v npm >/dev/null; then
  echo "== installing node and npm"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
  echo "== installing node tools (wasm-opt, playwright-core) from package-lock.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null
  cp package-lock.json node_modules/.installed-lock.json
fi
export PATH="$PWD/node_modules/.bin:$PATH"
# The wasm build gets its own folder: sharing one with the native build makes each undo the other.
export WASM_TARGET_DIR="$MOTIF_CACHE/target-wasm"
