//! The learned tiers' combiners (`models/<tier>/combiner.json`, written by
//! `models/training/fusion.py`) as Rust statics (`$OUT_DIR/combiners.rs`), so the library reads no
//! JSON at run time. The build fails, naming the file, on a missing category or weight, an unknown
//! field (`lexical`, the lexical tier's weight beside the model, is the model's alone), or a weight
//! against its documented sign: the tiers and the rules raise the combined
//! probability, the damping's weight is at least 1 (the rule files' damping lowers the odds at least
//! by its own factor), a context never raises it, and the ceiling lies in (0, 1]. The combined
//! probability must also stay below 1 in `f32`, so that a threshold at or above the ceiling keeps the
//! tier from flagging on its own (the cascade relies on it).

use std::fmt::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::CATEGORIES;

/// The combiners the crate embeds: the static's name, the tier's folder under `models/` and whether
/// it weighs the lexical tier beside its own (the model's does).
const TIERS: [(&str, &str, bool); 2] = [
    ("MODEL_COMBINER", "safespace-minilm-int8", true),
    ("LEXICAL_COMBINER", "safespace-lexical", false),
];

/// Reads each tier's `combiner.json` under `models` and writes `out/combiners.rs`.
pub fn write(models: &Path, out: &Path) -> Result<(), String> {
    let mut code = String::new();
    for (name, folder, beside_lexical) in TIERS {
        let path = models.join(folder).join("combiner.json");
        let json = crate::read_json(&path)?;
        if let Some(unknown) = json
            .as_object()
            .into_iter()
            .flat_map(|top| top.keys())
            .find(|k| !["tier", "categories"].contains(&k.as_str()))
        {
            return Err(format!("{}: unknown field {unknown:?}", path.display()));
        }
        let categories = CATEGORIES
            .iter()
            .map(|category| {
                let weights = json["categories"][category]
                    .as_object()
                    .ok_or_else(|| format!("no categories.{category}"))?;
                category_literal(weights, beside_lexical)
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(
            code,
            "/// The combiner of `models/{folder}`.\nstatic {name}: Combiner = Combiner {{ categories: [{}] }};",
            categories.join(", ")
        )
        .expect("writing to a String");
    }
    std::fs::write(out.join("combiners.rs"), code).map_err(|e| e.to_string())
}

/// The `CategoryCombiner` literal of one category's weights, with a `lexical` weight where
/// `beside_lexical`.
fn category_literal(weights: &Map<String, Value>, beside_lexical: bool) -> Result<String, String> {
    let fields = ["bias", "learned", "rules", "damping", "contexts", "ceiling"]
        .into_iter()
        .chain(beside_lexical.then_some("lexical"))
        .collect::<Vec<_>>();
    if let Some(unknown) = weights.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown:?} (expected {fields:?})"));
    }
    // Every weight as the f32 the library computes with, so the literal is the shortest that
    // reads back to it.
    let number = |field: &str| {
        weights
            .get(field)
            .and_then(Value::as_f64)
            .map(|w| w as f32)
            .filter(|w| w.is_finite())
            .ok_or_else(|| format!("{field} is missing or not a finite f32"))
    };
    let (bias, learned, rules, damping, ceiling) = (
        number("bias")?,
        number("learned")?,
        number("rules")?,
        number("damping")?,
        number("ceiling")?,
    );
    let lexical = if beside_lexical {
        number("lexical")?
    } else {
        0.0
    };
    if learned < 0.0
        || lexical < 0.0
        || rules < 0.0
        || damping < 1.0
        || !(ceiling > 0.0 && ceiling <= 1.0)
    {
        return Err(
            "the learned, lexical and rules weights are ≥ 0, the damping's ≥ 1 and the ceiling in (0, 1]"
                .into(),
        );
    }
    // The largest logit: the tiers' probabilities at 1 - 1e-4 (fusion.rs's LOGIT_FLOOR), the rules at
    // 1, no damping, no context. σ(z) rounds to 1 in f32 from z ≈ 16.6.
    let largest = bias + (learned + lexical) * ((1.0 - 1e-4) / 1e-4_f32).ln() + rules;
    if largest > 15.0 {
        return Err(format!(
            "the combined probability can round to 1 (logit up to {largest:.1} > 15)"
        ));
    }
    let mut contexts = Vec::new();
    for (kind, weight) in weights
        .get("contexts")
        .and_then(Value::as_object)
        .ok_or("contexts is missing or not an object")?
    {
        match weight.as_f64().map(|w| w as f32) {
            Some(w) if w <= 0.0 && w.is_finite() => {
                contexts.push(format!("(ContextKind::{}, {w:?})", camel_case(kind)))
            }
            _ => {
                return Err(format!(
                    "the weight of context {kind:?} is not a finite number ≤ 0"
                ))
            }
        }
    }
    Ok(format!(
        "CategoryCombiner {{ bias: {bias:?}, learned: {learned:?}, lexical: {lexical:?}, rules: {rules:?}, \
         damping: {damping:?}, contexts: &[{}], ceiling: {ceiling:?} }}",
        contexts.join(", ")
    ))
}

/// `told_to` → `ToldTo`: a context kind's name as its `ContextKind` variant (an unknown kind fails
/// to compile).
fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}
