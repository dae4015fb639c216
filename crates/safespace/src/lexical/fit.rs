//! Refitting a lexical tier on a community's own labeled texts, on the user's machine.
//!
//! Each category with labels of both kinds gets a new head: logistic regression over the same
//! [`lexical_features`](crate::lexical_features), started from the base tier's head and held near
//! it (an L2 penalty on the distance to the base weights, so a few hundred texts adjust the base
//! rather than replace it), solved by L-BFGS on the log-loss of the texts as labeled, so the
//! probabilities fit the community's own base rate without a separate calibration step. The result
//! is pruned to the strongest weights and quantized like the shipped tier. A category without
//! labels of both kinds keeps the base head.

use std::collections::HashMap;

use super::tier::{Head, LexicalTier};
use super::{features, SparseVector};
use crate::normalize::Normalizer;

/// How [`LexicalTier::fit`] trains.
///
/// ```
/// let options = safespace::FitOptions::default();
/// assert_eq!((options.features_per_category, options.l2), (8192, 1e-4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct FitOptions {
    /// Weights kept per category after training (the strongest by magnitude).
    pub features_per_category: usize,
    /// Strength of the pull toward the base tier's weights, per text: the objective is the mean
    /// log-loss plus `l2 / 2 × |w - w_base|²`. Larger keeps more of the base tier.
    pub l2: f64,
    /// Most L-BFGS iterations per category.
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            features_per_category: 8192,
            l2: 1e-4,
            max_iterations: 200,
        }
    }
}

impl FitOptions {
    /// Options with another pull toward the base tier.
    ///
    /// ```
    /// assert_eq!(safespace::FitOptions::default().with_l2(1e-3).l2, 1e-3);
    /// ```
    pub fn with_l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }
}

impl LexicalTier {
    /// A new tier fitted on `texts`, starting from this one: `labels[i][c]` is text `i`'s label
    /// for category `c` ([`Category::index`](crate::Category::index) order), `None` where it has
    /// none. Categories without both positive and negative labels keep this tier's head. The new
    /// tier's id is `id`. Deterministic; a few seconds for tens of thousands of texts.
    ///
    /// ```
    /// use safespace::{Category, FitOptions, LexicalTier};
    /// let texts = ["catch the bus tonight", "i will catch the bus", "the bus was late", "bus stop at 5"];
    /// let labels = [[Some(true), None, None], [Some(true), None, None],
    ///               [Some(false), None, None], [Some(false), None, None]];
    /// let base = LexicalTier::builtin();
    /// let ours = base.fit("ours@1", &texts, &labels, FitOptions::default().with_l2(1e-3));
    /// let c = Category::SelfHarm.index();
    /// let (before, after) = (base.probabilities("catch the bus")[c], ours.probabilities("catch the bus")[c]);
    /// assert!(after > before, "{before} -> {after}");
    /// assert_eq!(ours.probabilities("kys")[Category::Harassment.index()],
    ///            base.probabilities("kys")[Category::Harassment.index()]);
    /// ```
    pub fn fit<S: AsRef<str> + Sync>(
        &self,
        id: impl Into<String>,
        texts: &[S],
        labels: &[[Option<bool>; 3]],
        options: FitOptions,
    ) -> LexicalTier {
        let normalizer = Normalizer::default();
        let vectors: Vec<SparseVector> = texts
            .iter()
            .map(|t| features(normalizer.normalize(t.as_ref()).as_str()))
            .collect();
        let heads = [0, 1, 2].map(|c| {
            let labeled: Vec<(usize, bool)> = labels
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l[c].map(|label| (i, label)))
                .collect();
            let both = labeled.iter().any(|&(_, l)| l) && labeled.iter().any(|&(_, l)| !l);
            let base = self.head(c);
            if both {
                fit_head(&base, &vectors, &labeled, options)
            } else {
                base
            }
        });
        LexicalTier::from_heads(id, heads)
    }
}

/// One category's head fitted on `labeled` (row, label) of `vectors`, from `base`.
fn fit_head(
    base: &Head,
    vectors: &[SparseVector],
    labeled: &[(usize, bool)],
    options: FitOptions,
) -> Head {
    // The parameters: the base's features and every feature the labeled texts have, compacted.
    let mut slot: HashMap<u32, usize> = HashMap::new();
    let mut buckets: Vec<u32> = Vec::new();
    let mut slot_of = |bucket: u32| {
        *slot.entry(bucket).or_insert_with(|| {
            buckets.push(bucket);
            buckets.len() - 1
        })
    };
    let prior: Vec<(usize, f64)> = base
        .weights
        .iter()
        .map(|&(bucket, weight)| (slot_of(bucket), f64::from(weight)))
        .collect();
    let rows: Vec<(Vec<(usize, f64)>, f64)> = labeled
        .iter()
        .map(|&(i, label)| {
            let v = &vectors[i];
            let x = v
                .indices
                .iter()
                .zip(&v.values)
                .map(|(&b, &value)| (slot_of(b), f64::from(value)))
                .collect();
            (x, if label { 1.0 } else { -1.0 })
        })
        .collect();
    let mut w0 = vec![0.0; buckets.len() + 1];
    for &(k, weight) in &prior {
        w0[k] = weight;
    }
    let bias = buckets.len();
    w0[bias] = f64::from(base.bias);
    let objective = Objective {
        rows: &rows,
        prior: &w0,
        l2: options.l2,
    };
    let w = lbfgs(&objective, w0.clone(), options.max_iterations);
    let mut weights: Vec<(u32, f32)> = buckets
        .iter()
        .zip(&w)
        .map(|(&b, &x)| (b, x as f32))
        .filter(|&(_, x)| x != 0.0)
        .collect();
    weights.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    weights.truncate(options.features_per_category);
    weights.sort_unstable_by_key(|&(b, _)| b);
    Head {
        bias: w[bias] as f32,
        weights,
    }
}

/// Mean log-loss of `rows` (features, ±1 label) plus `l2 / 2 × |w - prior|²` over the weights
/// (the last parameter, the bias, is not pulled).
struct Objective<'a> {
    rows: &'a [(Vec<(usize, f64)>, f64)],
    prior: &'a [f64],
    l2: f64,
}

impl Objective<'_> {
    /// The value at `w`, and its gradient written into `gradient`.
    fn evaluate(&self, w: &[f64], gradient: &mut [f64]) -> f64 {
        let n = self.rows.len() as f64;
        let bias = w.len() - 1;
        gradient.fill(0.0);
        let mut loss = 0.0;
        for (x, y) in self.rows {
            let z = w[bias] + x.iter().map(|&(k, v)| w[k] * v).sum::<f64>();
            let margin = y * z;
            // log(1 + e^-m), stable for both signs.
            loss += if margin > 0.0 {
                (-margin).exp().ln_1p()
            } else {
                -margin + margin.exp().ln_1p()
            };
            let slope = -y / (1.0 + margin.exp()) / n;
            for &(k, v) in x {
                gradient[k] += slope * v;
            }
            gradient[bias] += slope;
        }
        let mut penalty = 0.0;
        for k in 0..bias {
            let d = w[k] - self.prior[k];
            penalty += d * d;
            gradient[k] += self.l2 * d;
        }
        loss / n + self.l2 / 2.0 * penalty
    }
}

/// Minimizes `objective` from `w` by L-BFGS (8 corrections, backtracking line search); stops when
/// the gradient is small, a step no longer lowers the value, or after `max_iterations`.
fn lbfgs(objective: &Objective, mut w: Vec<f64>, max_iterations: usize) -> Vec<f64> {
    const MEMORY: usize = 8;
    let dim = w.len();
    let mut gradient = vec![0.0; dim];
    let mut value = objective.evaluate(&w, &mut gradient);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::with_capacity(MEMORY);
    let mut next_gradient = vec![0.0; dim];
    for _ in 0..max_iterations {
        if dot(&gradient, &gradient).sqrt() < 1e-6 {
            break;
        }
        let direction = two_loop(&gradient, &history);
        let slope = dot(&direction, &gradient);
        if slope >= 0.0 {
            break;
        }
        let mut step = 1.0;
        let mut candidate = vec![0.0; dim];
        let accepted = loop {
            for k in 0..dim {
                candidate[k] = w[k] + step * direction[k];
            }
            let next = objective.evaluate(&candidate, &mut next_gradient);
            if next <= value + 1e-4 * step * slope {
                break Some(next);
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        let Some(next) = accepted else { break };
        let s: Vec<f64> = (0..dim).map(|k| candidate[k] - w[k]).collect();
        let y: Vec<f64> = (0..dim).map(|k| next_gradient[k] - gradient[k]).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        let improvement = value - next;
        std::mem::swap(&mut w, &mut candidate);
        std::mem::swap(&mut gradient, &mut next_gradient);
        value = next;
        if improvement < 1e-10 * value.abs().max(1e-10) {
            break;
        }
    }
    w
}

/// The L-BFGS search direction: minus the inverse-Hessian estimate times the gradient.
fn two_loop(gradient: &[f64], history: &[(Vec<f64>, Vec<f64>, f64)]) -> Vec<f64> {
    let mut q = gradient.to_vec();
    let mut alphas = Vec::with_capacity(history.len());
    for (s, y, rho) in history.iter().rev() {
        let alpha = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qk, yk)| *qk -= alpha * yk);
        alphas.push(alpha);
    }
    if let Some((s, y, _)) = history.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|qk| *qk *= gamma);
    }
    for ((s, y, rho), alpha) in history.iter().zip(alphas.into_iter().rev()) {
        let beta = rho * dot(y, &q);
        q.iter_mut()
            .zip(s)
            .for_each(|(qk, sk)| *qk += (alpha - beta) * sk);
    }
    q.iter_mut().for_each(|qk| *qk = -*qk);
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
