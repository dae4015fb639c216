//! The native half of `safespace.evaluate`: labels read as the CLI reads them (the core's
//! `parse_label`), metrics from `safespace::eval`, handed over as plain Python values.

use pyo3::prelude::*;
use pyo3::types::PyList;
use safespace::eval::{evaluate, parse_label, Evaluation};

use crate::{shortest, InputError};

/// One category's metrics: the fields of `safespace.CategoryEvaluation` but `category` and
/// `target_recall`, as a dict.
#[derive(IntoPyObject)]
pub struct CategoryFields {
    n: usize,
    positives: usize,
    roc_auc: Option<f64>,
    pr_auc: Option<f64>,
    threshold: f64,
    precision: f64,
    recall: f64,
    f1: f64,
    tp: usize,
    fp: usize,
    r#fn: usize,
    tn: usize,
    target_threshold: Option<f64>,
    target_false_positive_rate: Option<f64>,
    ece: Option<f64>,
    note: Option<String>,
}

impl From<Evaluation> for CategoryFields {
    fn from(e: Evaluation) -> Self {
        let target = e.for_target_recall;
        CategoryFields {
            n: e.n,
            positives: e.positives,
            roc_auc: e.roc_auc,
            pr_auc: e.pr_auc,
            threshold: shortest(e.threshold),
            precision: e.precision,
            recall: e.recall,
            f1: e.f1,
            tp: e.at_threshold.tp,
            fp: e.at_threshold.fp,
            r#fn: e.at_threshold.fn_,
            tn: e.at_threshold.tn,
            target_threshold: target.map(|t| shortest(t.threshold)),
            target_false_positive_rate: target.map(|t| t.false_positive_rate),
            ece: e.ece,
            note: e.note,
        }
    }
}

/// Metrics of `scores` against `labels`, one label per score, each read by its `str()` with
/// `parse_label`; `None`, NaN and empty labels leave their text out.
#[pyfunction]
pub fn evaluate_category(
    category: &str,
    scores: Vec<f32>,
    labels: &Bound<'_, PyList>,
    threshold: f32,
    target_recall: f64,
) -> PyResult<CategoryFields> {
    let (mut kept_scores, mut kept_labels) = (Vec::new(), Vec::new());
    for (score, label) in scores
        .iter()
        .zip(read_labels(category, labels, scores.len())?)
    {
        if let Some(label) = label {
            kept_scores.push(*score);
            kept_labels.push(label);
        }
    }
    Ok(evaluate(&kept_scores, &kept_labels, threshold, target_recall).into())
}

/// `category`'s labels, one per text (`texts` of them), each read by its `str()` with
/// `parse_label`; `None`, NaN and empty labels are `None`.
pub fn read_labels(
    category: &str,
    labels: &Bound<'_, PyList>,
    texts: usize,
) -> PyResult<Vec<Option<bool>>> {
    if texts != labels.len() {
        return Err(InputError::new_err(format!(
            "{texts} texts but {} {category} labels",
            labels.len()
        )));
    }
    labels
        .iter()
        .enumerate()
        .map(|(index, item)| {
            if item.is_none() {
                return Ok(None);
            }
            parse_label(&item.str()?.to_cow()?)
                .map_err(|e| InputError::new_err(format!("labels[{category:?}][{index}]: {e}")))
        })
        .collect()
}
