//! Builds the walogs guest crate into a WASI Preview 2 component and exposes its path to
//! this crate as `WALOGS_COMPONENT_WASM` (for `include_bytes!`).
//!
//! The nested cargo uses its own target directory under `OUT_DIR`: building into the outer
//! target directory would wait forever on the lock the outer cargo holds. Setting
//! `WALOGS_COMPONENT_WASM` in the environment skips the build and embeds that file instead.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "component";

include!("../nested_cargo_env.rs");

fn main() {
    println!("cargo:rerun-if-env-changed=WALOGS_COMPONENT_WASM");
    if let Some(prebuilt) = env::var_os("WALOGS_COMPONENT_WASM") {
        let prebuilt = PathBuf::from(prebuilt);
        println!("cargo:rerun-if-changed={}", prebuilt.display());
        println!(
            "cargo:rustc-env=WALOGS_COMPONENT_WASM={}",
            prebuilt.display()
        );
        return;
    }

    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = crate_dir
        .ancestors()
        .nth(2)
        .expect("this crate lives in host/component of the workspace")
        .to_owned();
    for watched in [
        "guest/src",
        "guest/Cargo.toml",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    check_target_installed(Path::new(&rustc));

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target_dir = out_dir.join("guest-target");
    let mut cmd = guest_component_build(&root, &target_dir);
    let output = cmd
        .output()
        .expect("failed to run cargo for the guest component");
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("building the walogs guest component for {TARGET} failed (see the output above)");
    }

    let wasm = target_dir.join(TARGET).join(PROFILE).join("walogs.wasm");
    assert!(
        wasm.is_file(),
        "the guest build did not produce {}",
        wasm.display()
    );
    println!("cargo:rustc-env=WALOGS_COMPONENT_WASM={}", wasm.display());
}

/// Fails the build with a clear message when the rust standard library for the target is
/// missing.
fn check_target_installed(rustc: &Path) {
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).is_dir()
    {
        panic!(
            "the Rust target {TARGET} is not installed for {}; run: rustup target add {TARGET}",
            sysroot.display()
        );
    }
}
