//! The crash explorer: every crash state of a workload, checked by an oracle.
//!
//! A seeded [`Workload`] runs through the component while the [interposer](walogs_host::interpose)
//! records every filesystem change as a trace ([`FsEvent`]s, [`Recorder`]) and the run
//! notes what the log acknowledged ([`History`]). Replaying a prefix of the trace into
//! an [`FsModel`] — durable and volatile bytes per file, durable and volatile entries per
//! directory — gives the state a process crash, a power loss, a torn write or unsynced
//! pages persisted out of order ([`FsModel::page_bits`]) at that point leaves; injected I/O
//! errors and fuel stops are run live; damage is applied to a state. Some workloads have
//! several producers appending at once through a shared log ([`Op::Concurrent`]); their
//! group commits are kept as a [`Schedule`] so that their cases replay exactly.
//! Each state is written to a scratch directory and opened through the component in a
//! fresh store, and the [oracle](check) decides whether what recovery made of it is
//! allowed. See docs/CRASH-TESTING.md.
//!
//! It works on any component that exports the `walogs:wal/log` interface: load one with
//! [`Runtime::from_file_with_options`](walogs_host::Runtime::from_file_with_options) (fuel
//! metering on, for the fuel-stop class) and sweep it:
//!
//! ```
//! use walogs_crash::{ExploreOptions, explore};
//! use walogs_host::{Runtime, RuntimeOptions};
//!
//! # let component_file = walogs_component::PATH;
//! let options = RuntimeOptions { fuel: true, ..Default::default() };
//! let rt = Runtime::from_file_with_options(component_file, options)?;
//! let sweep = ExploreOptions { seed: 7, states: 100, ..Default::default() };
//! let report = explore(&rt, &sweep, &mut |_| {})?;
//! print!("{}", report.text());
//! assert!(report.passed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

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
mod oracle;
mod pages;
mod power;
mod producers;
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
pub use history::{Ack, Damaged, Expect, History, OpRecord, Version};
pub use image::Image;
pub use model::{Fill, FsModel, PowerLoss};
pub use oracle::{Observed, PROBE, Verdict, check};
pub use pages::{MAX_BITS, PAGE, PageBit};
pub use producers::Schedule;
pub use report::{ClassRow, Report, Violation};
pub use rng::Rng;
pub use runner::{Executor, Recorded, State};
pub use trace::{FileId, FsEvent, Node, Recorder};
pub use workload::{Op, Workload};
