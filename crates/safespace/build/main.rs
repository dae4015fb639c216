//! Build steps of the core crate; each writes generated files into `OUT_DIR`:
//! - [`decompositions`]: the normalizer's table of decomposed characters;
//! - [`rule_lists`]: the built-in rule files with their phrase lists expanded;
//! - [`combiners`]: the learned tiers' combiners;
//! - [`screen`]: the cascade's screen thresholds;
//! - [`lexical_id`]: the built-in lexical tier's id.

mod combiners;
mod decompositions;
mod lexical_id;
mod rule_lists;
mod screen;

use std::path::{Path, PathBuf};

/// The categories in the order of `Category::ALL`, as the generated code indexes them.
const CATEGORIES: [&str; 3] = ["self_harm", "harassment", "misinformation"];

/// The JSON file at `path`; errors name the file.
fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes generated Rust `code` to `out/name`; errors name the file.
fn write_code(out: &Path, name: &str, code: &str) -> Result<(), String> {
    let target = out.join(name);
    std::fs::write(&target, code).map_err(|e| format!("{}: {e}", target.display()))
}

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    decompositions::write(&out);
    if let Err(message) = rule_lists::write(std::path::Path::new("rules"), &out) {
        panic!("{message}");
    }
    let models = std::path::Path::new("../../models");
    if let Err(message) = combiners::write(models, &out) {
        panic!("{message}");
    }
    if let Err(message) = screen::write(&models.join("safespace-lexical/screen.json"), &out) {
        panic!("{message}");
    }
    if let Err(message) = lexical_id::write(&models.join("safespace-lexical/manifest.json"), &out) {
        panic!("{message}");
    }
    println!("cargo::rerun-if-changed=build");
    println!("cargo::rerun-if-changed=rules");
    println!("cargo::rerun-if-changed=../../models/safespace-minilm-int8/combiner.json");
    println!("cargo::rerun-if-changed=../../models/safespace-lexical/combiner.json");
    println!("cargo::rerun-if-changed=../../models/safespace-lexical/screen.json");
    println!("cargo::rerun-if-changed=../../models/safespace-lexical/manifest.json");
}
