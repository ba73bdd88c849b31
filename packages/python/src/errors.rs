//! Engine errors as the Python package's exceptions (`walogs._errors`).

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use walogs::WalError;

/// The exception `walogs._errors.error(code, message, detail)` builds, or the failure to build it.
fn raise(py: Python<'_>, code: &str, message: String, detail: PyObject) -> PyErr {
    let built = py
        .import("walogs._errors")
        .and_then(|m| m.call_method1("error", (code, message, detail)));
    match built {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// The exception for an engine error: its WIT code, its text, and its fields as `detail`.
pub(crate) fn to_py(py: Python<'_>, err: WalError) -> PyErr {
    let message = err.to_string();
    let none = || py.None();
    let (code, detail): (&str, PyObject) = match &err {
        WalError::Io(e) => (
            "io",
            e.raw_os_error().into_py_any(py).unwrap_or_else(|_| none()),
        ),
        WalError::EntryTooLarge { size, max } => (
            "entry-too-large",
            fields(py, &[("size", *size as u64), ("max", *max as u64)]),
        ),
        WalError::Corrupt { .. } => ("corrupt", none()),
        WalError::Locked { .. } => ("locked", none()),
        WalError::Poisoned { .. } => ("poisoned", none()),
        WalError::LsnOutOfRange { lsn, first, next } => (
            "lsn-out-of-range",
            fields(py, &[("lsn", lsn.0), ("first", first.0), ("next", next.0)]),
        ),
        WalError::InvalidPath { .. } => ("invalid-path", none()),
        WalError::NotADirectory { .. } => ("not-a-directory", none()),
        WalError::ReadOnly => ("read-only", none()),
        // A variant newer than this module: the base class, with the engine's text.
        _ => ("walogs", none()),
    };
    raise(py, code, message, detail)
}

/// A dict of named integers.
fn fields(py: Python<'_>, items: &[(&str, u64)]) -> PyObject {
    let dict = PyDict::new(py);
    for (key, value) in items {
        // Setting an int in a fresh dict cannot fail but for memory; then the detail is partial.
        let _ = dict.set_item(key, value);
    }
    dict.into_any().unbind()
}

/// The exception for a call on a closed log.
pub(crate) fn closed(py: Python<'_>) -> PyErr {
    raise(py, "closed", "the log is closed".to_owned(), py.None())
}
