#!/usr/bin/env bash
# Builds the walogs wheel (native engine + component) into DIST (default: dist/).
# WALOGS_COMPONENT: the component to ship (default ../../target/wasm32-wasip2/component/walogs.wasm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
dist=$(realpath -m "${1:-dist}")
component=${WALOGS_COMPONENT:-../../target/wasm32-wasip2/component/walogs.wasm}
cp "$component" python/walogs/walogs.wasm
# maturin, pinned, in a venv of its own (its wheel carries the binary).
[ -x .venv-build/bin/maturin ] || { python3 -m venv .venv-build && .venv-build/bin/pip install --quiet --disable-pip-version-check maturin==1.16.0; }
.venv-build/bin/maturin build --release --locked --quiet --out "$dist" --interpreter python3
