//! The readers' side of a shared log: the published [`View`], and what followers wait on.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::view::View;
use super::writer::LogShape;
use crate::WalError;
use crate::storage::Storage;

/// What readers share, behind one mutex: producers never take it while they wait.
#[derive(Debug)]
pub(crate) struct Hub {
    state: Mutex<HubState>,
    /// Signalled when a view is published, the log is poisoned, or it closes.
    pub view_changed: Condvar,
    /// The LSN each `truncate_after` cut after, oldest first. Shared with every iterator
    /// made from a view, so that an iterator a truncation overtakes fails with a typed
    /// error instead of mixing the old log's entries with the new one's. Taken only while
    /// holding `state` (or by an iterator alone), so it always matches the view.
    pub truncations: Arc<Mutex<Vec<u64>>>,
}

/// Everything behind the hub's mutex.
#[derive(Debug)]
pub(crate) struct HubState {
    /// Set by the first failure that poisoned the log.
    pub poisoned: Option<String>,
    /// The log's shape for readers, replaced after every change.
    pub view: Arc<View>,
    /// The log's files, for readers; `None` once every handle of the log is gone.
    pub storage: Option<Arc<dyn Storage>>,
}

impl Hub {
    /// The hub of a log of `shape` whose files readers open through `storage`.
    pub fn new(shape: LogShape, poisoned: Option<String>, storage: Arc<dyn Storage>) -> Hub {
        Hub {
            state: Mutex::new(HubState {
                poisoned,
                view: Arc::new(View::of(shape, 0)),
                storage: Some(storage),
            }),
            view_changed: Condvar::new(),
            truncations: Arc::default(),
        }
    }

    /// Locks the state. Nothing panics while holding it half-changed, so a poisoned mutex
    /// is used as is.
    pub fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes `shape` (call while holding the writer, so that views go out in the order
    /// the changes happened), or records `poisoned`.
    pub fn publish(&self, shape: Option<LogShape>, poisoned: Option<String>) {
        let mut state = self.lock();
        if let (None, Some(cause)) = (&state.poisoned, poisoned) {
            state.poisoned = Some(cause);
        }
        if let Some(shape) = shape {
            state.view = Arc::new(View::of(shape, state.view.version + 1));
        }
        drop(state);
        self.view_changed.notify_all();
    }

    /// Records a truncation after `lsn`, for followers that read past it.
    pub fn truncated(&self, lsn: u64) {
        let _state = self.lock();
        self.truncations().push(lsn);
    }

    /// The truncations so far (lock `state` first when the view must match them).
    pub fn truncations(&self) -> MutexGuard<'_, Vec<u64>> {
        self.truncations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets the files go: the last handle of the log is gone.
    pub fn close(&self) {
        self.lock().storage = None;
        self.view_changed.notify_all();
    }

    /// The current view and the storage to read it through.
    pub fn snapshot(&self) -> Result<(Arc<View>, Arc<dyn Storage>), WalError> {
        let state = self.lock();
        let storage = state.storage.clone().ok_or_else(|| WalError::Poisoned {
            cause: "the log was closed".into(),
        })?;
        Ok((Arc::clone(&state.view), storage))
    }
}
