//! The ONNX Runtime backend: a small pool of sessions over a shared library found at run time.
//!
//! The library is loaded once per process, when the first model loads, trying in order: the path
//! given to the builder, `ORT_DYLIB_PATH`, the library inside an installed Python `onnxruntime`
//! package (`pip install onnxruntime`; looked for only when the earlier ones fail), then the system
//! library path. Library names: `libonnxruntime.so` (Linux), `libonnxruntime.dylib` (macOS),
//! `onnxruntime.dll` (Windows).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use ndarray::Array2;
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::LoadOptions;
use crate::{ModelArithmetic, ModelError};

/// Sessions over one model; `Session::run` needs exclusive access, so batches scored in parallel take
/// whichever session is free.
pub(crate) struct OnnxRuntime {
    sessions: Vec<Mutex<Session>>,
}

impl OnnxRuntime {
    /// Loads `model` (the graph `file`) into `options.sessions` sessions of
    /// `options.threads_per_session` threads each, from the library at `options.library` or found as
    /// described in the module docs. The int8 graph gets exact integer products where ONNX Runtime's
    /// fast ones could overflow (see [`int8_products_may_overflow`]).
    pub(crate) fn load(
        model: &[u8],
        file: &str,
        options: &LoadOptions,
    ) -> Result<OnnxRuntime, ModelError> {
        let precise = options.arithmetic == ModelArithmetic::Int8 && int8_products_may_overflow();
        Self::load_sessions(model, file, options, precise)
    }

    /// [`load`](Self::load), with ONNX Runtime's exact (`precise`) or fast int8 products.
    fn load_sessions(
        model: &[u8],
        file: &str,
        options: &LoadOptions,
        precise: bool,
    ) -> Result<OnnxRuntime, ModelError> {
        let environment = environment(options.library)?;
        let sessions = (0..options.sessions)
            .map(|_| {
                Session::builder(environment)
                    .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
                    .and_then(|b| Ok(b.with_intra_threads(options.threads_per_session)?))
                    .and_then(|b| match precise {
                        true => Ok(b.with_precise_qmm()?),
                        false => Ok(b),
                    })
                    .and_then(|mut b| b.commit_from_memory(model))
                    .inspect(|_| release_freed_heap())
                    .map(Mutex::new)
                    .map_err(|e| {
                        ModelError::Damaged(format!(
                            "{file} could not be loaded by ONNX Runtime: {e}"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OnnxRuntime { sessions })
    }

    /// The model's outputs for a batch of token-id sequences, concatenated in order. Shorter
    /// sequences are padded with id 0 and masked out.
    pub(crate) fn run(&self, batch: &[&[i64]]) -> Result<Vec<f32>, ModelError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ModelError::RuntimeFailed(format!("{what}: {e}"))
        };
        let width = batch.iter().map(|tokens| tokens.len()).max().unwrap_or(0);
        let padded = |value: &dyn Fn(&[i64], usize) -> i64| {
            let values = batch
                .iter()
                .flat_map(|tokens| (0..width).map(move |i| value(tokens, i)))
                .collect();
            Array2::from_shape_vec((batch.len(), width), values)
                .map_err(|e| e.to_string())
                .and_then(|a| Tensor::from_array(a).map_err(|e| e.to_string()))
                .map_err(|e| failed("input tensor", &e))
        };
        let inputs = ort::inputs![
            "input_ids" => padded(&|tokens, i| tokens.get(i).copied().unwrap_or(0))?,
            "attention_mask" => padded(&|tokens, i| i64::from(i < tokens.len()))?,
            "token_type_ids" => padded(&|_, _| 0)?,
        ];
        let mut session = self.free_session();
        let outputs = session
            .run(inputs)
            .map_err(|e| failed("model run failed", &e))?;
        let (_, output) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| failed("model output", &e))?;
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

/// Whether ONNX Runtime's fast int8 products could overflow on this CPU: on x86-64 without VNNI
/// (AVX-512 VNNI or AVX-VNNI) its uint8 × int8 kernels add pairs of products in 16 bits with
/// saturation, which can change a score; `with_precise_qmm` makes them exact there, at a cost in
/// speed. With VNNI, and on other architectures, the products are exact already.
fn int8_products_may_overflow() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !has_vnni();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// AVX-512 VNNI (with AVX-512 enabled by the OS) or AVX-VNNI, read from CPUID leaf 7.
#[cfg(target_arch = "x86_64")]
fn has_vnni() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // SAFETY: CPUID is available on every x86-64 CPU; leaf 7 and its subleaf 1 are read only when
    // the CPU reports them (`__cpuid` is a safe function in newer Rust, hence the allow).
    #[allow(unused_unsafe)]
    let (leaf7, leaf7_1) = unsafe {
        let leaf7 = (__cpuid(0).eax >= 7).then(|| __cpuid_count(7, 0));
        let leaf7_1 = leaf7.filter(|l| l.eax >= 1).map(|_| __cpuid_count(7, 1));
        (leaf7, leaf7_1)
    };
    let avx512_vnni = leaf7.is_some_and(|l| l.ecx & (1 << 11) != 0)
        && std::arch::is_x86_feature_detected!("avx512f");
    let avx_vnni = leaf7_1.is_some_and(|l| l.eax & (1 << 4) != 0)
        && std::arch::is_x86_feature_detected!("avx2");
    avx512_vnni || avx_vnni
}

/// Returns the heap pages freed while a session loaded to the system. Loading folds the int8 weights
/// into fp32 tensors through intermediate copies (about 55 MB for this model) that glibc's allocator
/// frees but keeps mapped; trimming after each session lowers the resident memory with the model
/// loaded by that much and keeps the peak to one session's copies (`benches/README.md`, "Memory").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_heap() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: glibc's `malloc_trim` only releases free memory of the allocator's own heaps; it has
    // no preconditions and is thread-safe.
    unsafe {
        malloc_trim(0);
    }
}

/// Other allocators return freed memory on their own terms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_heap() {}

/// The library's file name on this platform.
const LIBRARY: &str = if cfg!(target_os = "windows") {
    "onnxruntime.dll"
} else if cfg!(target_os = "macos") {
    "libonnxruntime.dylib"
} else {
    "libonnxruntime.so"
};

/// How to install ONNX Runtime, for error messages.
pub(crate) const INSTALL_HINT: &str = concat!(
    "install it with `pip install onnxruntime==1.32.0` or set ORT_DYLIB_PATH to the library (",
    "libonnxruntime.so, libonnxruntime.dylib or onnxruntime.dll)"
);

static ENVIRONMENT: OnceLock<Result<(Environment, PathBuf), ModelError>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use. Later calls return the
/// first result whatever `explicit` says: a process holds one ONNX Runtime.
fn environment(explicit: Option<&Path>) -> Result<&'static Environment, ModelError> {
    ENVIRONMENT
        .get_or_init(|| load(explicit))
        .as_ref()
        .map(|(env, _)| env)
        .map_err(Clone::clone)
}

/// The first candidate library that loads. Candidates are produced one at a time, so the Python
/// package is looked up (a `python3` subprocess) only when the explicit path and `ORT_DYLIB_PATH`
/// are absent or fail.
fn load(explicit: Option<&Path>) -> Result<(Environment, PathBuf), ModelError> {
    let candidates: [&dyn Fn() -> Option<PathBuf>; 4] = [
        &|| explicit.map(Path::to_path_buf),
        &|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from),
        &python_onnxruntime,
        &|| Some(PathBuf::from(LIBRARY)),
    ];
    let mut failures = Vec::new();
    for path in candidates.iter().filter_map(|candidate| candidate()) {
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
                    .map_err(|e| {
                        ModelError::RuntimeFailed(format!(
                            "ONNX Runtime loaded but failed to start: {e}"
                        ))
                    });
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    Err(ModelError::RuntimeMissing(format!(
        "ONNX Runtime was not found ({}); {INSTALL_HINT}",
        failures.join("; ")
    )))
}

/// The ONNX Runtime library shipped in the `onnxruntime` Python package, if `python3` has it.
fn python_onnxruntime() -> Option<PathBuf> {
    // The package names the library with its version: libonnxruntime.so.1.32.0,
    // libonnxruntime.1.32.0.dylib, onnxruntime.dll.
    let pattern = if cfg!(target_os = "windows") {
        "onnxruntime.dll"
    } else if cfg!(target_os = "macos") {
        "libonnxruntime.*dylib"
    } else {
        "libonnxruntime.so*"
    };
    let probe = format!(
        "import onnxruntime, pathlib; \
         print(next((pathlib.Path(onnxruntime.__file__).parent / 'capi').glob('{pattern}')))"
    );
    ["python3", "python"].into_iter().find_map(|python| {
        let output = Command::new(python).args(["-c", &probe]).output().ok()?;
        let path = String::from_utf8(output.stdout).ok()?;
        let path = PathBuf::from(path.trim());
        (output.status.success() && path.is_file()).then_some(path)
    })
}

#[cfg(all(test, feature = "bundled-model"))]
mod tests {
    use super::*;

    #[test]
    fn the_int8_graph_scores_like_exact_integer_products_on_this_cpu() {
        let graph = super::super::bundled::graph(ModelArithmetic::Int8).unwrap();
        let options = LoadOptions::new(None, Some(1), ModelArithmetic::Int8);
        let chosen = OnnxRuntime::load(graph, "model-int8.onnx", &options).unwrap();
        let exact = OnnxRuntime::load_sessions(graph, "model-int8.onnx", &options, true).unwrap();
        let short: &[i64] = &[101, 1045, 2215, 2000, 3280, 102];
        let long: Vec<i64> = [101]
            .into_iter()
            .chain((0..120).map(|i| 2000 + i * 37))
            .chain([102])
            .collect();
        for batch in [vec![short], vec![short, &long[..]]] {
            let (a, b) = (chosen.run(&batch).unwrap(), exact.run(&batch).unwrap());
            let gap = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(
                gap <= 1e-5,
                "int8 products on this CPU differ from exact ones by {gap}"
            );
        }
    }
}
