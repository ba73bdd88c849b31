//! The crash explorer: every crash state of a workload, checked by an oracle.
//!
//! A seeded [`Workload`] runs through the component while the [interposer](crate::interpose)
//! records every filesystem change as a trace ([`FsEvent`]s, [`Recorder`]) and the run
//! notes what the log acknowledged ([`History`]). Replaying a prefix of the trace into
//! an [`FsModel`] — durable and volatile bytes per file, durable and volatile entries per
//! directory — gives the state a process crash, a power loss or a torn write at that point
//! leaves; injected I/O errors and fuel stops are run live; damage is applied to a state.
//! Each state is written to a scratch directory and opened through the component in a
//! fresh store, and the [oracle](check) decides whether what recovery made of it is
//! allowed. See docs/CRASH-TESTING.md.
//!
//! ```no_run
//! use walogs_host::{Runtime, RuntimeOptions};
//! use walogs_host::crash::{ExploreOptions, explore};
//!
//! let rt = Runtime::with_options(RuntimeOptions { fuel: true, ..Default::default() })?;
//! let options = ExploreOptions { seed: 7, states: 500, ..Default::default() };
//! let report = explore(&rt, &options, &mut |_| {})?;
//! print!("{}", report.text());
//! assert!(report.passed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod case;
mod case_text;
mod describe;
mod driver;
mod enumerate;
mod explore;
mod frames;
mod history;
mod image;
mod model;
pub mod mutants;
mod oracle;
mod power;
mod report;
mod rng;
mod runner;
mod trace;
mod workload;

pub use case::{Case, Class, DamageKind, Fault, RecoveryCrash, Then};
pub use case_text::BadCase;
pub use describe::fault as describe_fault;
pub use driver::{FOLLOW_UP, Run, RunOptions, recover, run};
pub use explore::{ExploreOptions, Progress, Replayed, explore, replay};
pub use history::{Damaged, Expect, History, OpRecord, Version};
pub use image::Image;
pub use model::{Fill, FsModel, PowerLoss};
pub use oracle::{Observed, PROBE, Verdict, check};
pub use report::{ClassRow, Report, Violation};
pub use rng::Rng;
pub use runner::{Executor, Recorded, State};
pub use trace::{FileId, FsEvent, Node, Recorder};
pub use workload::{Op, Workload};
