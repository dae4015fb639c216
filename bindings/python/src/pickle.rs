//! Pickling for the frozen report classes: the state is the object's serde JSON, and the class's
//! `_from_state` rebuilds it (the same in any process with a compatible safespace).

use pyo3::prelude::*;
use pyo3::PyClass;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::SafespaceError;

/// What `__reduce__` returns: the function that rebuilds the object and its argument.
pub type Reduced<'py> = (Bound<'py, PyAny>, (String,));

/// `(cls._from_state, (state,))` for `object`.
pub fn reduce<'py, T: PyClass + Serialize>(object: &Bound<'py, T>) -> PyResult<Reduced<'py>> {
    let state = serde_json::to_string(&*object.borrow())
        .map_err(|e| SafespaceError::new_err(format!("cannot pickle: {e}")))?;
    Ok((object.as_any().get_type().getattr("_from_state")?, (state,)))
}

/// The object whose state `reduce` gave.
pub fn restore<T: DeserializeOwned>(state: &str) -> PyResult<T> {
    serde_json::from_str(state)
        .map_err(|e| SafespaceError::new_err(format!("cannot unpickle: {e}")))
}
