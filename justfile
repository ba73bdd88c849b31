# walogs tasks. `./run <task>` installs just and the wasm target first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The whole suite: formatting, lints (native and wasm), every test on both backends.
test: lint component node-test python-test embed-test bench-quick
    cargo test --workspace
    @echo "walogs: all tests passed"

# Benchmarks, reduced (under a minute): prints the table and the targets, asserts no timing.
bench-quick:
    cargo run --release -p walogs-cli -- bench --quick

# The main job: the host runs the component on ./demo-wal, crashes it mid-append, recovers.
demo:
    cargo run --quiet -p walogs-cli -- demo demo-wal

# rustfmt and clippy (-D warnings) for the host and for the component target.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p walogs@0.2.0 --target wasm32-wasip2 -- -D warnings

# The component: guest/ for wasm32-wasip2, into target/wasm32-wasip2/component/walogs.wasm.
component:
    cargo rustc -p walogs@0.2.0 --lib --crate-type cdylib --target wasm32-wasip2 --profile component

# `npm install` (it keeps to package-lock.json), not `npm ci`: the registry lacks some optional
# platform binaries of jco's dependencies, which `npm install` skips and `npm ci` refuses.
[doc('Node.js: installs the locked npm packages, transpiles the component with jco, runs node --test.')]
node-test: component
    cd examples/node && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund --loglevel=error; }
    cd examples/node && npm run --silent transpile && node --test

# Python: installs wasmtime-py and pytest (pinned) into examples/python/.venv, runs pytest.
python-test: component
    cd examples/python && { [ -x .venv/bin/python ] || python3 -m venv .venv; }
    cd examples/python && .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    cd examples/python && .venv/bin/python -m pytest

# Rust: the component in a wasmtime host of your own (examples/embed), run on a torn tail.
embed-test: component
    cargo test --workspace --test embed
