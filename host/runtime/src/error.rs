//! The host's error type: the log's own errors plus failures of the sandbox around it.

use std::io;

use walogs::WalError;

/// An error from a log opened through the component.
///
/// [`HostError::Wal`] carries exactly what the engine reported (as the native engine would);
/// the other variants are failures of the host around it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The log reported an error.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The guest stopped (a trap: an injected crash, fuel exhaustion, a guest panic, the
    /// memory limit). Its instance cannot be entered again: reopen the log.
    #[error("the guest trapped: {0:#}")]
    Trap(wasmtime::Error),
    /// The handle's guest trapped earlier; reopen the log.
    #[error("the component instance trapped earlier and cannot be used; reopen the log")]
    Dead,
    /// Setting up wasmtime, WASI or the component failed (compiling, linking,
    /// instantiating, preopening the directory).
    #[error("failed to set up the walogs component: {0:#}")]
    Setup(wasmtime::Error),
    /// The component does not export the optional interface the call needs (it was built
    /// before the interface existed, or by someone else); the log itself still works.
    #[error("{what} is not supported by this component: it does not export {interface}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
        /// The WIT interface the component lacks.
        interface: &'static str,
    },
    /// Host-side I/O outside the log failed (reading a component file, a scratch
    /// directory, standard input or output).
    #[error("{context}: {source}")]
    Io {
        /// What the host was doing, naming the path or stream.
        context: String,
        /// The operating system's error.
        source: io::Error,
    },
}

impl HostError {
    /// The log's error, if this is one.
    pub fn wal(&self) -> Option<&WalError> {
        match self {
            Self::Wal(e) => Some(e),
            _ => None,
        }
    }

    /// The log's error, or `self` back when it is a host failure.
    pub fn into_wal(self) -> Result<WalError, Self> {
        match self {
            Self::Wal(e) => Ok(e),
            other => Err(other),
        }
    }

    /// Whether the guest trapped (now or earlier).
    pub fn is_trap(&self) -> bool {
        matches!(self, Self::Trap(_) | Self::Dead)
    }

    /// The injected crash that stopped the guest, if that is what happened.
    #[cfg(feature = "interpose")]
    pub fn injected_crash(&self) -> Option<&crate::interpose::InjectedCrash> {
        match self {
            Self::Trap(e) => e.downcast_ref(),
            _ => None,
        }
    }

    /// Host-side I/O failure `source` while doing `context` (say what and which path).
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps a setup failure.
    pub(crate) fn setup(e: impl Into<wasmtime::Error>) -> Self {
        Self::Setup(e.into())
    }
}
