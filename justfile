# walogs tasks. `./run <task>` installs just and the wasm target first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The whole suite: formatting, lints (native and wasm), every test on both backends.
test: lint
    cargo test --workspace
    @echo "walogs: all tests passed"

# The main job: the host runs the component on ./demo-wal, crashes it mid-append, recovers.
demo:
    cargo run --quiet -p walogs-host -- demo demo-wal

# rustfmt and clippy (-D warnings) for the host and for the component target.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p walogs@0.2.0 --target wasm32-wasip2 -- -D warnings
