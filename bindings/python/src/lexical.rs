//! The core's lexical tier for Python: the feature extractor (a list of texts to the three arrays
//! of a CSR matrix, so that training in scikit-learn and inference use the very same features) and
//! refitting the tier on a community's labeled texts.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList, PyString};

use crate::detector::{guarded, not_a_str};
use crate::evaluate::read_labels;
use crate::InputError;

/// The parts of a CSR matrix, one row per text: `data` (little-endian float32), `indices`
/// (little-endian int32), `indptr` (little-endian int64, one more than the texts) and the number of
/// columns. Bytearrays, so that `numpy.frombuffer` gives writable arrays without a copy.
type CsrParts<'py> = (
    Bound<'py, PyByteArray>,
    Bound<'py, PyByteArray>,
    Bound<'py, PyByteArray>,
    u32,
);

/// The lexical features of each text (`safespace.lexical_features` builds the matrix); computed
/// with the GIL released. An item that is not a `str` raises `InputTypeError` naming its index.
#[pyfunction]
pub fn lexical_features<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyList>,
) -> PyResult<CsrParts<'py>> {
    let owned = owned_texts(texts)?;
    let (data, indices, indptr) = py.detach(|| guarded(|| csr(&owned)))?;
    Ok((
        PyByteArray::new(py, &data),
        PyByteArray::new(py, &indices),
        PyByteArray::new(py, &indptr),
        safespace::LexicalFeatures::N_FEATURES,
    ))
}

/// The CSR byte arrays of the texts' feature vectors.
fn csr(texts: &[String]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (mut data, mut indices) = (Vec::new(), Vec::new());
    let mut indptr = Vec::with_capacity((texts.len() + 1) * 8);
    indptr.extend(0i64.to_le_bytes());
    let mut nonzeros: i64 = 0;
    for text in texts {
        let row = safespace::lexical_features(text);
        data.extend(row.values.iter().flat_map(|v| v.to_le_bytes()));
        // Indices are below 2^18, so they fit an int32.
        indices.extend(row.indices.iter().flat_map(|&i| (i as i32).to_le_bytes()));
        nonzeros += row.indices.len() as i64;
        indptr.extend(nonzeros.to_le_bytes());
    }
    (data, indices, indptr)
}

/// The texts of a list, each a `str` (else `InputTypeError` naming its index).
fn owned_texts(texts: &Bound<'_, PyList>) -> PyResult<Vec<String>> {
    let mut owned = Vec::with_capacity(texts.len());
    for (index, item) in texts.iter().enumerate() {
        let Ok(text) = item.cast::<PyString>() else {
            return Err(not_a_str(index, &item));
        };
        owned.push(text.to_cow()?.into_owned());
    }
    Ok(owned)
}

/// Refits the lexical tier (`base`, a tier folder, or the built-in one) on `texts` with `labels`
/// (category name → one label per text) and writes it to the folder `out` as `name@1`; returns the
/// new tier's id. Trains with the GIL released.
#[pyfunction]
#[pyo3(signature = (texts, labels, out, name, base, l2))]
pub fn fit_lexical(
    py: Python<'_>,
    texts: &Bound<'_, PyList>,
    labels: &Bound<'_, PyDict>,
    out: String,
    name: String,
    base: Option<String>,
    l2: f64,
) -> PyResult<String> {
    let owned = owned_texts(texts)?;
    let mut by_text = vec![[None; 3]; owned.len()];
    for (key, column) in labels.iter() {
        let category: safespace::Category = key
            .str()?
            .to_cow()?
            .parse()
            .map_err(crate::InvalidOptionError::new_err)?;
        let column = column
            .cast::<PyList>()
            .map_err(|_| InputError::new_err(format!("labels[{category:?}] must be a list")))?;
        let read = read_labels(category.as_str(), column, owned.len())?;
        for (row, label) in by_text.iter_mut().zip(read) {
            row[category.index()] = label;
        }
    }
    py.detach(|| {
        guarded(|| -> PyResult<String> {
            let base = match &base {
                Some(dir) => Arc::new(
                    safespace::LexicalTier::from_dir(dir)
                        .map_err(|e| crate::InvalidOptionError::new_err(format!("base: {e}")))?,
                ),
                None => safespace::LexicalTier::builtin(),
            };
            let options = safespace::FitOptions::default().with_l2(l2);
            let tier = base.fit(format!("{name}@1"), &owned, &by_text, options);
            let about =
                serde_json::json!({"base": base.id(), "trained_on": {"records": owned.len()}});
            tier.write_dir(&out, about).map_err(|e| {
                crate::InvalidOptionError::new_err(format!("cannot write {out}: {e}"))
            })?;
            Ok(tier.id().to_owned())
        })?
    })
}
