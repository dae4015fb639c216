//! Detector options as JavaScript passes them (JSON, camelCase keys).

use std::collections::BTreeMap;

use serde::Deserialize;

/// Everything `new Detector(options)` accepts besides the model files.
///
/// ```json
/// {"policy": "strict", "locale": "UK", "thresholds": {"harassment": 0.5},
///  "rules": [{"name": "ours", "toml": "..."}], "disableRules": ["idiom.killing_it"],
///  "maxInputBytes": 100000}
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Options {
    policy: Option<String>,
    locale: Option<String>,
    thresholds: BTreeMap<String, f32>,
    rules: Vec<RuleFile>,
    disable_rules: Vec<String>,
    max_input_bytes: Option<usize>,
}

/// A rule file's contents, named for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    toml: String,
}

impl Options {
    /// Parses the JSON the wrapper sends.
    pub(crate) fn parse(json: &str) -> Result<Options, safespace::Error> {
        serde_json::from_str(json)
            .map_err(|e| safespace::Error::InvalidOption(format!("options: {e}")))
    }

    /// A builder configured with these options.
    pub(crate) fn builder(self) -> Result<safespace::DetectorBuilder, safespace::Error> {
        let mut builder = safespace::Detector::builder();
        if let Some(policy) = self.policy {
            builder = builder.preset(policy.parse()?);
        }
        if let Some(locale) = self.locale {
            builder = builder.locale(locale.parse()?);
        }
        for (category, threshold) in self.thresholds {
            let category = category
                .parse()
                .map_err(|e| safespace::Error::InvalidOption(format!("thresholds: {e}")))?;
            builder = builder.threshold(category, threshold);
        }
        for file in self.rules {
            builder = builder.add_rules_str(file.name, file.toml);
        }
        for id in self.disable_rules {
            builder = builder.disable_rule(id);
        }
        if let Some(limit) = self.max_input_bytes {
            builder = builder.max_input_bytes(limit);
        }
        Ok(builder)
    }
}
