//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! Order: the path given to the builder, `ORT_DYLIB_PATH`, the library inside an installed Python
//! `onnxruntime` package (`pip install onnxruntime`), then the system library path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ort::environment::Environment;

/// How to install ONNX Runtime, for error messages.
pub(crate) const INSTALL_HINT: &str =
    "install it with `pip install onnxruntime==1.32.0` or set ORT_DYLIB_PATH to libonnxruntime.so";

static ENVIRONMENT: OnceLock<Result<(Environment, PathBuf), String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use. Later calls return the
/// first result whatever `explicit` says: a process holds one ONNX Runtime.
pub(crate) fn environment(explicit: Option<&Path>) -> Result<&'static Environment, String> {
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
