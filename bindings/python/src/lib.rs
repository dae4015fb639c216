//! The native half of the `safespace` Python package (`safespace._native`).
//!
//! The Python half (`python/safespace/__init__.py`) finds ONNX Runtime through the installed
//! `onnxruntime` package, checks argument types and builds numpy arrays, DataFrames and sparse
//! matrices; this module owns the detector, scores and extracts lexical features with the GIL
//! released and turns reports into Python objects.
//!
//! Errors are the Python classes of `safespace.exceptions`, every one a `SafespaceError`.

mod detector;
mod evaluate;
mod lexical;
mod pickle;
mod report;

use pyo3::prelude::*;

pyo3::import_exception!(safespace.exceptions, SafespaceError);
pyo3::import_exception!(safespace.exceptions, InvalidOptionError);
pyo3::import_exception!(safespace.exceptions, InputError);
pyo3::import_exception!(safespace.exceptions, InputTypeError);
pyo3::import_exception!(safespace.exceptions, ModelError);

/// `value` as the Python float with the same shortest decimal: 0.85f32 becomes 0.85, not
/// 0.8500000238418579. Every f32 that crosses to Python goes through it.
fn shortest(value: f32) -> f64 {
    value
        .to_string()
        .parse()
        .expect("a float's decimal parses back")
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<detector::NativeDetector>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<report::Evidence>()?;
    module.add_class::<report::Resource>()?;
    module.add_class::<report::Engine>()?;
    module.add_function(pyo3::wrap_pyfunction!(evaluate::evaluate_category, module)?)?;
    module.add_function(pyo3::wrap_pyfunction!(lexical::lexical_features, module)?)?;
    module.add_function(pyo3::wrap_pyfunction!(lexical::fit_lexical, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
