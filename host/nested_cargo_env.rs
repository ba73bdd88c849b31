// Shared by component/build.rs and testkit/src/mutants.rs (through `include!`): both run
// a nested cargo that builds the guest for wasm32-wasip2.

/// Environment that an enclosing cargo (or clippy) sets and that would break or redirect a
/// nested cargo build of the guest.
const INHERITED: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_DIR",
    "__CARGO_FIX_PLZ",
    "RUSTDOCFLAGS",
];

/// `cargo rustc` that builds the guest crate of the workspace in `root` into a WASI
/// component under `target_dir` (`wasm32-wasip2/component/walogs.wasm`), without the
/// enclosing cargo's environment. Callers may add arguments (`--config`, `-- --cfg …`).
fn guest_component_build(root: &Path, target_dir: &Path) -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root)
        .args(["rustc", "-p", "walogs@0.2.0", "--lib", "--crate-type", "cdylib"])
        .args(["--target", "wasm32-wasip2", "--profile", "component"])
        .arg("--target-dir")
        .arg(target_dir);
    for var in INHERITED {
        cmd.env_remove(var);
    }
    cmd
}
