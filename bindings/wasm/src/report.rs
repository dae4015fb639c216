//! Reports as JSON for JavaScript: evidence `start`/`end` are UTF-16 offsets, the indices JavaScript
//! strings use (`text.slice(start, end)`), and the byte offsets move to `byte_start`/`byte_end`.

use serde::Serialize;
use serde_json::Value;

/// `value` (a report or a list of reports) as JSON with JavaScript offsets.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(value)?;
    match &mut value {
        Value::Array(reports) => reports.iter_mut().for_each(use_utf16_offsets),
        report => use_utf16_offsets(report),
    }
    serde_json::to_string(&value)
}

/// Rewrites one report's evidence offsets in place.
fn use_utf16_offsets(report: &mut Value) {
    let Some(Value::Array(evidence)) = report.get_mut("evidence") else {
        return;
    };
    for item in evidence.iter_mut().filter_map(Value::as_object_mut) {
        for (utf16, plain, bytes) in [
            ("utf16_start", "start", "byte_start"),
            ("utf16_end", "end", "byte_end"),
        ] {
            if let (Some(units), Some(offset)) = (item.get(utf16).cloned(), item.remove(plain)) {
                item.insert(bytes.to_owned(), offset);
                item.insert(plain.to_owned(), units);
            }
        }
    }
}
