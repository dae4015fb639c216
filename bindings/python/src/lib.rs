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

/// Metrics of `scores` against `labels` (see `safespace::eval::evaluate`), as a JSON object.
#[pyfunction]
fn evaluate_scores(
    scores: Vec<f32>,
    labels: Vec<bool>,
    threshold: f32,
    target_recall: f64,
) -> PyResult<String> {
    if scores.len() != labels.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{} scores but {} labels",
            scores.len(),
            labels.len()
        )));
    }
    let evaluation = safespace::eval::evaluate(&scores, &labels, threshold, target_recall);
    serde_json::to_string(&evaluation).map_err(|e| SafespaceError::new_err(e.to_string()))
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<detector::NativeDetector>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<report::Evidence>()?;
    module.add_class::<report::Resource>()?;
    module.add_class::<report::Engine>()?;
    module.add_function(pyo3::wrap_pyfunction!(evaluate_scores, module)?)?;
    module.add("SafespaceError", module.py().get_type::<SafespaceError>())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
