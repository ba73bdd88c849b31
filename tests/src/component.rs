//! The component backend: the engine compiled to a WASI component, run by the wasmtime
//! host, with faults injected through the host's WASI interposition.

use std::path::Path;

use walogs::{
    Damage, Lsn, LsnRange, RecoveryReport, RepairReport, SegmentInfo, TailState, VerifyReport,
    WalConfig, WalError,
};
use walogs_host::interpose::FaultPlan;
use walogs_host::{ComponentWal, HostError, Runtime};

use crate::{Backend, Log};

/// The engine compiled to a WASI component, run by the wasmtime host.
#[derive(Debug)]
pub struct Component;

impl Backend for Component {
    type Log = ComponentWal;

    fn open(dir: &Path, config: WalConfig) -> Result<ComponentWal, WalError> {
        Runtime::shared()
            .open_with_config(dir, config)
            .map_err(wal_error)
    }

    fn repair(dir: &Path, dry_run: bool) -> Result<RepairReport, WalError> {
        Runtime::shared().repair(dir, dry_run).map_err(wal_error)
    }

    fn find_damage(dir: &Path) -> Result<Option<Damage>, WalError> {
        Runtime::shared().find_damage(dir).map_err(wal_error)
    }
}

/// A guest error is the engine's own error; anything else (a trap) is a test failure.
fn wal_error(e: HostError) -> WalError {
    match e {
        HostError::Wal(e) => e,
        other => panic!("the host failed, not the log: {other}"),
    }
}

fn ok<T>(r: Result<T, HostError>) -> T {
    r.unwrap_or_else(|e| panic!("guest call failed: {e}"))
}

impl Log for ComponentWal {
    fn append(&mut self, data: &[u8]) -> Result<Lsn, WalError> {
        ComponentWal::append(self, data).map_err(wal_error)
    }
    fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<LsnRange, WalError> {
        ComponentWal::append_batch(self, entries).map_err(wal_error)
    }
    fn sync(&mut self) -> Result<Lsn, WalError> {
        ComponentWal::sync(self).map_err(wal_error)
    }
    fn durable_lsn(&mut self) -> Lsn {
        ok(ComponentWal::durable_lsn(self))
    }
    fn rotate(&mut self) -> Result<(), WalError> {
        ComponentWal::rotate(self).map_err(wal_error)
    }
    fn checkpoint(&mut self, lsn: Lsn) -> Result<usize, WalError> {
        ComponentWal::checkpoint(self, lsn).map_err(wal_error)
    }
    fn truncate_after(&mut self, lsn: Lsn) -> Result<(), WalError> {
        ComponentWal::truncate_after(self, lsn).map_err(wal_error)
    }
    fn entries(&mut self) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        self.iter()
            .map_err(wal_error)?
            .map(|e| e.map_err(wal_error))
            .collect()
    }
    fn entries_from(&mut self, lsn: Lsn) -> Result<Vec<(Lsn, Vec<u8>)>, WalError> {
        self.iter_from(lsn)
            .map_err(wal_error)?
            .map(|e| e.map_err(wal_error))
            .collect()
    }
    fn tail_state(&mut self) -> TailState {
        ok(ComponentWal::tail_state(self))
    }
    fn recovery_report(&mut self) -> RecoveryReport {
        ok(ComponentWal::recovery_report(self))
    }
    fn next_lsn(&mut self) -> Lsn {
        ok(ComponentWal::next_lsn(self))
    }
    fn first_lsn(&mut self) -> Option<Lsn> {
        ok(ComponentWal::first_lsn(self))
    }
    fn last_lsn(&mut self) -> Option<Lsn> {
        ok(ComponentWal::last_lsn(self))
    }
    fn segment_count(&mut self) -> usize {
        ok(ComponentWal::segment_count(self))
    }
    fn segments(&mut self) -> Vec<SegmentInfo> {
        ok(ComponentWal::segments(self))
    }
    fn verify(&mut self) -> Result<VerifyReport, WalError> {
        ComponentWal::verify(self).map_err(wal_error)
    }
    fn fail_syncs(&mut self) {
        let stats = self.fs_stats();
        let next = stats.syncs + stats.sync_datas + 1;
        let plan = FaultPlan {
            fail_sync: Some(next),
            ..self.fault_plan()
        };
        self.set_fault_plan(plan);
    }
    fn syncs(&mut self) -> u64 {
        let stats = self.fs_stats();
        stats.syncs + stats.sync_datas - stats.failed_syncs
    }
}
