//! The cascade's screen thresholds (`models/safespace-lexical/screen.json`, written by
//! `models/training/screen.py`) as a Rust constant (`$OUT_DIR/screen.rs`), so a new measurement
//! reaches the library without editing code. The build fails, naming the file, on a missing preset
//! or category, or a threshold that is neither `null` nor in [0, 1].

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::CATEGORIES;

/// The presets in the order of `Preset::ALL`.
const PRESETS: [&str; 3] = ["peer_support", "general", "strict"];

/// Reads `path` (`screen.json`) and writes `out/screen.rs`: `SCREEN`, one row per preset.
pub fn write(path: &Path, out: &Path) -> Result<(), String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let json = crate::read_json(path)?;
    let mut rows = Vec::new();
    for preset in PRESETS {
        let screen = json["presets"][preset]["screen"]
            .as_object()
            .ok_or_else(|| at(format!("no presets.{preset}.screen")))?;
        let mut cells = Vec::new();
        for category in CATEGORIES {
            cells.push(match screen.get(category) {
                Some(Value::Null) => "None".to_string(),
                Some(v) => match v.as_f64().map(|t| t as f32) {
                    Some(t) if (0.0..=1.0).contains(&t) => format!("Some({t:?})"),
                    _ => {
                        return Err(at(format!(
                            "presets.{preset}.screen.{category} is neither null nor in [0, 1]"
                        )))
                    }
                },
                None => return Err(at(format!("no presets.{preset}.screen.{category}"))),
            });
        }
        rows.push(format!("[{}]", cells.join(", ")));
    }
    let mut code = String::new();
    writeln!(
        code,
        "/// `models/safespace-lexical/screen.json`: per preset ([`Preset::ALL`] order) and category.\n\
         const SCREEN: [[Option<f32>; 3]; 3] = [{}];",
        rows.join(", ")
    )
    .expect("writing to a String");
    crate::write_code(out, "screen.rs", &code)
}
