//! Flags each JSONL record's `text` with rustrict's default `is_inappropriate` (profane, offensive,
//! sexual or mean at moderate severity or worse), one `0`/`1` line per record, in order.

use std::io::{self, BufRead, BufWriter, Write};

use rustrict::CensorStr;

fn main() -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for line in io::stdin().lock().lines() {
        let record: serde_json::Value = serde_json::from_str(&line?).map_err(io::Error::other)?;
        let text = record["text"].as_str().unwrap_or_default();
        writeln!(out, "{}", u8::from(text.is_inappropriate()))?;
    }
    out.flush()
}
