//! The host's error type: the log's own errors plus failures of the sandbox around it.

use std::io;

use walogs::WalError;

use crate::interpose::InjectedCrash;

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
    pub fn injected_crash(&self) -> Option<&InjectedCrash> {
        match self {
            Self::Trap(e) => e.downcast_ref::<InjectedCrash>(),
            _ => None,
        }
    }

    /// Wraps a setup failure.
    pub(crate) fn setup(e: impl Into<wasmtime::Error>) -> Self {
        Self::Setup(e.into())
    }
}

/// Host failures become [`WalError::Io`] with the failure's text, so code written against
/// the engine's error type can use `?` on the host's results.
impl From<HostError> for WalError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Wal(e) => e,
            other => WalError::Io(io::Error::other(other.to_string())),
        }
    }
}
