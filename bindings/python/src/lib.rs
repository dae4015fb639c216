//! The native half of the `safespace` Python package (`safespace._native`).
//!
//! The Python half (`python/safespace/__init__.py`) finds ONNX Runtime through the installed
//! `onnxruntime` package, checks argument types and builds numpy arrays and DataFrames; this module
//! owns the detector, scores with the GIL released and turns reports into Python objects.

mod detector;
mod report;

use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    SafespaceError,
    pyo3::exceptions::PyException,
    "The model or its runtime failed (for example `require_model=True` and ONNX Runtime is missing)."
);

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<detector::NativeDetector>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<report::Evidence>()?;
    module.add_class::<report::Resource>()?;
    module.add_class::<report::Engine>()?;
    module.add("SafespaceError", module.py().get_type::<SafespaceError>())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
