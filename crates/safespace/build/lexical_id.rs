//! The built-in lexical tier's id (`name@version` from `models/safespace-lexical/manifest.json`) as a
//! Rust constant (`$OUT_DIR/lexical_id.rs`), so a new tier names itself without editing code and
//! without shipping the manifest in the library. The build fails, naming the file, when `name` or
//! `version` is missing.

use std::path::Path;

/// Reads `path` (`manifest.json`) and writes `out/lexical_id.rs`: `BUILTIN_ID`.
pub fn write(path: &Path, out: &Path) -> Result<(), String> {
    let json = crate::read_json(path)?;
    let field = |name: &str| {
        json[name]
            .as_str()
            .ok_or_else(|| format!("{}: no string field `{name}`", path.display()))
    };
    let id = format!("{}@{}", field("name")?, field("version")?);
    let code = format!(
        "/// Name and version of the built-in tier, as reports give them (its `manifest.json`).\n\
         const BUILTIN_ID: &str = {id:?};\n"
    );
    crate::write_code(out, "lexical_id.rs", &code)
}
