//! The core's lexical feature extractor for Python: a list of texts to the three arrays of a CSR
//! matrix, so that training (scikit-learn) and inference use the very same features.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyList, PyString};

use crate::detector::{guarded, not_a_str};

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
    let mut owned = Vec::with_capacity(texts.len());
    for (index, item) in texts.iter().enumerate() {
        let Ok(text) = item.cast::<PyString>() else {
            return Err(not_a_str(index, &item));
        };
        owned.push(text.to_cow()?.into_owned());
    }
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
