//! Which engine a detector runs ([`Engine`]) and the tiers an engine is made of ([`Tier`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The engine a detector runs.
///
/// | engine | tiers | needs | speed (280-char post, one core) |
/// |---|---|---|---|
/// | `auto` (default) | rules + lexical on every text, the model where they screen it in | ONNX Runtime (or tract) | fast on everyday text, full where it matters |
/// | `full` | rules + lexical + model on every text | ONNX Runtime (or tract) | ~15 ms |
/// | `fast` | rules + lexical | nothing | ~20 µs |
///
/// `auto` sends a text to the model only where the model could change its flags: in a category the
/// rules have not flagged, when the fast engine flags it, or, where the model could flag it alone,
/// when a rule found evidence of it or the lexical tier's probability reaches a screen threshold
/// chosen so that at least 99 % of the full engine's flags on pooled validation are kept (see
/// `cascade.rs`). The other texts get the fast engine's answer. When the model cannot be loaded, or
/// fails on a text, `auto` and `full` answer with the fast engine and say so in `engine.mode` and
/// `engine.note`.
///
/// ```
/// use safespace::Engine;
/// assert_eq!("fast".parse::<Engine>()?, Engine::Fast);
/// assert_eq!(Engine::default().to_string(), "auto");
/// assert!("turbo".parse::<Engine>().unwrap_err().to_string().contains("expected auto, full or fast"));
/// # Ok::<(), safespace::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The cascade: the fast engine on every text, the model on the texts it screens in.
    #[default]
    Auto,
    /// The transformer fused with the rules and the lexical tier, on every text.
    Full,
    /// The rules and the lexical tier: no model, microseconds per post, what runs in the browser.
    Fast,
}

impl Engine {
    /// Every engine.
    ///
    /// ```
    /// assert_eq!(safespace::Engine::ALL.len(), 3);
    /// ```
    pub const ALL: [Engine; 3] = [Engine::Auto, Engine::Full, Engine::Fast];

    /// `"auto"`, `"full"` or `"fast"`.
    ///
    /// ```
    /// assert_eq!(safespace::Engine::Fast.as_str(), "fast");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Auto => "auto",
            Engine::Full => "full",
            Engine::Fast => "fast",
        }
    }

    /// Whether this engine runs the model (on some texts or on all).
    ///
    /// ```
    /// assert!(safespace::Engine::Auto.uses_model() && !safespace::Engine::Fast.uses_model());
    /// ```
    pub fn uses_model(self) -> bool {
        self != Engine::Fast
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Engine {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Engine::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown engine `{s}` (expected auto, full or fast)"
                ))
            })
    }
}

/// One stage of an engine that produces scores; a report lists those that ran in `engine.tiers`.
///
/// ```
/// use safespace::Tier;
/// assert_eq!(serde_json::to_string(&[Tier::Rules, Tier::Lexical]).unwrap(), r#"["rules","lexical"]"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The rule engine: precise patterns with context.
    Rules,
    /// The lexical tier: a linear model over hashed n-grams.
    Lexical,
    /// The transformer.
    Model,
}
