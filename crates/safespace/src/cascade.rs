//! The `auto` engine's screen: which texts the model reads.
//!
//! The fast engine (rules and lexical tier) scores every text; the model reads a text when a rule
//! found evidence in it, or when, in a category the model could flag on its own under the policy
//! (threshold below the ceiling of the model's combiner; otherwise every flag there comes from rule
//! evidence, which sends the text anyway), the lexical tier's probability reaches the category's screen
//! threshold. The others keep the fast engine's answer.

use crate::fusion::Combiner;
use crate::policy::{Policy, Preset};
use crate::rules::RuleOutcome;
use crate::Category;

// `SCREEN`: thresholds per preset ([`Preset::ALL`] order) and category (self_harm, harassment,
// misinformation), the lexical tier's probability from which a text goes to the model; `None` where
// the model cannot flag alone under that preset. `build/screen.rs` reads them from
// `models/safespace-lexical/screen.json`, which `models/training/screen.py` writes: per preset and
// category, the highest threshold that still sends at least 99 % of the texts the full engine flags
// there on pooled validation to the model, counting those a rule sends. The same file gives the
// share of validation texts each preset sends; `benches/README.md` has it on everyday traffic.
include!(concat!(env!("OUT_DIR"), "/screen.rs"));

/// The screen threshold of `category` under `policy`: that of the preset with the highest
/// threshold at or below the policy's (the strict preset's below all of them), or 0 (every text)
/// where that preset has none measured; `None` when the model cannot flag the category alone.
fn screen(policy: &Policy, category: Category) -> Option<f32> {
    let threshold = policy.threshold(category);
    if threshold >= Combiner::model().ceiling(category) {
        return None;
    }
    let preset_threshold = |p: &Preset| Policy::preset(*p).threshold(category);
    let closest = Preset::ALL
        .iter()
        .filter(|p| preset_threshold(p) <= threshold)
        .max_by(|a, b| preset_threshold(a).total_cmp(&preset_threshold(b)))
        .unwrap_or(&Preset::Strict);
    let row = Preset::ALL.iter().position(|p| p == closest)?;
    SCREEN[row][category.index()].or(Some(0.0))
}

/// Whether the model should read `text` (normalized), in which the fast engine found `rules` and
/// `lexical`. Never a text of white space alone: a screen may lie below the lexical tier's score
/// of an empty text (0.072 for self-harm), and there is nothing for the model to read.
pub(crate) fn screened_in(
    text: &str,
    rules: &RuleOutcome,
    lexical: Option<[f32; 3]>,
    policy: &Policy,
) -> bool {
    !text.trim().is_empty()
        && (rules.category_scores.iter().any(|&score| score > 0.0)
            || Category::ALL.into_iter().any(|c| {
                screen(policy, c).is_some_and(|s| lexical.is_none_or(|p| p[c.index()] >= s))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_json_measured_a_screen_exactly_where_the_combiner_lets_the_model_flag_alone() {
        // screen.py reads the combiner the crate embeds: rerun it whenever fusion.py moves a ceiling.
        for (row, preset) in Preset::ALL.into_iter().enumerate() {
            let policy = Policy::preset(preset);
            for category in Category::ALL {
                let alone = policy.threshold(category) < Combiner::model().ceiling(category);
                let measured = SCREEN[row][category.index()];
                assert_eq!(measured.is_some(), alone, "{preset:?} {category}");
                assert_eq!(screen(&policy, category), measured, "{preset:?} {category}");
            }
        }
        // Self-harm, the costliest miss, is screened under the default policy.
        assert!(screen(&Policy::peer_support(), Category::SelfHarm).is_some());
    }

    #[test]
    fn a_custom_threshold_takes_the_screen_of_the_nearest_preset_below_it() {
        let strict = |category: Category| SCREEN[2][category.index()];
        for category in [Category::SelfHarm, Category::Harassment] {
            // Otherwise the policies below could not tell the two presets' screens apart.
            assert_ne!(SCREEN[0][category.index()], strict(category), "{category}");
        }
        let between = Policy::peer_support()
            .with_threshold(Category::Harassment, 0.5)
            .unwrap();
        assert_eq!(
            screen(&between, Category::Harassment),
            strict(Category::Harassment)
        );
        let lowest = Policy::strict()
            .with_threshold(Category::Harassment, 0.2)
            .unwrap();
        assert_eq!(
            screen(&lowest, Category::Harassment),
            strict(Category::Harassment)
        );
        let self_harm = Policy::peer_support()
            .with_threshold(Category::SelfHarm, 0.4)
            .unwrap();
        assert_eq!(
            screen(&self_harm, Category::SelfHarm),
            strict(Category::SelfHarm)
        );
    }

    #[test]
    fn the_screen_is_the_measured_table() {
        let measured: serde_json::Value = serde_json::from_str(include_str!(
            "../../../models/safespace-lexical/screen.json"
        ))
        .unwrap();
        for (row, preset) in Preset::ALL.iter().enumerate() {
            for category in Category::ALL {
                let cell = &measured["presets"][preset.as_str()]["screen"][category.as_str()];
                let expected = cell.as_f64().map(|t| t as f32);
                assert_eq!(
                    SCREEN[row][category.index()],
                    expected,
                    "{preset:?} {category}"
                );
            }
        }
    }
}
