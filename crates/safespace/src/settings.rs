//! A detector's configuration as plain data, shared by the bindings and configuration files.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::{Category, Engine, Locale, Preset};

/// Detector configuration as plain data: what the Python and WebAssembly bindings and the CLI hand
/// to [`DetectorBuilder::settings`](crate::DetectorBuilder::settings). Deserializes from JSON or TOML
/// with these snake_case keys (unknown keys are an error); unset fields keep the builder's defaults.
///
/// ```
/// use safespace::{Category, Detector, Locale, Settings};
///
/// let settings: Settings = serde_json::from_str(
///     r#"{"policy": "strict", "locale": "uk", "thresholds": {"harassment": 0.5}}"#,
/// )?;
/// assert_eq!(settings.locale, Some(Locale::Uk));
/// let detector = Detector::builder().rules_only(true).settings(settings).build()?;
/// assert_eq!(detector.policy().threshold(Category::Harassment), 0.5);
///
/// let typo = serde_json::from_str::<Settings>(r#"{"policy": "lenient"}"#).unwrap_err();
/// assert!(typo.to_string().contains("unknown policy `lenient`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The engine: `full` (rules + lexical tier + model) or `fast` (rules + lexical tier).
    #[serde(deserialize_with = "parsed")]
    pub engine: Option<Engine>,
    /// Policy preset: thresholds and actions.
    #[serde(deserialize_with = "parsed")]
    pub policy: Option<Preset>,
    /// Which country's crisis resources to show.
    #[serde(deserialize_with = "parsed")]
    pub locale: Option<Locale>,
    /// Thresholds in `(0, 1]` that override the policy's, per category.
    #[serde(deserialize_with = "parsed_keys")]
    pub thresholds: BTreeMap<Category, f32>,
    /// Rule files given by their contents.
    pub rules: Vec<RuleText>,
    /// Rule files given by their paths.
    pub rules_files: Vec<PathBuf>,
    /// Ids of rules and context modifiers to switch off.
    pub disable_rules: Vec<String>,
    /// The largest text to score, in bytes.
    pub max_input_bytes: Option<usize>,
}

/// A rule file's contents (the format of `rules/*.toml`) and the name its errors cite.
///
/// ```
/// let rules = safespace::RuleText { name: "ours.toml".into(), toml: "[[rule]]\nid = 'ours.x'".into() };
/// assert_eq!(rules.name, "ours.toml");
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    /// Shown in error messages, like a file name.
    pub name: String,
    /// The rules, in TOML.
    pub toml: String,
}

/// An optional value read with its `FromStr`, so errors read as they do everywhere else.
fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse().map_err(D::Error::custom))
        .transpose()
}

fn parsed_keys<'de, D>(deserializer: D) -> Result<BTreeMap<Category, f32>, D::Error>
where
    D: Deserializer<'de>,
{
    BTreeMap::<String, f32>::deserialize(deserializer)?
        .into_iter()
        .map(|(category, value)| Ok((category.parse().map_err(D::Error::custom)?, value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> String {
        serde_json::from_str::<Settings>(json)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_keys_and_values_name_what_is_wrong() {
        assert!(error(r#"{"polcy": "strict"}"#).contains("unknown field `polcy`"));
        assert!(error(r#"{"locale": "Mars"}"#).contains("unknown locale `Mars`"));
        assert!(error(r#"{"thresholds": {"spam": 0.5}}"#).contains("unknown category `spam`"));
        assert!(error(r#"{"rules": [{"name": "a.toml"}]}"#).contains("missing field `toml`"));
    }

    #[test]
    fn an_empty_object_is_the_default() {
        let settings: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, Settings::default());
    }
}
