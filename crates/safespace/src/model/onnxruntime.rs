//! The ONNX Runtime backend: a small pool of sessions over a shared library found at run time.
//!
//! The library is loaded once per process. Order: the path given to the builder, `ORT_DYLIB_PATH`, the
//! library inside an installed Python `onnxruntime` package (`pip install onnxruntime`), then the
//! system library path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use ndarray::Array2;
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

/// Sessions over one model; `Session::run` needs exclusive access, so windows scored in parallel take
/// whichever session is free.
pub(crate) struct OnnxRuntime {
    sessions: Vec<Mutex<Session>>,
}

impl OnnxRuntime {
    /// Loads `model` into `sessions` sessions (at least one) of the library at `library` or found as
    /// described in the module docs.
    pub(crate) fn load(
        model: &[u8],
        library: Option<&Path>,
        sessions: usize,
    ) -> Result<OnnxRuntime, String> {
        let environment = environment(library)?;
        let sessions = (0..sessions.max(1))
            .map(|_| {
                Session::builder(environment)
                    .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
                    .and_then(|b| Ok(b.with_intra_threads(1)?))
                    .and_then(|mut b| b.commit_from_memory(model))
                    .map(Mutex::new)
                    .map_err(|e| format!("model.onnx could not be loaded by ONNX Runtime: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OnnxRuntime { sessions })
    }

    /// The model's output for one sequence of token ids (a batch of one).
    pub(crate) fn run(&self, tokens: &[i64]) -> Result<Vec<f32>, String> {
        let width = tokens.len();
        let tensor = |values: Vec<i64>| {
            Array2::from_shape_vec((1, width), values)
                .map_err(|e| e.to_string())
                .and_then(|a| Tensor::from_array(a).map_err(|e| e.to_string()))
                .map_err(|e| format!("input tensor: {e}"))
        };
        let inputs = ort::inputs![
            "input_ids" => tensor(tokens.to_vec())?,
            "attention_mask" => tensor(vec![1; width])?,
            "token_type_ids" => tensor(vec![0; width])?,
        ];
        let mut session = self.free_session();
        let outputs = session
            .run(inputs)
            .map_err(|e| format!("model run failed: {e}"))?;
        let (_, output) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("model output: {e}"))?;
        Ok(output.to_vec())
    }

    /// A session nobody is using, or else the first one once it is free.
    fn free_session(&self) -> MutexGuard<'_, Session> {
        self.sessions
            .iter()
            .find_map(|s| s.try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[0]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            })
    }
}

/// How to install ONNX Runtime, for error messages.
pub(crate) const INSTALL_HINT: &str =
    "install it with `pip install onnxruntime==1.32.0` or set ORT_DYLIB_PATH to libonnxruntime.so";

static ENVIRONMENT: OnceLock<Result<(Environment, PathBuf), String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use. Later calls return the
/// first result whatever `explicit` says: a process holds one ONNX Runtime.
fn environment(explicit: Option<&Path>) -> Result<&'static Environment, String> {
    ENVIRONMENT
        .get_or_init(|| load(explicit))
        .as_ref()
        .map(|(env, _)| env)
        .map_err(Clone::clone)
}

fn load(explicit: Option<&Path>) -> Result<(Environment, PathBuf), String> {
    let candidates: Vec<PathBuf> = explicit
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .chain(python_onnxruntime())
        .chain(std::iter::once(PathBuf::from("libonnxruntime.so")))
        .collect();
    let mut failures = Vec::new();
    for path in candidates {
        if path.is_absolute() && !path.exists() {
            failures.push(format!("{}: no such file", path.display()));
            continue;
        }
        match ort::init_from(&path) {
            Ok(builder) => {
                return builder
                    .with_name("safespace")
                    .build()
                    .map(|env| (env, path))
                    .map_err(|e| format!("ONNX Runtime loaded but failed to start: {e}"));
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    Err(format!(
        "ONNX Runtime was not found ({}); {INSTALL_HINT}",
        failures.join("; ")
    ))
}

/// The ONNX Runtime library shipped in the `onnxruntime` Python package, if `python3` has it.
fn python_onnxruntime() -> Option<PathBuf> {
    const PROBE: &str = "import onnxruntime, pathlib; \
        print(next((pathlib.Path(onnxruntime.__file__).parent / 'capi').glob('libonnxruntime.so*')))";
    ["python3", "python"].into_iter().find_map(|python| {
        let output = Command::new(python).args(["-c", PROBE]).output().ok()?;
        let path = String::from_utf8(output.stdout).ok()?;
        let path = PathBuf::from(path.trim());
        (output.status.success() && path.is_file()).then_some(path)
    })
}
