//! The detector as a Python class: options from keyword arguments, scoring with the GIL released.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFloat, PyList, PyString};
use rayon::ThreadPool;

use crate::report::Report;
use crate::{shortest, InputError, InputTypeError, InvalidOptionError, ModelError, SafespaceError};

/// The Rust detector behind `safespace.Detector`. Safe to share between Python threads.
#[pyclass(frozen, module = "safespace._native")]
pub struct NativeDetector {
    inner: safespace::Detector,
    pools: Pools,
}

#[pymethods]
impl NativeDetector {
    #[new]
    #[pyo3(signature = (policy, locale, engine, model_path, lexical_path, thresholds, require_model, onnxruntime_library, rules_files, disable_rules, max_input_bytes, model_sessions, model_arithmetic))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        policy: &str,
        locale: &str,
        engine: &str,
        model_path: Option<String>,
        lexical_path: Option<String>,
        thresholds: HashMap<String, f32>,
        require_model: bool,
        onnxruntime_library: Option<String>,
        rules_files: Vec<String>,
        disable_rules: Vec<String>,
        max_input_bytes: Option<i64>,
        model_sessions: Option<i64>,
        model_arithmetic: &str,
    ) -> PyResult<Self> {
        let settings = safespace::Settings {
            engine: Some(engine.parse().map_err(to_py_error)?),
            policy: Some(policy.parse().map_err(to_py_error)?),
            locale: Some(locale.parse().map_err(to_py_error)?),
            thresholds: thresholds
                .into_iter()
                .map(|(category, threshold)| {
                    Ok((
                        category.parse().map_err(InvalidOptionError::new_err)?,
                        threshold,
                    ))
                })
                .collect::<PyResult<_>>()?,
            rules: Vec::new(),
            rules_files: rules_files.into_iter().map(PathBuf::from).collect(),
            disable_rules,
            // A negative limit reads as 0, which the core refuses with its own message.
            max_input_bytes: max_input_bytes.map(|limit| usize::try_from(limit).unwrap_or(0)),
        };
        let mut builder = safespace::Detector::builder();
        if let Some(dir) = model_path {
            builder = builder.model_dir(dir);
        }
        if let Some(dir) = lexical_path {
            builder = builder.lexical_dir(dir);
        }
        builder = builder
            .settings(settings)
            .require_model(require_model)
            .model_arithmetic(model_arithmetic.parse().map_err(to_py_error)?);
        if let Some(library) = onnxruntime_library {
            builder = builder.onnxruntime_library(library);
        }
        if let Some(sessions) = model_sessions {
            // A negative count reads as 0, which the core refuses with its own message.
            builder = builder.model_sessions(usize::try_from(sessions).unwrap_or(0));
        }
        let inner = guarded(|| builder.build())?.map_err(to_py_error)?;
        Ok(NativeDetector {
            inner,
            pools: Pools::default(),
        })
    }

    /// Scores one text.
    fn score(&self, py: Python<'_>, text: String) -> PyResult<Report> {
        let report = py.detach(|| guarded(|| self.inner.try_score(&text)))?;
        Ok(Report::new(report.map_err(to_py_error)?, &text))
    }

    /// Scores a list; `None` items (allowed only with `allow_missing`) give `None`.
    fn score_batch(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyList>,
        threads: Option<usize>,
        allow_missing: bool,
    ) -> PyResult<Vec<Option<Report>>> {
        let (batch, reports) = self.score_list(py, texts, threads, allow_missing, |r| r)?;
        Ok(reports
            .into_iter()
            .zip(&batch.texts)
            .zip(&batch.present)
            .map(|((report, text), &present)| present.then(|| Report::new(report, text)))
            .collect())
    }

    /// Scores a list into `n × 3` little-endian float32 bytes (NaN rows for missing items).
    fn scores<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyList>,
        threads: Option<usize>,
        allow_missing: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (batch, rows) =
            self.score_list(py, texts, threads, allow_missing, |r| r.scores.to_array())?;
        Ok(PyBytes::new(py, &batch.score_bytes(rows)))
    }

    /// Scores a list into what a data frame keeps of each report: the scores as `scores` gives
    /// them, and per item its flagged categories joined by commas, its severity and its action
    /// (`None` for missing items).
    fn score_rows<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyList>,
        threads: Option<usize>,
        allow_missing: bool,
    ) -> PyResult<FrameColumns<'py>> {
        let (batch, rows) = self.score_list(py, texts, threads, allow_missing, |r| {
            let flagged: Vec<&str> = r.flagged.iter().map(|c| c.as_str()).collect();
            let labels = (flagged.join(","), r.severity.as_str(), r.action.as_str());
            (r.scores.to_array(), labels)
        })?;
        let (scores, labels): (Vec<[f32; 3]>, Vec<_>) = rows.into_iter().unzip();
        let mut columns = (Vec::new(), Vec::new(), Vec::new());
        for ((flagged, severity, action), &present) in labels.into_iter().zip(&batch.present) {
            columns.0.push(present.then_some(flagged));
            columns.1.push(present.then_some(severity));
            columns.2.push(present.then_some(action));
        }
        let bytes = PyBytes::new(py, &batch.score_bytes(scores));
        Ok((bytes, columns.0, columns.1, columns.2))
    }

    /// Whether the model runs.
    #[getter]
    fn uses_model(&self) -> bool {
        self.inner.uses_model()
    }

    /// The engine asked for: `"auto"`, `"full"` or `"fast"`.
    #[getter]
    fn engine(&self) -> &'static str {
        self.inner.engine().as_str()
    }

    /// Why the model is not running, when it was wanted.
    #[getter]
    fn model_unavailable_reason(&self) -> Option<String> {
        self.inner
            .model_unavailable_reason()
            .map(ToString::to_string)
    }

    /// The policy preset's name.
    #[getter]
    fn policy(&self) -> &'static str {
        self.inner.policy().name().as_str()
    }

    /// The policy's threshold per category.
    #[getter]
    fn thresholds(&self) -> HashMap<&'static str, f64> {
        safespace::Category::ALL
            .into_iter()
            .map(|c| (c.as_str(), shortest(self.inner.policy().threshold(c))))
            .collect()
    }

    /// The locale code.
    #[getter]
    fn locale(&self) -> String {
        self.inner.locale().to_string()
    }

    /// Ids of every active rule and context modifier.
    fn rule_ids(&self) -> Vec<String> {
        self.inner.rule_ids().map(str::to_owned).collect()
    }
}

impl NativeDetector {
    /// Copies `texts` out of Python, scores them on the pool for `threads` with the GIL released,
    /// and keeps `keep(report)` of each ([`Batch::score`]).
    fn score_list<T: Send>(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyList>,
        threads: Option<usize>,
        allow_missing: bool,
        keep: impl Fn(safespace::Report) -> T + Send,
    ) -> PyResult<(Batch, Vec<T>)> {
        let batch = Batch::extract(texts, allow_missing)?;
        let pool = self.pools.get(threads)?;
        let kept = py.detach(|| guarded(|| batch.score(&self.inner, &pool, keep)))??;
        Ok((batch, kept))
    }
}

/// The `InputTypeError` for `texts[index]`, an item that is not a `str`.
pub(crate) fn not_a_str(index: usize, item: &Bound<'_, PyAny>) -> PyErr {
    match item.get_type().name() {
        Ok(type_name) => {
            InputTypeError::new_err(format!("texts[{index}] is {type_name}, expected str"))
        }
        Err(e) => e,
    }
}

/// What `score_rows` returns: the scores as `scores` gives them, then per item its flagged
/// categories joined by commas, its severity and its action (`None` for missing items).
type FrameColumns<'py> = (
    Bound<'py, PyBytes>,
    Vec<Option<String>>,
    Vec<Option<&'static str>>,
    Vec<Option<&'static str>>,
);

/// The texts of a batch, copied out of Python so that scoring can run without the GIL; missing
/// items (`None`, NaN) are scored as nothing and reported as absent.
struct Batch {
    texts: Vec<String>,
    present: Vec<bool>,
}

impl Batch {
    fn extract(items: &Bound<'_, PyList>, allow_missing: bool) -> PyResult<Batch> {
        let mut batch = Batch {
            texts: Vec::with_capacity(items.len()),
            present: Vec::with_capacity(items.len()),
        };
        for (index, item) in items.iter().enumerate() {
            if let Ok(text) = item.cast::<PyString>() {
                batch.texts.push(text.to_cow()?.into_owned());
                batch.present.push(true);
                continue;
            }
            let missing =
                item.is_none() || item.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan());
            if !missing {
                return Err(not_a_str(index, &item));
            }
            if !allow_missing {
                return Err(InputError::new_err(format!(
                    "texts[{index}] is missing (None or NaN); pass on_error=\"null\" to get None for it or on_error=\"skip\" to leave it out"
                )));
            }
            batch.texts.push(String::new());
            batch.present.push(false);
        }
        Ok(batch)
    }
}

impl Batch {
    /// Scores every text on `pool` and keeps `keep(report)` of each, one per item (missing items
    /// score as empty text); a text over the size limit fails the batch with an `InputError` naming
    /// its index. Texts are scored [`safespace::BATCH_CHUNK_TEXTS`] at a time, so a report is
    /// dropped as soon as its chunk is done when `keep` takes only part of it.
    fn score<T>(
        &self,
        detector: &safespace::Detector,
        pool: &ThreadPool,
        keep: impl Fn(safespace::Report) -> T,
    ) -> PyResult<Vec<T>> {
        let size = safespace::BATCH_CHUNK_TEXTS;
        let mut kept = Vec::with_capacity(self.texts.len());
        for (c, chunk) in self.texts.chunks(size).enumerate() {
            let results = pool.install(|| detector.try_score_batch(chunk));
            for (k, result) in results.into_iter().enumerate() {
                let report = result
                    .map_err(|e| InputError::new_err(format!("texts[{}]: {e}", c * size + k)))?;
                kept.push(keep(report));
            }
        }
        debug_assert_eq!(kept.len(), self.texts.len(), "one result per item");
        Ok(kept)
    }

    /// The scores of every item as little-endian float32 bytes, three per item, NaN for missing
    /// items.
    fn score_bytes(&self, scores: Vec<[f32; 3]>) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(scores.len() * 12);
        for (row, &present) in scores.iter().zip(&self.present) {
            let row = if present { *row } else { [f32::NAN; 3] };
            bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        }
        bytes
    }
}

/// Rayon pools per thread count, rebuilt in a forked child (a fork keeps none of the parent's
/// threads, so the parent's pool would wait forever).
#[derive(Default)]
struct Pools(Mutex<HashMap<Option<usize>, OwnedPool>>);

/// A pool and the id of the process that started it.
type OwnedPool = (u32, Arc<ThreadPool>);

impl Pools {
    fn get(&self, threads: Option<usize>) -> PyResult<Arc<ThreadPool>> {
        if threads == Some(0) {
            return Err(InvalidOptionError::new_err("threads must be at least 1"));
        }
        let pid = std::process::id();
        let mut pools = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((owner, pool)) = pools.get(&threads) {
            if *owner == pid {
                return Ok(pool.clone());
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .thread_name(|i| format!("safespace-{i}"))
            .build()
            .map(Arc::new)
            .map_err(|e| SafespaceError::new_err(format!("cannot start scoring threads: {e}")))?;
        pools.insert(threads, (pid, pool.clone()));
        Ok(pool)
    }
}

/// Runs `f`, turning a panic into a `SafespaceError` so that none crosses into Python.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        SafespaceError::new_err(format!(
            "internal error in safespace (please report it): {message}"
        ))
    })
}

/// The `safespace.exceptions` class of a core error.
pub(crate) fn to_py_error(error: safespace::Error) -> PyErr {
    let message = error.to_string();
    match error {
        safespace::Error::InvalidOption(_)
        | safespace::Error::Rules { .. }
        | safespace::Error::Io { .. }
        | safespace::Error::Lexical(_) => InvalidOptionError::new_err(message),
        safespace::Error::InputTooLarge { .. } => InputError::new_err(message),
        safespace::Error::Model(_) => ModelError::new_err(message),
        _ => SafespaceError::new_err(message),
    }
}
