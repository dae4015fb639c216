//! Reports as Python objects: attributes mirror the Rust [`safespace::Report`].

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// The verdict on one text. Attributes mirror the Rust report; `to_dict()` and `to_json()` give the
/// same JSON schema as the CLI.
#[pyclass(frozen, module = "safespace")]
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
}

#[pymethods]
impl Report {
    /// Calibrated probability per category, e.g. `{"self_harm": 0.91, ...}`.
    #[getter]
    fn scores(&self) -> BTreeMap<&'static str, f32> {
        by_category(&self.inner.scores)
    }

    /// Scores of the sub-labels the rules found, e.g. `{"self_harm/plan": 0.95}`.
    #[getter]
    fn labels(&self) -> BTreeMap<String, f32> {
        self.inner
            .labels
            .iter()
            .map(|(l, s)| (l.to_string(), *s))
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
        let category = category
            .parse()
            .map_err(pyo3::exceptions::PyValueError::new_err)?;
        Ok(self.inner.is_flagged(category))
    }

    /// The report as plain dicts and lists (the JSON schema of the CLI).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // Through the JSON text, so floats read as in `to_json()` (0.98, not f32's 0.98000001907).
        let json = serde_json::to_string(&self.inner).map_err(runtime_error)?;
        to_python(py, &serde_json::from_str(&json).map_err(runtime_error)?)
    }

    /// The report as a JSON string; `indent` pretty-prints.
    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        match indent {
            None => serde_json::to_string(&self.inner).map_err(runtime_error),
            Some(width) => {
                let mut out = Vec::new();
                let indent = " ".repeat(width);
                let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
                serde::Serialize::serialize(&self.inner, &mut serializer).map_err(runtime_error)?;
                String::from_utf8(out).map_err(runtime_error)
            }
        }
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
    /// Start as a UTF-8 byte offset (the Rust and CLI `start`).
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
    fn weight(&self) -> f32 {
        self.inner.weight
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

    fn __repr__(&self) -> String {
        format!("Resource({:?}: {:?})", self.0.name, self.0.how)
    }
}

/// Which engine produced a report: `mode` is `"model+rules"` or `"rules"`.
#[pyclass(frozen, module = "safespace")]
pub struct Engine(safespace::EngineInfo);

#[pymethods]
impl Engine {
    /// `"model+rules"` or `"rules"`.
    #[getter]
    fn mode(&self) -> &str {
        &self.0.mode
    }
    /// The model's name and hash, when it ran.
    #[getter]
    fn model(&self) -> Option<&str> {
        self.0.model.as_deref()
    }
    /// The rule set's name and version.
    #[getter]
    fn rules(&self) -> &str {
        &self.0.rules
    }
    /// The model's own calibrated probabilities before fusion, when it ran.
    #[getter]
    fn model_scores(&self) -> Option<BTreeMap<&'static str, f32>> {
        self.0.model_scores.as_ref().map(by_category)
    }
    /// Why the model did not run, when it was wanted.
    #[getter]
    fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    fn __repr__(&self) -> String {
        format!("Engine(mode='{}', rules='{}')", self.0.mode, self.0.rules)
    }
}

/// Scores keyed by category name.
fn by_category(scores: &safespace::CategoryScores) -> BTreeMap<&'static str, f32> {
    safespace::Category::ALL
        .into_iter()
        .map(|c| (c.as_str(), scores.get(c)))
        .collect()
}

fn runtime_error(e: impl std::fmt::Display) -> PyErr {
    crate::SafespaceError::new_err(e.to_string())
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
