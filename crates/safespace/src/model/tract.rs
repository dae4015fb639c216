//! The tract backend: pure-Rust inference that also builds for wasm32.
//!
//! The plan is optimized once at load for a batch of one and a symbolic sequence length, so one plan
//! serves windows of any length (with the batch symbolic too, tract cannot infer the shape of the
//! classifier's `Flatten`). Running takes `&self`, so parallel windows share the plan.

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::ModelError;

/// The inputs the model must take, in this order.
const INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

/// An optimized, runnable plan of the model.
pub(crate) struct Tract {
    plan: Arc<TypedRunnableModel>,
}

impl Tract {
    /// Parses and optimizes `model` (ONNX bytes).
    pub(crate) fn load(model: &[u8]) -> Result<Tract, ModelError> {
        let plan = optimize(model).map_err(|e| {
            ModelError::Damaged(format!("model.onnx could not be loaded by tract: {e:#}"))
        })?;
        let model = plan.model();
        let inputs: Vec<&str> = model
            .inputs
            .iter()
            .map(|outlet| model.node(outlet.node).name.as_str())
            .collect();
        if inputs != INPUTS {
            return Err(ModelError::Damaged(format!(
                "model.onnx takes inputs {inputs:?}, expected {INPUTS:?}"
            )));
        }
        Ok(Tract { plan })
    }

    /// The model's output for one sequence of token ids (a batch of one).
    pub(crate) fn run(&self, tokens: &[i64]) -> Result<Vec<f32>, ModelError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ModelError::RuntimeFailed(format!("{what}: {e:#}"))
        };
        let shape = [1, tokens.len()];
        let tensor = |values: &[i64]| {
            Tensor::from_shape(&shape, values)
                .map(TValue::from)
                .map_err(|e| failed("input tensor", &e))
        };
        let inputs = tvec![
            tensor(tokens)?,
            tensor(&vec![1; tokens.len()])?,
            tensor(&vec![0; tokens.len()])?,
        ];
        let outputs = self
            .plan
            .run(inputs)
            .map_err(|e| failed("model run failed", &e))?;
        let output = outputs
            .first()
            .ok_or_else(|| ModelError::Damaged("model returned no output".to_owned()))?
            .to_plain_array_view::<f32>()
            .map_err(|e| failed("model output", &e))?;
        Ok(output.iter().copied().collect())
    }
}

/// Parses `model` with inputs of shape `[1, S]` and makes it runnable.
fn optimize(model: &[u8]) -> TractResult<Arc<TypedRunnableModel>> {
    let mut model = tract_onnx::onnx().model_for_read(&mut &model[..])?;
    let sequence = model.sym("S").to_dim();
    for input in 0..INPUTS.len() {
        let shape = [1.to_dim(), sequence.clone()];
        model = model.with_input_fact(input, InferenceFact::dt_shape(i64::datum_type(), shape))?;
    }
    model.into_optimized()?.into_runnable()
}
