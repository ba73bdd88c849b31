//! `walogs._native`: the walogs engine (crate `walogs`) as a Python extension module.
//!
//! The Python package (`python/walogs/`) wraps it; this module only moves values across and
//! releases the GIL while the engine touches the disk. Errors are raised as the package's own
//! exceptions, built by `walogs._errors.error(code, message, detail)`.

mod errors;

use std::path::Path;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use walogs::{Durability, Lsn, TailState, Wal, WalConfig, WalError, WalIter};

use errors::{closed, to_py};

/// An open log: the engine's `Wal`, closed by `close` (or when dropped).
#[pyclass(module = "walogs._native", frozen)]
struct NativeWal {
    wal: Mutex<Option<Wal>>,
}

/// A read position: the engine's iterator and an error it met after entries it handed out.
#[pyclass(module = "walogs._native", frozen)]
struct NativeCursor {
    state: Mutex<(WalIter, Option<WalError>)>,
}

/// The engine's durability from its Python name.
fn durability(name: &str) -> PyResult<Durability> {
    match name {
        "always" => Ok(Durability::Always),
        "explicit" => Ok(Durability::Explicit),
        "none" => Ok(Durability::None),
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "durability must be 'always', 'explicit' or 'none', not {other:?}"
        ))),
    }
}

impl NativeWal {
    /// Runs `f` on the open log without the GIL and raises its error.
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Wal) -> Result<R, WalError> + Send,
    ) -> PyResult<R> {
        let result = py.allow_threads(|| {
            let mut guard = self.wal.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_mut().map(f)
        });
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => Err(to_py(py, e)),
            None => Err(closed(py)),
        }
    }

    /// Reads the open log (with the GIL: these calls do not touch the disk).
    fn read<R>(&self, py: Python<'_>, f: impl FnOnce(&Wal) -> R) -> PyResult<R> {
        let guard = self.wal.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(f).ok_or_else(|| closed(py))
    }
}

#[pymethods]
impl NativeWal {
    /// Opens the log in `path`; `max_segment_size` 0 never rotates.
    #[staticmethod]
    fn open(
        py: Python<'_>,
        path: &str,
        max_segment_size: u64,
        durability_name: &str,
        read_only: bool,
        verify_on_open: bool,
    ) -> PyResult<Self> {
        let config = WalConfig {
            max_segment_size: Some(max_segment_size).filter(|&size| size != 0),
            durability: durability(durability_name)?,
            read_only,
            verify_on_open,
            ..WalConfig::default()
        };
        let wal = py
            .allow_threads(|| Wal::open_with_config(Path::new(path), config))
            .map_err(|e| to_py(py, e))?;
        Ok(Self {
            wal: Mutex::new(Some(wal)),
        })
    }

    /// The default segment size of the engine.
    #[staticmethod]
    fn default_max_segment_size() -> u64 {
        WalConfig::default().max_segment_size.unwrap_or(0)
    }

    /// Appends one entry and returns its LSN.
    fn append(&self, py: Python<'_>, data: &[u8]) -> PyResult<u64> {
        self.with(py, |w| w.append(data)).map(|l| l.0)
    }

    /// Appends entries with one write and one sync; returns `(start, end)`.
    fn append_batch(&self, py: Python<'_>, entries: Vec<Vec<u8>>) -> PyResult<(u64, u64)> {
        let range = self.with(py, |w| w.append_batch(&entries))?;
        Ok((range.start.0, range.end.0))
    }

    /// Makes everything appended so far durable and returns the durable LSN.
    fn sync(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |w| w.sync()).map(|l| l.0)
    }

    /// The highest LSN known durable.
    fn durable_lsn(&self, py: Python<'_>) -> PyResult<u64> {
        self.read(py, |w| w.durable_lsn().0)
    }

    /// A cursor at the first entry, or at `start`.
    #[pyo3(signature = (start=None))]
    fn iter(&self, py: Python<'_>, start: Option<u64>) -> PyResult<NativeCursor> {
        let iter = match start {
            None => self.read(py, |w| w.iter())?,
            Some(lsn) => self.with(py, |w| w.iter_from(Lsn(lsn)))?,
        };
        Ok(NativeCursor {
            state: Mutex::new((iter, None)),
        })
    }

    /// Deletes sealed segments whose entries are all at or below `applied_up_to`.
    fn checkpoint(&self, py: Python<'_>, applied_up_to: u64) -> PyResult<usize> {
        self.with(py, |w| w.checkpoint(Lsn(applied_up_to)))
    }

    /// Removes every entry after `lsn`.
    fn truncate_after(&self, py: Python<'_>, lsn: u64) -> PyResult<()> {
        self.with(py, |w| w.truncate_after(Lsn(lsn)))
    }

    /// Seals the active segment and starts a new one.
    fn rotate(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |w| w.rotate())
    }

    /// The offset a torn tail was cut at, or None for a clean tail.
    fn truncated_at(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.read(py, |w| match w.tail_state() {
            TailState::Clean => None,
            TailState::TruncatedAt(offset) => Some(offset),
        })
    }

    /// The LSN the next append gets.
    fn next_lsn(&self, py: Python<'_>) -> PyResult<u64> {
        self.read(py, |w| w.next_lsn().0)
    }

    /// The first LSN the log holds.
    fn first_lsn(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.read(py, |w| w.first_lsn().map(|l| l.0))
    }

    /// The last LSN the log holds.
    fn last_lsn(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.read(py, |w| w.last_lsn().map(|l| l.0))
    }

    /// Every segment as `(seq, first_lsn, size)`, oldest first.
    fn segments(&self, py: Python<'_>) -> PyResult<Vec<(u32, Option<u64>, u64)>> {
        self.read(py, |w| {
            w.segments()
                .into_iter()
                .map(|s| (s.seq, s.first_lsn.map(|l| l.0), s.size))
                .collect()
        })
    }

    /// Checks every frame: `(segments, entries, bytes, first_lsn, last_lsn)`.
    #[allow(clippy::type_complexity)]
    fn verify(&self, py: Python<'_>) -> PyResult<(u32, u64, u64, Option<u64>, Option<u64>)> {
        let r = self.with(py, |w| w.verify())?;
        Ok((
            r.segments,
            r.entries,
            r.bytes,
            r.first_lsn.map(|l| l.0),
            r.last_lsn.map(|l| l.0),
        ))
    }

    /// Closes the log's files and releases its lock; closing twice is fine.
    fn close(&self, py: Python<'_>) {
        let wal = self.wal.lock().unwrap_or_else(|p| p.into_inner()).take();
        py.allow_threads(|| drop(wal));
    }

    /// Whether the log is closed.
    fn closed(&self) -> bool {
        self.wal.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }
}

#[pymethods]
impl NativeCursor {
    /// The next entries as `(lsn, data)`: at most `max_entries`, and after the first no more
    /// than `max_bytes` of data. An empty list means the end.
    fn next_batch<'py>(
        &self,
        py: Python<'py>,
        max_entries: usize,
        max_bytes: usize,
    ) -> PyResult<Vec<(u64, Bound<'py, PyBytes>)>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (iter, pending) = &mut *state;
        if let Some(e) = pending.take() {
            return Err(to_py(py, e));
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max_entries.max(1) && (out.is_empty() || bytes < max_bytes) {
            match iter.next() {
                None => break,
                Some(Ok((lsn, data))) => {
                    bytes += data.len();
                    out.push((lsn.0, PyBytes::new(py, &data)));
                }
                Some(Err(e)) if out.is_empty() => return Err(to_py(py, e)),
                // Hand out what was read first; the error comes with the next call.
                Some(Err(e)) => {
                    *pending = Some(e);
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeWal>()?;
    m.add_class::<NativeCursor>()?;
    m.add("MAX_ENTRY_SIZE", walogs::MAX_ENTRY_SIZE)?;
    Ok(())
}
