//! The built-in lexical tier's id (`name@version` from `models/safespace-lexical/manifest.json`) as a
//! Rust constant (`$OUT_DIR/lexical_id.rs`), so a new tier names itself without editing code and
//! without shipping the manifest in the library. The build fails, naming the file, when `name` or
//! `version` is missing.

use std::path::Path;

use serde_json::Value;

/// Reads `path` (`manifest.json`) and writes `out/lexical_id.rs`: `BUILTIN_ID`.
pub fn write(path: &Path, out: &Path) -> Result<(), String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| at(e.to_string()))?;
    let field = |name: &str| {
        json[name]
            .as_str()
            .ok_or_else(|| at(format!("no string field `{name}`")))
    };
    let id = format!("{}@{}", field("name")?, field("version")?);
    let code = format!(
        "/// Name and version of the built-in tier, as reports give them (its `manifest.json`).\n\
         const BUILTIN_ID: &str = {id:?};\n"
    );
    let target = out.join("lexical_id.rs");
    std::fs::write(&target, code).map_err(|e| format!("{}: {e}", target.display()))
}
