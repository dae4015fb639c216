//! The `auto` engine's screen: which texts the model reads.
//!
//! The fast engine (rules and lexical tier) scores every text; the model reads a text only where it
//! could change the verdict. Per category, under the policy:
//!
//! - where the rules' own score reaches the threshold, the category is flagged whatever the model
//!   says (a fused score never falls below the rules'): nothing to read for;
//! - where the fast engine flags the category through the lexical tier, the model reads the text
//!   (the full engine may not flag it);
//! - where the model could flag the category on its own (threshold below the ceiling of the model's
//!   combiner), it reads the text when a rule found evidence of the category or the lexical tier's
//!   probability reaches the category's screen threshold;
//! - elsewhere (threshold at or above the ceiling) the model cannot flag the category, with or
//!   without rule evidence.
//!
//! So a text goes unread when the model cannot change its flags, or when the lexical screen says
//! it would not; only the screen is an estimate, measured on pooled validation.

use crate::fusion::{fuse, Combiner};
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
/// `lexical`: whether some category is left to it ([`left_to_model`]). Never a text of white space
/// alone: a screen may lie below the lexical tier's score of an empty text (0.072 for self-harm),
/// and there is nothing for the model to read.
pub(crate) fn screened_in(
    text: &str,
    rules: &RuleOutcome,
    lexical: Option<[f32; 3]>,
    policy: &Policy,
) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    let fast = fuse(rules, None, lexical).categories;
    Category::ALL.into_iter().any(|c| {
        let i = c.index();
        left_to_model(
            policy.threshold(c),
            rules.category_scores[i],
            fast[i],
            lexical.map(|p| p[i]),
            screen(policy, c),
        )
    })
}

/// Whether the model should decide one category, from its `threshold`, the `rules`' score, the fast
/// engine's fused score, the lexical tier's probability (`None` without the tier) and the screen
/// (`None` where the model cannot flag the category alone): not where the rules already flag it;
/// where the fast engine flags it; where the model could flag it alone, when the rules found
/// evidence of it or the lexical probability passes the screen.
fn left_to_model(
    threshold: f32,
    rules: f32,
    fast: f32,
    lexical: Option<f32>,
    screen: Option<f32>,
) -> bool {
    rules < threshold
        && (fast >= threshold
            || screen.is_some_and(|s| rules > 0.0 || lexical.is_none_or(|p| p >= s)))
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
    fn a_category_goes_to_the_model_only_where_the_model_could_change_its_flag() {
        // (threshold, rules, fast engine, lexical, screen), whether the model reads, why
        let cases = [
            ((0.6, 0.7, 0.7, Some(0.9), Some(0.4)), false, "flagged"),
            ((0.6, 0.3, 0.3, Some(0.0), Some(0.4)), true, "evidence"),
            ((0.6, 0.3, 0.3, Some(0.0), None), false, "no flag alone"),
            ((0.6, 0.0, 0.1, Some(0.4), Some(0.4)), true, "screen"),
            ((0.6, 0.0, 0.1, Some(0.3), Some(0.4)), false, "below it"),
            ((0.6, 0.0, 0.0, None, Some(0.4)), true, "no lexical tier"),
            ((0.6, 0.0, 0.65, Some(0.5), Some(0.9)), true, "lexical flag"),
            ((0.6, 0.0, 0.65, Some(0.5), None), true, "lexical flag"),
        ];
        for ((threshold, rules, fast, lexical, screen), reads, why) in cases {
            let left = left_to_model(threshold, rules, fast, lexical, screen);
            assert_eq!(left, reads, "{why}");
        }
    }

    #[test]
    fn rule_evidence_sends_a_text_where_the_model_could_still_flag_its_category() {
        let policy = Policy::peer_support();
        let quiet = Some([0.0; 3]); // below every screen of the preset
        for category in Category::ALL {
            let mut rules = RuleOutcome::default();
            rules.category_scores[category.index()] = policy.threshold(category) - 0.1;
            let alone = screen(&policy, category).is_some();
            assert_eq!(
                screened_in("text", &rules, quiet, &policy),
                alone,
                "{category}"
            );
            rules.category_scores[category.index()] = policy.threshold(category);
            assert!(!screened_in("text", &rules, quiet, &policy), "{category}");
        }
        let harassment = RuleOutcome {
            category_scores: [0.0, 0.3, 0.0],
            ..RuleOutcome::default()
        };
        assert!(screened_in("text", &harassment, quiet, &policy));
        assert!(!screened_in(" \n", &harassment, quiet, &policy));
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
