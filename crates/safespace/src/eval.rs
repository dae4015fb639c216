//! Metrics for checking a detector on labeled data: ROC-AUC, PR-AUC (average precision), precision,
//! recall and F1 at a threshold, the threshold that reaches a target recall, and calibration error;
//! plus the points behind the plots: [`roc_curve`] and [`reliability`] bins.
//!
//! ```
//! use safespace::eval::{evaluate, Confusion};
//! let scores = [0.9, 0.8, 0.3, 0.1];
//! let labels = [true, false, true, false];
//! let result = evaluate(&scores, &labels, 0.5, 0.95);
//! assert_eq!(result.roc_auc, Some(0.75));
//! assert_eq!(result.at_threshold, Confusion { tp: 1, fp: 1, fn_: 1, tn: 1 });
//! ```

use serde::Serialize;

/// Counts of a binary decision against labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Flagged and positive.
    pub tp: usize,
    /// Flagged but negative.
    pub fp: usize,
    /// Missed positive.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Correctly left alone.
    pub tn: usize,
}

impl Confusion {
    /// Counts with `score >= threshold` as flagged.
    ///
    /// ```
    /// let c = safespace::eval::Confusion::at(&[0.7, 0.2], &[true, true], 0.5);
    /// assert_eq!((c.tp, c.fn_), (1, 1));
    /// ```
    pub fn at(scores: &[f32], labels: &[bool], threshold: f32) -> Confusion {
        let mut c = Confusion::default();
        for (&score, &label) in scores.iter().zip(labels) {
            match (score >= threshold, label) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }

    /// `tp / (tp + fp)`; 0 when nothing is flagged.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`; 0 without positives.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// `fp / (fp + tn)`; 0 without negatives.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn)
    }
}

/// Everything [`evaluate`] measures for one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Labeled examples.
    pub n: usize,
    /// Positive examples.
    pub positives: usize,
    /// Area under the ROC curve (ties count half); `None` when only one class is present.
    pub roc_auc: Option<f64>,
    /// Average precision (area under the precision-recall curve); `None` without positives.
    pub pr_auc: Option<f64>,
    /// The threshold the decision counts below use (the policy's).
    pub threshold: f32,
    /// Decisions at `threshold`.
    pub at_threshold: Confusion,
    /// Precision at `threshold`.
    pub precision: f64,
    /// Recall at `threshold`.
    pub recall: f64,
    /// F1 at `threshold`.
    pub f1: f64,
    /// The highest threshold whose recall reaches the target, and what it costs.
    pub for_target_recall: Option<TargetRecall>,
    /// Expected calibration error over 10 equal-width bins.
    pub ece: Option<f64>,
    /// Why a figure is missing, in words.
    pub note: Option<String>,
}

/// The threshold that reaches a target recall.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetRecall {
    /// The recall asked for.
    pub target: f64,
    /// The highest threshold that reaches it.
    pub threshold: f32,
    /// The recall reached there.
    pub recall: f64,
    /// The false-positive rate paid for it.
    pub false_positive_rate: f64,
}

/// Measures `scores` against `labels` at `threshold`, and finds the threshold for `target_recall`.
///
/// With a single class (all positive or all negative) the ranking metrics are `None` and `note` says
/// why, rather than NaN.
///
/// ```
/// let all_negative = safespace::eval::evaluate(&[0.1, 0.7], &[false, false], 0.5, 0.9);
/// assert_eq!(all_negative.roc_auc, None);
/// assert!(all_negative.note.unwrap().contains("no positive"));
/// ```
pub fn evaluate(scores: &[f32], labels: &[bool], threshold: f32, target_recall: f64) -> Evaluation {
    let positives = labels.iter().filter(|&&l| l).count();
    let at_threshold = Confusion::at(scores, labels, threshold);
    let note = match (positives, labels.len() - positives) {
        (0, 0) => Some("no labeled examples".to_owned()),
        (0, _) => Some("no positive examples: ROC-AUC, PR-AUC and recall need some".to_owned()),
        (_, 0) => {
            Some("no negative examples: ROC-AUC and false-positive rates need some".to_owned())
        }
        _ => None,
    };
    Evaluation {
        n: labels.len(),
        positives,
        roc_auc: roc_auc(scores, labels),
        pr_auc: average_precision(scores, labels),
        threshold,
        at_threshold,
        precision: at_threshold.precision(),
        recall: at_threshold.recall(),
        f1: at_threshold.f1(),
        for_target_recall: threshold_for_recall(scores, labels, target_recall),
        ece: expected_calibration_error(scores, labels, 10),
        note,
    }
}

/// ROC-AUC: the chance that a random positive scores above a random negative, ties counting half
/// (the Mann-Whitney statistic), computed as the trapezoid area under [`roc_curve`], whose tied scores
/// form one diagonal step. `None` unless both classes are present.
///
/// ```
/// use safespace::eval::roc_auc;
/// assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), Some(0.5));
/// assert_eq!(roc_auc(&[0.5], &[true]), None);
/// ```
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let curve = roc_curve(scores, labels)?;
    Some(
        curve
            .windows(2)
            .map(|w| {
                (w[1].false_positive_rate - w[0].false_positive_rate)
                    * (w[1].true_positive_rate + w[0].true_positive_rate)
                    / 2.0
            })
            .sum(),
    )
}

/// Average precision: the mean, over positives, of the precision at the threshold that first flags
/// them; tied scores are flagged together. `None` without positives.
///
/// ```
/// use safespace::eval::average_precision;
/// assert_eq!(average_precision(&[0.9, 0.8, 0.3], &[true, false, true]), Some((1.0 + 2.0 / 3.0) / 2.0));
/// ```
pub fn average_precision(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 {
        return None;
    }
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut flagged, mut sum) = (0usize, 0usize, 0.0);
    let mut i = 0;
    while i < pairs.len() {
        let j = i + pairs[i..].iter().take_while(|p| p.0 == pairs[i].0).count();
        let new_positives = pairs[i..j].iter().filter(|p| p.1).count();
        tp += new_positives;
        flagged += j - i;
        sum += new_positives as f64 * tp as f64 / flagged as f64;
        i = j;
    }
    Some(sum / positives as f64)
}

/// The highest threshold (one of the scores) at which recall reaches `target`. `None` without
/// positives.
///
/// ```
/// let t = safespace::eval::threshold_for_recall(&[0.9, 0.6, 0.4, 0.2], &[true, false, true, false], 1.0).unwrap();
/// assert_eq!((t.threshold, t.false_positive_rate), (0.4, 0.5));
/// ```
pub fn threshold_for_recall(scores: &[f32], labels: &[bool], target: f64) -> Option<TargetRecall> {
    let mut positive_scores: Vec<f32> = scores
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l)
        .map(|(&s, _)| s)
        .collect();
    if positive_scores.is_empty() {
        return None;
    }
    positive_scores.sort_by(|a, b| b.total_cmp(a));
    let needed = ((target.clamp(0.0, 1.0) * positive_scores.len() as f64).ceil() as usize).max(1);
    let threshold = positive_scores[needed.min(positive_scores.len()) - 1];
    let confusion = Confusion::at(scores, labels, threshold);
    Some(TargetRecall {
        target,
        threshold,
        recall: confusion.recall(),
        false_positive_rate: confusion.false_positive_rate(),
    })
}

/// One point of a ROC curve: the rates when every score at or above `threshold` is flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    /// Scores at or above this are flagged (`f32::INFINITY` for the first point: nothing flagged).
    pub threshold: f32,
    /// Negatives flagged / negatives.
    pub false_positive_rate: f64,
    /// Positives flagged / positives (recall).
    pub true_positive_rate: f64,
}

/// The ROC curve, one point per distinct score from the highest threshold down, from (0, 0) to (1, 1);
/// tied scores move both rates in one step. `None` without both classes.
///
/// ```
/// let curve = safespace::eval::roc_curve(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]).unwrap();
/// let rates: Vec<(f64, f64)> =
///     curve.iter().map(|p| (p.false_positive_rate, p.true_positive_rate)).collect();
/// assert_eq!(rates, [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
/// ```
pub fn roc_curve(scores: &[f32], labels: &[bool]) -> Option<Vec<RocPoint>> {
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut curve = vec![RocPoint {
        threshold: f32::INFINITY,
        false_positive_rate: 0.0,
        true_positive_rate: 0.0,
    }];
    let (mut tp, mut fp) = (0, 0);
    for group in pairs.chunk_by(|a, b| a.0 == b.0) {
        tp += group.iter().filter(|p| p.1).count();
        fp += group.iter().filter(|p| !p.1).count();
        curve.push(RocPoint {
            threshold: group[0].0,
            false_positive_rate: ratio(fp, negatives),
            true_positive_rate: ratio(tp, positives),
        });
    }
    Some(curve)
}

/// Scores in one calibration bin and how often they were right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationBin {
    /// The bin's lowest score (inclusive).
    pub lower: f64,
    /// The bin's highest score (exclusive, but 1.0 falls in the last bin).
    pub upper: f64,
    /// Scores in the bin.
    pub count: usize,
    /// Their mean: the predicted probability.
    pub mean_score: f64,
    /// The share of them that are positive: the observed frequency.
    pub positive_rate: f64,
}

/// The reliability diagram's bins: scores split into `bins` equal-width bins over [0, 1]; empty bins are
/// left out. A calibrated detector has `mean_score ≈ positive_rate` in every bin.
///
/// ```
/// let bins = safespace::eval::reliability(&[0.1, 0.2, 0.9, 0.8], &[false, true, true, true], 2);
/// assert_eq!(bins.len(), 2);
/// assert_eq!((bins[0].count, bins[0].positive_rate), (2, 0.5));
/// assert!((bins[1].mean_score - 0.85).abs() < 1e-6);
/// ```
pub fn reliability(scores: &[f32], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    if bins == 0 {
        return Vec::new();
    }
    let mut sums = vec![(0.0f64, 0usize, 0usize); bins]; // score sum, positives, count
    for (&score, &label) in scores.iter().zip(labels) {
        let bin = ((score.clamp(0.0, 1.0) as f64 * bins as f64) as usize).min(bins - 1);
        sums[bin].0 += score as f64;
        sums[bin].1 += usize::from(label);
        sums[bin].2 += 1;
    }
    let width = 1.0 / bins as f64;
    sums.iter()
        .enumerate()
        .filter(|(_, (_, _, count))| *count > 0)
        .map(|(i, &(sum, positives, count))| CalibrationBin {
            lower: i as f64 * width,
            upper: (i + 1) as f64 * width,
            count,
            mean_score: sum / count as f64,
            positive_rate: ratio(positives, count),
        })
        .collect()
}

/// Expected calibration error: over `bins` equal-width score bins, the example-weighted mean gap
/// between the mean score and the share of positives. `None` without examples.
///
/// ```
/// use safespace::eval::expected_calibration_error;
/// let ece = expected_calibration_error(&[0.9, 0.9, 0.1, 0.1], &[true, false, false, false], 10).unwrap();
/// assert!((ece - 0.25).abs() < 1e-6);
/// ```
pub fn expected_calibration_error(scores: &[f32], labels: &[bool], bins: usize) -> Option<f64> {
    if scores.is_empty() || bins == 0 {
        return None;
    }
    let total = scores.len() as f64;
    Some(
        reliability(scores, labels, bins)
            .iter()
            .map(|b| (b.mean_score - b.positive_rate).abs() * b.count as f64 / total)
            .sum(),
    )
}

/// Reads one label as data files and tables write it: `1`/`0` (or a number equal to them, such as
/// `1.0`), `true`/`false` or `yes`/`no`, in any case and with spaces around ignored; empty or `nan`
/// means unlabeled (`None`). The CLI's `safespace eval` reads JSON numbers and booleans by their JSON
/// text and Python's `safespace.evaluate` reads each value by its `str()`, so both take the same labels.
///
/// ```
/// use safespace::eval::parse_label;
/// assert_eq!(parse_label("yes"), Ok(Some(true)));
/// assert_eq!(parse_label(" False "), Ok(Some(false)));
/// assert_eq!(parse_label("1.0"), Ok(Some(true)));
/// assert_eq!(parse_label("nan"), Ok(None));
/// assert_eq!(parse_label("maybe").unwrap_err(), "label `maybe` is not 0/1, true/false or yes/no");
/// ```
pub fn parse_label(text: &str) -> Result<Option<bool>, String> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "" | "nan" => Ok(None),
        "true" | "yes" => Ok(Some(true)),
        "false" | "no" => Ok(Some(false)),
        other => match other.parse::<f64>() {
            Ok(1.0) => Ok(Some(true)),
            Ok(0.0) => Ok(Some(false)),
            _ => Err(format!("label `{text}` is not 0/1, true/false or yes/no")),
        },
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    match denominator {
        0 => 0.0,
        d => numerator as f64 / d as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positives 0.8, 0.4, 0.4; negatives 0.4, 0.1: a tie across the classes.
    const TIED_SCORES: [f32; 5] = [0.8, 0.4, 0.4, 0.4, 0.1];
    const TIED_LABELS: [bool; 5] = [true, true, true, false, false];

    #[test]
    fn roc_auc_matches_hand_counts_with_ties() {
        // Pairs: 0.8 beats both negatives (2); each positive 0.4 ties the negative 0.4 (0.5) and beats
        // 0.1 (1): 2 + 1.5 + 1.5 = 5 of 6.
        let auc = roc_auc(&TIED_SCORES, &TIED_LABELS).unwrap();
        assert!((auc - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[0.1, 0.9], &[true, false]), Some(0.0));
    }

    #[test]
    fn average_precision_flags_ties_together() {
        // Both 0.5s are flagged at once: precision 1/2 for the one positive among them.
        assert_eq!(average_precision(&[0.5, 0.5], &[true, false]), Some(0.5));
        assert_eq!(average_precision(&[0.1], &[false]), None);
    }

    #[test]
    fn target_recall_takes_the_highest_threshold_that_reaches_it() {
        let scores = [0.9, 0.8, 0.7, 0.3, 0.2];
        let labels = [true, false, true, true, false];
        let two_thirds = threshold_for_recall(&scores, &labels, 0.6).unwrap();
        assert_eq!(two_thirds.threshold, 0.7);
        assert!((two_thirds.recall - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(two_thirds.false_positive_rate, 0.5);
        assert_eq!(
            threshold_for_recall(&scores, &labels, 1.0)
                .unwrap()
                .threshold,
            0.3
        );
    }

    #[test]
    fn single_class_gives_none_and_a_note_never_nan() {
        let all_positive = evaluate(&[0.2, 0.9], &[true, true], 0.5, 0.9);
        assert_eq!(all_positive.roc_auc, None);
        assert_eq!(all_positive.recall, 0.5);
        assert!(all_positive.note.unwrap().contains("no negative"));
        let empty = evaluate(&[], &[], 0.5, 0.9);
        assert_eq!((empty.roc_auc, empty.pr_auc, empty.ece), (None, None, None));
        assert_eq!(empty.f1, 0.0);
    }

    #[test]
    fn roc_curve_steps_once_per_distinct_score() {
        let curve = roc_curve(&TIED_SCORES, &TIED_LABELS).unwrap();
        let points: Vec<(f32, f64, f64)> = curve
            .iter()
            .map(|p| (p.threshold, p.false_positive_rate, p.true_positive_rate))
            .collect();
        assert_eq!(
            points,
            [
                (f32::INFINITY, 0.0, 0.0),
                (0.8, 0.0, 1.0 / 3.0),
                (0.4, 0.5, 1.0),
                (0.1, 1.0, 1.0)
            ]
        );
        assert_eq!(roc_curve(&[0.3], &[true]), None);
    }

    #[test]
    fn calibration_error_is_the_count_weighted_gap_of_the_reliability_bins() {
        // Bin [0, 0.5): scores 0.1, 0.3 (mean 0.2), one positive (0.5): gap 0.3, weight 2/4.
        // Bin [0.5, 1]: scores 0.6, 1.0 (mean 0.8), both positive (1.0): gap 0.2, weight 2/4.
        let (scores, labels) = ([0.1, 0.3, 0.6, 1.0], [true, false, true, true]);
        let bins = reliability(&scores, &labels, 2);
        assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [2, 2]);
        let ece = expected_calibration_error(&scores, &labels, 2).unwrap();
        assert!((ece - 0.25).abs() < 1e-6, "{ece}");
        assert!(reliability(&scores, &labels, 0).is_empty());
    }

    #[test]
    fn labels_read_the_same_whatever_their_spelling() {
        for (text, label) in [
            ("1", Some(true)),
            ("1.0", Some(true)),
            ("1e0", Some(true)),
            ("TRUE", Some(true)),
            (" Yes\t", Some(true)),
            ("0", Some(false)),
            ("0.0", Some(false)),
            ("-0", Some(false)),
            ("false", Some(false)),
            ("NO", Some(false)),
            ("", None),
            ("  ", None),
            ("NaN", None),
        ] {
            assert_eq!(parse_label(text), Ok(label), "{text:?}");
        }
        for text in ["2", "0.5", "inf", "y", "[1]", "\"yes\""] {
            assert!(parse_label(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn confusion_ratios() {
        let c = Confusion {
            tp: 3,
            fp: 1,
            fn_: 1,
            tn: 5,
        };
        assert_eq!((c.precision(), c.recall(), c.f1()), (0.75, 0.75, 0.75));
        assert!((c.false_positive_rate() - 1.0 / 6.0).abs() < 1e-12);
    }
}
