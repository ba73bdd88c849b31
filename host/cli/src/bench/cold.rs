//! The sandbox's cost in the state an fdatasync leaves the CPU in.
//!
//! A durable append through the component costs more over native than a non-durable one
//! (docs/BENCHMARKS.md, "The component's durable append"). This workload times single
//! operations — a non-durable append natively and through the component, and an empty call
//! into the component — each right after an untimed fdatasync of another file, and, for
//! comparison, right after the same operation (hot) or after a sleep as long as an
//! fdatasync.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use walogs::Durability;

use super::Ctx;
use super::append::{SMALL, appends, empty_calls, note, size_name};
use super::logs::{self, HEADER, Log, RawFile};
use super::measure::{Role, Row, Subject, interleave, latency_rows, payload, warm_up};

/// Untimed runs of each subject before timing starts.
const WARMUP: u64 = 10;
/// Operations per subject per round.
const SLICE: u64 = 10;
/// The sleep of the "after a sleep" subject: about one fdatasync on a virtual disk.
const SLEEP: Duration = Duration::from_micros(100);

/// Single operations after an fdatasync, after a sleep, and hot.
pub fn after_fdatasync(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let dir = ctx.fresh("after-fdatasync")?;
    let ops = ctx.sizes.durable_ops;
    let data = payload(SMALL, 9);
    // Three subjects sync it before each of their operations.
    let syncs = 3 * (ops + WARMUP + 16);
    let raw = RawFile::create_prezeroed(&dir.join("raw"), syncs * (HEADER + SMALL) as u64, true)?;
    let raw = Rc::new(RefCell::new(raw));
    let sync_other = |raw: &Rc<RefCell<RawFile>>| {
        let (raw, data) = (Rc::clone(raw), data.clone());
        move || raw.borrow_mut().append(&data)
    };
    let open_native = |name: &str| logs::native(&dir.join(name), Durability::None);
    let open_component = |name: &str| logs::component(ctx.rt, &dir.join(name), Durability::None);
    let (mut native_hot, mut native_cold) = (open_native("native-hot")?, open_native("native")?);
    let mut component_hot = open_component("component-hot")?;
    let mut component_cold = open_component("component")?;
    let (mut call_hot, mut call_cold) = (open_component("call-hot")?, open_component("call")?);
    let mut call_sleep = open_component("call-sleep")?;
    let mut subjects = vec![
        Subject::timed(
            "walogs native append, hot",
            Role::Walogs,
            appends(&mut native_hot, &data),
        ),
        Subject::timed_after(
            "walogs native append, after an fdatasync",
            Role::Walogs,
            sync_other(&raw),
            appends(&mut native_cold, &data),
        ),
        Subject::timed(
            "walogs component append, hot",
            Role::Walogs,
            appends(&mut component_hot, &data),
        ),
        Subject::timed_after(
            "walogs component append, after an fdatasync",
            Role::Walogs,
            sync_other(&raw),
            appends(&mut component_cold, &data),
        ),
        Subject::timed(
            "component call, no work, hot",
            Role::Baseline,
            empty_calls(&mut call_hot),
        ),
        Subject::timed_after(
            "component call, no work, after an fdatasync",
            Role::Baseline,
            sync_other(&raw),
            empty_calls(&mut call_cold),
        ),
        Subject::timed_after(
            "component call, no work, after a 100 µs sleep",
            Role::Baseline,
            || {
                std::thread::sleep(SLEEP);
                Ok(())
            },
            empty_calls(&mut call_sleep),
        ),
    ];
    warm_up(&mut subjects, WARMUP)?;
    interleave(&mut subjects, ops, ops / SLICE)?;
    let workload = format!("single operations after an fdatasync, {}", size_name(SMALL));
    let mut out = latency_rows(&workload, &subjects, 0.50, "p50");
    let text = "p50; the untimed fdatasync or sleep before each op is not counted";
    note(&mut out, "", text);
    Ok(out)
}
