//! Reports as Python objects: attributes mirror the Rust [`safespace::Report`], with offsets as
//! Python string indices and floats as their shortest decimals.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{pickle, shortest, InvalidOptionError, SafespaceError};

/// The verdict on one text. Attributes mirror the Rust report; `to_dict()` and `to_json()` follow the
/// CLI's JSON schema, with evidence offsets as Python string indices.
#[pyclass(frozen, module = "safespace")]
#[derive(Serialize, Deserialize)]
pub struct Report {
    inner: safespace::Report,
    /// Each evidence span as Python string indices (code points) into the scored text.
    char_spans: Vec<(usize, usize)>,
}

impl Report {
    /// Wraps a report on `text`, converting its byte offsets to Python string indices.
    pub fn new(inner: safespace::Report, text: &str) -> Self {
        let char_index = |byte: usize| text.get(..byte).map_or(0, |prefix| prefix.chars().count());
        let char_spans = inner
            .evidence
            .iter()
            .map(|e| (char_index(e.start), char_index(e.end)))
            .collect();
        Report { inner, char_spans }
    }

    /// The report as JSON the way Python reads it: evidence `start`/`end` as string indices (the
    /// byte offsets under `byte_start`/`byte_end` when `byte_offsets`), floats as their shortest
    /// decimals.
    fn to_value(&self, byte_offsets: bool) -> PyResult<Value> {
        let mut value = serde_json::to_value(&self.inner).map_err(internal_error)?;
        let items = value["evidence"].as_array_mut().into_iter().flatten();
        for (item, &(start, end)) in items.zip(&self.char_spans) {
            let byte_start = std::mem::replace(&mut item["start"], start.into());
            let byte_end = std::mem::replace(&mut item["end"], end.into());
            if byte_offsets {
                item["byte_start"] = byte_start;
                item["byte_end"] = byte_end;
            }
        }
        shorten_floats(&mut value);
        Ok(value)
    }
}

#[pymethods]
impl Report {
    /// Calibrated probability per category, e.g. `{"self_harm": 0.91, ...}`.
    #[getter]
    fn scores(&self) -> BTreeMap<&'static str, f64> {
        by_category(&self.inner.scores)
    }

    /// Scores of the sub-labels the rules found, e.g. `{"self_harm/plan": 0.95}`.
    #[getter]
    fn labels(&self) -> BTreeMap<String, f64> {
        self.inner
            .labels
            .iter()
            .map(|(l, s)| (l.to_string(), shortest(*s)))
            .collect()
    }

    /// Categories at or above the policy's threshold.
    #[getter]
    fn flagged(&self) -> Vec<&'static str> {
        self.inner.flagged.iter().map(|c| c.as_str()).collect()
    }

    /// `"none"`, `"low"`, `"medium"`, `"high"` or `"critical"`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.as_str()
    }

    /// What the policy recommends, e.g. `"show_crisis_resources"`.
    #[getter]
    fn action(&self) -> &'static str {
        self.inner.action.as_str()
    }

    /// The rule matches behind the scores, with offsets into the original text.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        self.inner
            .evidence
            .iter()
            .zip(&self.char_spans)
            .map(|(e, &(start, end))| Evidence {
                inner: e.clone(),
                start,
                end,
            })
            .collect()
    }

    /// How many further matches were left out of `evidence`.
    #[getter]
    fn evidence_omitted(&self) -> usize {
        self.inner.evidence_omitted
    }

    /// Content-warning tags, e.g. `["suicide"]`.
    #[getter]
    fn content_warnings(&self) -> Vec<&'static str> {
        self.inner
            .content_warnings
            .iter()
            .map(|w| w.as_str())
            .collect()
    }

    /// Crisis resources for the detector's locale, present when self_harm is flagged.
    #[getter]
    fn resources(&self) -> Vec<Resource> {
        self.inner.resources.iter().cloned().map(Resource).collect()
    }

    /// Which engine produced the report.
    #[getter]
    fn engine(&self) -> Engine {
        Engine(self.inner.engine.clone())
    }

    /// Whether `category` is flagged.
    fn is_flagged(&self, category: &str) -> PyResult<bool> {
        let category = category.parse().map_err(InvalidOptionError::new_err)?;
        Ok(self.inner.is_flagged(category))
    }

    /// The report as plain dicts and lists: the CLI's JSON schema, with evidence `start`/`end` as
    /// Python string indices; `byte_offsets=True` adds the UTF-8 `byte_start`/`byte_end`.
    #[pyo3(signature = (*, byte_offsets = false))]
    fn to_dict<'py>(&self, py: Python<'py>, byte_offsets: bool) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.to_value(byte_offsets)?)
    }

    /// `to_dict()` as a JSON string; `indent` pretty-prints.
    #[pyo3(signature = (indent = None, *, byte_offsets = false))]
    fn to_json(&self, indent: Option<usize>, byte_offsets: bool) -> PyResult<String> {
        let value = self.to_value(byte_offsets)?;
        let Some(width) = indent else {
            return serde_json::to_string(&value).map_err(internal_error);
        };
        let mut out = Vec::new();
        let indent = " ".repeat(width);
        let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        value.serialize(&mut serializer).map_err(internal_error)?;
        String::from_utf8(out).map_err(internal_error)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<pickle::Reduced<'py>> {
        pickle::reduce(slf)
    }

    #[classmethod]
    fn _from_state(_cls: &Bound<'_, PyType>, state: &str) -> PyResult<Self> {
        pickle::restore(state)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Report>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let scores = safespace::Category::ALL
            .map(|c| format!("{}={:.3}", c.as_str(), self.inner.scores.get(c)))
            .join(", ");
        format!(
            "Report(flagged={:?}, severity='{}', action='{}', scores=({scores}), evidence={})",
            self.flagged(),
            self.severity(),
            self.action(),
            self.inner.evidence.len()
        )
    }
}

/// One rule match: where it is in the original text and what it weighs.
#[pyclass(frozen, module = "safespace")]
#[derive(Serialize, Deserialize)]
pub struct Evidence {
    inner: safespace::Evidence,
    start: usize,
    end: usize,
}

#[pymethods]
impl Evidence {
    /// The category the match counts for.
    #[getter]
    fn category(&self) -> &'static str {
        self.inner.category.as_str()
    }
    /// The sub-label, e.g. `"plan"`.
    #[getter]
    fn subcategory(&self) -> &str {
        &self.inner.subcategory
    }
    /// The id of the rule that matched.
    #[getter]
    fn rule(&self) -> &str {
        &self.inner.rule
    }
    /// The matched text, cut from the original.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }
    /// Start of the match as a Python string index, so `text[start:end]` is the match.
    #[getter]
    fn start(&self) -> usize {
        self.start
    }
    /// End of the match as a Python string index.
    #[getter]
    fn end(&self) -> usize {
        self.end
    }
    /// Start as a UTF-8 byte offset (the Rust and CLI `start`), for `text.encode()`.
    #[getter]
    fn byte_start(&self) -> usize {
        self.inner.start
    }
    /// End as a UTF-8 byte offset.
    #[getter]
    fn byte_end(&self) -> usize {
        self.inner.end
    }
    /// Start as a UTF-16 offset (JavaScript string index).
    #[getter]
    fn utf16_start(&self) -> usize {
        self.inner.utf16_start
    }
    /// End as a UTF-16 offset.
    #[getter]
    fn utf16_end(&self) -> usize {
        self.inner.utf16_end
    }
    /// The match's weight after context modifiers.
    #[getter]
    fn weight(&self) -> f64 {
        shortest(self.inner.weight)
    }
    /// The match's severity.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.as_str()
    }
    /// Ids of the context modifiers that changed the weight.
    #[getter]
    fn context(&self) -> Vec<String> {
        self.inner.context.clone()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<pickle::Reduced<'py>> {
        pickle::reduce(slf)
    }

    #[classmethod]
    fn _from_state(_cls: &Bound<'_, PyType>, state: &str) -> PyResult<Self> {
        pickle::restore(state)
    }

    fn __repr__(&self) -> String {
        format!(
            "Evidence(rule='{}', text={:?}, weight={:.2}, severity='{}')",
            self.inner.rule,
            self.inner.text,
            self.inner.weight,
            self.inner.severity.as_str()
        )
    }
}

/// A crisis service to show next to a self_harm flag.
#[pyclass(frozen, module = "safespace")]
#[derive(Serialize, Deserialize)]
pub struct Resource(safespace::Resource);

#[pymethods]
impl Resource {
    /// The service's name, e.g. `"988 Suicide & Crisis Lifeline"`.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// How to reach it, e.g. `"Call or text 988"`.
    #[getter]
    fn how(&self) -> &str {
        &self.0.how
    }
    /// The region it serves, e.g. `"US"`.
    #[getter]
    fn region(&self) -> &str {
        &self.0.region
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<pickle::Reduced<'py>> {
        pickle::reduce(slf)
    }

    #[classmethod]
    fn _from_state(_cls: &Bound<'_, PyType>, state: &str) -> PyResult<Self> {
        pickle::restore(state)
    }

    fn __repr__(&self) -> String {
        format!("Resource({:?}: {:?})", self.0.name, self.0.how)
    }
}

/// Which engine produced a report: `mode` is `"model+rules"` (full) or `"fast"`.
#[pyclass(frozen, module = "safespace")]
#[derive(Serialize, Deserialize)]
pub struct Engine(safespace::EngineInfo);

#[pymethods]
impl Engine {
    /// `"model+rules"` (the full engine) or `"fast"` (rules and lexical tier).
    #[getter]
    fn mode(&self) -> &'static str {
        self.0.mode.as_str()
    }
    /// The tiers that ran, e.g. `["rules", "lexical"]`.
    #[getter]
    fn tiers(&self) -> Vec<&'static str> {
        self.0
            .tiers
            .iter()
            .map(|tier| match tier {
                safespace::Tier::Rules => "rules",
                safespace::Tier::Lexical => "lexical",
                safespace::Tier::Model => "model",
            })
            .collect()
    }
    /// The model's name and hash, when it ran.
    #[getter]
    fn model(&self) -> Option<&str> {
        self.0.model.as_deref()
    }
    /// The lexical tier's name and version, when it ran.
    #[getter]
    fn lexical(&self) -> Option<&str> {
        self.0.lexical.as_deref()
    }
    /// The rules' own scores before fusion.
    #[getter]
    fn rules_scores(&self) -> BTreeMap<&'static str, f64> {
        by_category(&self.0.rules_scores)
    }
    /// The lexical tier's calibrated probabilities before fusion, when it ran.
    #[getter]
    fn lexical_scores(&self) -> Option<BTreeMap<&'static str, f64>> {
        self.0.lexical_scores.as_ref().map(by_category)
    }
    /// How the learned tiers' probabilities were combined with the rules, when one ran: a dict with
    /// the combiner's probability (`combined`) and the rule files' damping (`damping`) per category,
    /// and `contexts`, the context kinds that lowered each category.
    #[getter]
    fn fusion<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .fusion
            .as_ref()
            .map(|fusion| {
                let mut value = serde_json::to_value(fusion).map_err(internal_error)?;
                shorten_floats(&mut value);
                to_python(py, &value)
            })
            .transpose()
    }
    /// The rule set's name and version.
    #[getter]
    fn rules(&self) -> &str {
        &self.0.rules
    }
    /// The model's own calibrated probabilities before fusion, when it ran.
    #[getter]
    fn model_scores(&self) -> Option<BTreeMap<&'static str, f64>> {
        self.0.model_scores.as_ref().map(by_category)
    }
    /// Why the model did not run, when it was wanted.
    #[getter]
    fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<pickle::Reduced<'py>> {
        pickle::reduce(slf)
    }

    #[classmethod]
    fn _from_state(_cls: &Bound<'_, PyType>, state: &str) -> PyResult<Self> {
        pickle::restore(state)
    }

    fn __repr__(&self) -> String {
        format!("Engine(mode='{}', rules='{}')", self.0.mode, self.0.rules)
    }
}

/// Scores keyed by category name.
fn by_category(scores: &safespace::CategoryScores) -> BTreeMap<&'static str, f64> {
    safespace::Category::ALL
        .into_iter()
        .map(|c| (c.as_str(), shortest(scores.get(c))))
        .collect()
}

/// Every float of a report's JSON (each an f32 widened by serde) as its shortest decimal.
fn shorten_floats(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let float = n.as_f64().map(|f| shortest(f as f32));
            *value = float.map_or(Value::Null, Value::from);
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_floats),
        Value::Object(map) => map.values_mut().for_each(shorten_floats),
        _ => {}
    }
}

fn internal_error(e: impl std::fmt::Display) -> PyErr {
    SafespaceError::new_err(e.to_string())
}

/// A JSON value as plain Python objects.
fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match n.as_u64() {
            Some(u) => u.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
