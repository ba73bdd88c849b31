//! Test support for the walogs host crates; not public API.
//!
//! [`mutants`] builds deliberately broken guests (the crash explorer must flag each one);
//! [`fueled_runtime`] is a process-wide runtime that meters fuel, for tests that stop the
//! guest with a fuel budget.
#![deny(missing_docs)]

pub mod mutants;

use std::sync::OnceLock;

use walogs_host::{Runtime, RuntimeOptions};

/// A process-wide runtime for the embedded component that meters fuel, made on first use
/// (so the tests of one binary load the component once).
///
/// # Panics
///
/// If the embedded component cannot be loaded, which is a build problem.
pub fn fueled_runtime() -> &'static Runtime {
    static SHARED: OnceLock<Runtime> = OnceLock::new();
    SHARED.get_or_init(|| {
        let options = RuntimeOptions {
            fuel: true,
            ..RuntimeOptions::default()
        };
        Runtime::with_options(options)
            .unwrap_or_else(|e| panic!("cannot load the embedded walogs component: {e}"))
    })
}
