# walogs tasks. `./run <task>` installs just and the wasm target first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The whole suite: formatting, lints (native and wasm), every test on both backends.
test: lint component node-test python-test embed-test
    cargo test --workspace
    {{debug_walogs}} bench --quick
    @echo "walogs: all tests passed"

# Benchmarks, reduced (under a minute): every workload runs; prints the table and the targets,
# asserts no timing. `test` runs it with the debug binary its tests built, so the suite needs
# no other build of wasmtime; those numbers mean nothing. Measure with `--release`
# (docs/BENCHMARKS.md).
bench-quick:
    cargo run -p walogs-cli -- bench --quick

# The release crash sweep of docs/CRASH-TESTING.md ("Figures"): every fault class, exit 1 on any violation.
crash-sweep states="60000" seed="20261202":
    nice cargo run --release -p walogs-cli -- crash-test --seed {{seed}} --states {{states}}

# The main job: the host runs the component on ./demo-wal, crashes it mid-append, recovers.
# A debug build on purpose: a cold release build of the CLI takes about twice as long (wasmtime
# with optimizations), and the demo's timing does not matter. `bench` is the one that needs
# `--release` (and says so when it runs in a debug build).
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
[doc('Node.js: the npm package (packed, installed into a fresh project, tested there), then the examples.')]
node-test: component npm-package-test
    cd examples/node && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund --loglevel=error; }
    cd examples/node && WALOGS_COMPONENT={{component_wasm}} npm run --silent transpile && node --test

# Python: the wheel (built, installed into a fresh venv, tested there), then the examples with it.
python-test: component python-package-test
    cd examples/python && { [ -x .venv/bin/python ] || python3 -m venv .venv; }
    cd examples/python && .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    WALOGS_COMPONENT={{component_wasm}} packages/python/build-wheel.sh {{wheel_dir}}
    cd examples/python && .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps {{wheel_dir}}/walogs-*.whl
    cd examples/python && WALOGS_COMPONENT={{component_wasm}} .venv/bin/python -m pytest

# The component file `just component` builds (honours CARGO_TARGET_DIR), and where wheels go.
component_wasm := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target") / "wasm32-wasip2/component/walogs.wasm"
wheel_dir := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target") / "wheels"
# The CLI binary `cargo test --workspace` builds (for its integration tests).
debug_walogs := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target") / "debug/walogs"

# npm package `walogs` (packages/npm): `npm pack`, installed into a fresh project, node --test there.
npm-package-test: component
    WALOGS_COMPONENT={{component_wasm}} packages/npm/test-installed.sh

# PyPI package `walogs` (packages/python): a wheel, installed into a fresh venv, pytest there.
python-package-test: component
    cargo fmt --manifest-path packages/python/Cargo.toml -- --check
    cargo clippy --manifest-path packages/python/Cargo.toml --all-targets -- -D warnings
    WALOGS_COMPONENT={{component_wasm}} packages/python/test-installed.sh

# Append costs of both packages (1 B, 4 KiB, 16 MiB; durable and not), installed as users get them.
bench-packages: component
    WALOGS_COMPONENT={{component_wasm}} packages/npm/test-installed.sh --bench
    cd packages/python && cargo run --quiet --release --example engine_append
    WALOGS_COMPONENT={{component_wasm}} packages/python/test-installed.sh --bench

# Rust: the component in a wasmtime host of your own (examples/embed), run on a torn tail.
embed-test: component
    cargo test --workspace --test embed
