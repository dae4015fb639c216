//! `manifest.json`: what the model file is and how to read its outputs.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Category, ModelArithmetic, ModelError};

/// The graph every runtime runs (int8 weights, fp32 arithmetic).
pub(crate) const MAIN_GRAPH: &str = "model.onnx";

/// The parts of `manifest.json` the runtime uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Manifest {
    pub name: String,
    pub labels: Vec<Category>,
    pub max_length: usize,
    pub calibration: Calibration,
    pub sha256: BTreeMap<String, String>,
    /// The int8-arithmetic graph, when the folder has one (`models/training/int8.py`).
    #[serde(default)]
    pub int8: Option<Int8Graph>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Calibration {
    pub temperatures: BTreeMap<Category, f32>,
}

/// `manifest.json`'s `int8` section: the int8 graph's file and its own temperatures.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Int8Graph {
    pub file: String,
    pub temperatures: BTreeMap<Category, f32>,
}

/// The graph that runs with a given arithmetic: its file name and temperatures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Graph<'a> {
    pub file: &'a str,
    temperatures: &'a BTreeMap<Category, f32>,
}

impl Graph<'_> {
    /// Per-category temperatures in category order (1 where the manifest has none).
    pub(crate) fn temperatures(&self) -> [f32; 3] {
        Category::ALL.map(|c| self.temperatures.get(&c).copied().unwrap_or(1.0))
    }
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

    /// The graph that runs with `arithmetic`; an error when `int8` is asked of a model without an
    /// int8 graph, or whose manifest names one outside the model folder.
    pub(crate) fn graph(&self, arithmetic: ModelArithmetic) -> Result<Graph<'_>, ModelError> {
        match (arithmetic, &self.int8) {
            (ModelArithmetic::Fp32, _) => Ok(Graph {
                file: MAIN_GRAPH,
                temperatures: &self.calibration.temperatures,
            }),
            (ModelArithmetic::Int8, Some(int8)) if !is_onnx_file_name(&int8.file) => {
                Err(ModelError::Damaged(format!(
                    "manifest.json names the int8 graph `{}`; expected the name of an .onnx file in the model folder",
                    int8.file
                )))
            }
            (ModelArithmetic::Int8, Some(int8)) => Ok(Graph {
                file: &int8.file,
                temperatures: &int8.temperatures,
            }),
            (ModelArithmetic::Int8, None) => Err(ModelError::NotFound(format!(
                "model {} has no int8 graph (manifest.json has no `int8` section; models/training/int8.py adds one): run it with fp32 arithmetic",
                self.name
            ))),
        }
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

    /// `name@` and the first 12 hex digits of the sha256 of the graph `file`, for reports.
    pub(crate) fn id(&self, file: &str) -> String {
        let hash = self.sha256.get(file).map_or("", |h| &h[..h.len().min(12)]);
        format!("{}@{hash}", self.name)
    }
}

/// Whether `name` is a plain `.onnx` file name (no folder, no `..`, not empty).
fn is_onnx_file_name(name: &str) -> bool {
    let mut parts = std::path::Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(part)), None) if part == name
    ) && name.ends_with(".onnx")
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

    /// A manifest whose `int8` section names `file` and whose graphs have different temperatures.
    fn with_int8_graph(file: &str) -> Manifest {
        let json = format!(
            r#"{{"name":"m","labels":["self_harm","harassment","misinformation"],"max_length":128,
            "calibration":{{"temperatures":{{"self_harm":1.5}}}},"sha256":{{}},
            "int8":{{"file":"{file}","temperatures":{{"self_harm":2.0,"harassment":0.5}}}}}}"#
        );
        Manifest::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn each_arithmetic_gets_its_graph_and_temperatures() {
        let manifest = with_int8_graph("model-int8.onnx");
        let fp32 = manifest.graph(ModelArithmetic::Fp32).unwrap();
        assert_eq!(
            (fp32.file, fp32.temperatures()),
            ("model.onnx", [1.5, 1.0, 1.0])
        );
        let int8 = manifest.graph(ModelArithmetic::Int8).unwrap();
        assert_eq!(
            (int8.file, int8.temperatures()),
            ("model-int8.onnx", [2.0, 0.5, 1.0])
        );
    }

    #[test]
    fn an_int8_graph_outside_the_folder_or_not_onnx_is_refused_but_fp32_still_loads() {
        for file in [
            "../x.onnx",
            "sub/x.onnx",
            "/x.onnx",
            "",
            "tokenizer.json",
            "..",
        ] {
            let manifest = with_int8_graph(file);
            let err = manifest.graph(ModelArithmetic::Int8).unwrap_err();
            assert!(matches!(err, ModelError::Damaged(_)), "{file}: {err:?}");
            assert!(manifest.graph(ModelArithmetic::Fp32).is_ok());
        }
    }
}
