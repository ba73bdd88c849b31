//! The component backend (wired up once the host API lands).
use std::path::Path;

use walogs::{WalConfig, WalError};

use crate::{Backend, native::NativeLog};

/// The engine compiled to a WASI component, run by the wasmtime host.
#[derive(Debug)]
pub struct Component;

impl Backend for Component {
    type Log = NativeLog;
    fn open(_dir: &Path, _config: WalConfig) -> Result<NativeLog, WalError> {
        unimplemented!("component backend pending")
    }
}
