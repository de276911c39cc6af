#!/usr/bin/env bash
# Sets up what the web app needs (idempotent), builds it with the shipped models, and serves it:
# open http://127.0.0.1:8080 (PORT=… to change). The built site is dist/: copy it to any static host.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/setup-web.sh
echo "== building and serving on http://127.0.0.1:${PORT:-8080} (first build: 20-40 min on 2 cores)"
CARGO_TARGET_DIR="$WASM_TARGET_DIR" exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}" --no-autoreload
