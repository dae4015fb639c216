//! The lexical tier's place in builds without feature `lexical`: it never runs, so the fast engine
//! is the rule engine alone (`engine.mode` "rules").

use std::ops::Range;
use std::sync::Arc;

use crate::normalize::NormalizedText;
use crate::Category;

/// No lexical tier.
#[derive(Debug)]
pub(crate) struct LexicalTier;

/// Never made: the tier does not run.
#[derive(Debug, Clone)]
pub(crate) enum LexicalRun {}

impl LexicalRun {
    pub(crate) fn probabilities(&self) -> [f32; 3] {
        match *self {}
    }
}

impl LexicalTier {
    pub(crate) fn builtin() -> Arc<LexicalTier> {
        Arc::new(LexicalTier)
    }

    pub(crate) fn load_dir(_: &std::path::Path) -> Result<LexicalTier, String> {
        Err("this build has no lexical tier (feature `lexical`)".to_owned())
    }

    pub(crate) fn id(&self) -> &str {
        ""
    }

    pub(crate) fn run(&self, _: &NormalizedText) -> Option<LexicalRun> {
        None
    }

    pub(crate) fn explain(
        &self,
        _: &NormalizedText,
        run: &LexicalRun,
        _: Category,
        _: usize,
    ) -> Vec<(Range<usize>, f32)> {
        match *run {}
    }
}
