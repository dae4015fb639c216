//! [`ModelArithmetic`]: which of the model's two graphs runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The arithmetic the transformer runs in: which graph of the model folder is loaded.
///
/// | arithmetic | graph | runs on | speed, 280-character post, one thread |
/// |---|---|---|---|
/// | `fp32` (default) | `model.onnx`: int8 weights, fp32 products | ONNX Runtime and tract, native and WebAssembly | ~13 ms |
/// | `int8` | `model-int8.onnx`: int8 products with fixed activation scales | ONNX Runtime only | ~7.4 ms on CPUs with VNNI |
///
/// With `fp32` a text gets the same scores in every runtime (within 1e-5), so the browser and a
/// server agree. `int8` computes every weight product but the feed-forward down projection in
/// integers: its probabilities differ from `fp32`'s by about 0.01 on average and up to about 0.3 on
/// single texts, with its own temperatures (thresholds, fusion and the cascade's screen are the fp32
/// graph's), within 0.0014 ROC-AUC of `fp32` on pooled validation (the model card, "The int8 graph").
/// It was measured on a CPU with VNNI (AVX-512 VNNI), where it pays. On x86-64 CPUs without VNNI,
/// ONNX Runtime's fast int8 products can overflow, so they are made exact there, which is slower:
/// there `fp32` is likely the faster choice. The report's `engine.model` is `name@` and the sha256
/// prefix of the graph that ran (`manifest.json` lists both graphs' hashes).
///
/// ```
/// use safespace::ModelArithmetic;
/// assert_eq!("int8".parse::<ModelArithmetic>()?, ModelArithmetic::Int8);
/// assert_eq!(ModelArithmetic::default().to_string(), "fp32");
/// assert!("int4".parse::<ModelArithmetic>().unwrap_err().to_string().contains("expected fp32 or int8"));
/// # Ok::<(), safespace::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ModelArithmetic {
    /// `model.onnx`: the same scores in every runtime.
    #[default]
    Fp32,
    /// `model-int8.onnx`: faster on CPUs with fast integer products; ONNX Runtime only.
    Int8,
}

impl ModelArithmetic {
    /// Both choices.
    ///
    /// ```
    /// assert_eq!(safespace::ModelArithmetic::ALL.len(), 2);
    /// ```
    pub const ALL: [ModelArithmetic; 2] = [ModelArithmetic::Fp32, ModelArithmetic::Int8];

    /// `"fp32"` or `"int8"`.
    ///
    /// ```
    /// assert_eq!(safespace::ModelArithmetic::Int8.as_str(), "int8");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ModelArithmetic::Fp32 => "fp32",
            ModelArithmetic::Int8 => "int8",
        }
    }
}

impl fmt::Display for ModelArithmetic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelArithmetic {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ModelArithmetic::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown model arithmetic `{s}` (expected fp32 or int8)"
                ))
            })
    }
}
