//! `manifest.json`: what the model file is and how to read its outputs.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Category, ModelError};

/// The parts of `manifest.json` the runtime uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Manifest {
    pub name: String,
    pub labels: Vec<Category>,
    pub max_length: usize,
    pub calibration: Calibration,
    pub sha256: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Calibration {
    pub temperatures: BTreeMap<Category, f32>,
}

impl Manifest {
    pub(crate) fn parse(json: &[u8]) -> Result<Manifest, ModelError> {
        let manifest: Manifest = serde_json::from_slice(json)
            .map_err(|e| ModelError::Damaged(format!("manifest.json is not valid: {e}")))?;
        if manifest.labels != Category::ALL {
            return Err(ModelError::Damaged(format!(
                "manifest.json lists labels {:?}; this build expects self_harm, harassment, misinformation",
                manifest.labels
            )));
        }
        if !(8..=512).contains(&manifest.max_length) {
            return Err(ModelError::Damaged(format!(
                "manifest.json max_length {} is out of range",
                manifest.max_length
            )));
        }
        Ok(manifest)
    }

    /// Checks a file's bytes against the sha256 the manifest records for it.
    pub(crate) fn verify(&self, file: &str, bytes: &[u8]) -> Result<(), ModelError> {
        let expected = self.sha256.get(file).ok_or_else(|| {
            ModelError::Damaged(format!("manifest.json records no sha256 for {file}"))
        })?;
        let actual: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if &actual == expected {
            Ok(())
        } else {
            Err(ModelError::Damaged(format!(
                "{file} does not match manifest.json (sha256 {actual}, expected {expected}): the file is truncated, corrupted or from another model"
            )))
        }
    }

    /// Per-category temperatures in category order (1 when the manifest has none).
    pub(crate) fn temperatures(&self) -> [f32; 3] {
        Category::ALL.map(|c| {
            self.calibration
                .temperatures
                .get(&c)
                .copied()
                .unwrap_or(1.0)
        })
    }

    /// `name@<first 12 hex digits of the model's sha256>`.
    pub(crate) fn id(&self) -> String {
        let hash = self
            .sha256
            .get("model.onnx")
            .map_or("", |h| &h[..h.len().min(12)]);
        format!("{}@{hash}", self.name)
    }
}

/// `sigmoid(logit(p) / t)`: the temperature calibration fitted by the training pipeline.
pub(crate) fn calibrate(p: f32, temperature: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    let logit = (p / (1.0 - p)).ln();
    1.0 / (1.0 + (-logit / temperature).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_is_identity_at_temperature_one_and_flattens_above() {
        assert!((calibrate(0.8, 1.0) - 0.8).abs() < 1e-6);
        assert!(calibrate(0.8, 2.0) < 0.8);
        assert!(calibrate(0.2, 2.0) > 0.2);
    }

    #[test]
    fn verification_names_the_file_and_both_hashes() {
        let manifest = Manifest::parse(br#"{"name":"m","labels":["self_harm","harassment","misinformation"],"max_length":128,"calibration":{"temperatures":{}},"sha256":{"model.onnx":"00"}}"#).unwrap();
        let err = manifest.verify("model.onnx", b"abc").unwrap_err();
        assert!(matches!(err, ModelError::Damaged(_)), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("model.onnx") && message.contains("expected 00"),
            "{message}"
        );
        assert!(manifest.verify("tokenizer.json", b"").is_err());
    }
}
