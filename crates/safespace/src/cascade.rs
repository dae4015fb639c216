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

/// Screen thresholds per preset ([`Preset::ALL`] order) and category (self_harm, harassment,
/// misinformation): the lexical tier's probability from which a text goes to the model; `None`
/// where the model cannot flag alone under that preset.
///
/// Measured with `models/training/screen.py` (table in `models/safespace-lexical/screen.json`):
/// per preset and category, the highest threshold that still sends at least 99 % of the texts the
/// full engine flags there on pooled validation to the model, counting those a rule sends.
///
/// | preset | self_harm | harassment | misinformation | texts sent | flags kept |
/// |---|---|---|---|---|---|
/// | `peer_support` | 0.034 | 0.459 | – | 60.6 % | 99.4 % |
/// | `general` | – | – | – | 22.0 % (a rule fires) | 100 % |
/// | `strict` | 0.012 | 0.157 | 0.014 | 97.8 % | 99.9 % |
///
/// ("Texts sent" is on pooled validation, which is rich in risky and topical text, COVID claims
/// above all; on everyday traffic see `benches/README.md`.)
const SCREEN: [[Option<f32>; 3]; 3] = [
    [Some(0.034), Some(0.459), None],
    [None, None, None],
    [Some(0.012), Some(0.157), Some(0.014)],
];

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
    fn a_category_the_model_cannot_flag_alone_has_no_screen() {
        let general = Policy::general();
        for category in Category::ALL {
            assert_eq!(screen(&general, category), None, "{category}");
        }
        let peer_support = Policy::peer_support();
        assert_eq!(screen(&peer_support, Category::SelfHarm), Some(0.034));
        assert_eq!(screen(&peer_support, Category::Harassment), Some(0.459));
        assert_eq!(screen(&peer_support, Category::Misinformation), None);
        assert_eq!(screen(&Policy::strict(), Category::SelfHarm), Some(0.012));
    }

    #[test]
    fn a_custom_threshold_takes_the_screen_of_the_nearest_preset_below_it() {
        let between = Policy::peer_support()
            .with_threshold(Category::Harassment, 0.5)
            .unwrap();
        assert_eq!(screen(&between, Category::Harassment), Some(0.157));
        let lowest = Policy::strict()
            .with_threshold(Category::Harassment, 0.2)
            .unwrap();
        assert_eq!(screen(&lowest, Category::Harassment), Some(0.157));
        let self_harm = Policy::peer_support()
            .with_threshold(Category::SelfHarm, 0.4)
            .unwrap();
        assert_eq!(screen(&self_harm, Category::SelfHarm), Some(0.012));
    }
}
