//! Reading records from JSONL and CSV, with line numbers and per-record errors.

use std::io::BufRead;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// The records of a JSONL or CSV file, or of standard input for `-`. (Not in the fuzz build, which
/// compiles this file alone for its readers.)
#[cfg(not(fuzzing))]
pub fn open_records(
    path: &std::path::Path,
    format: crate::options::Format,
    column: &str,
) -> Result<Box<dyn Iterator<Item = Result<Record>>>> {
    use std::io::{self, BufReader};
    let input: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin().lock()))
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Box::new(BufReader::new(file))
    };
    Ok(match format {
        crate::options::Format::Jsonl => Box::new(JsonlReader::new(input, column)),
        crate::options::Format::Csv => Box::new(CsvReader::new(input, column)?),
    })
}

/// One input record: where it came from, its text (or why it has none), and the fields passed through.
#[derive(Debug)]
pub struct Record {
    /// 1-based line number in the input.
    pub line: u64,
    pub text: Result<String, String>,
    pub passthrough: Map<String, Value>,
}

/// Yields records from a JSONL stream. Blank lines are skipped (they hold no record).
pub struct JsonlReader<R> {
    input: R,
    column: String,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> JsonlReader<R> {
    pub fn new(input: R, column: &str) -> Self {
        JsonlReader {
            input,
            column: column.to_owned(),
            line: 0,
            buffer: Vec::new(),
        }
    }

    fn parse(&self, bytes: &[u8]) -> (Result<String, String>, Map<String, Value>) {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                return (
                    Err(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
                    Map::new(),
                )
            }
        };
        let mut object = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => object,
            Ok(other) => {
                return (
                    Err(format!(
                        "expected a JSON object, found {}",
                        json_kind(&other)
                    )),
                    Map::new(),
                )
            }
            Err(e) => return (Err(format!("bad JSON: {e}")), Map::new()),
        };
        let text = match object.remove(&self.column) {
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(format!(
                "field `{}` is {}, expected a string",
                self.column,
                json_kind(&other)
            )),
            None => Err(format!("missing field `{}`", self.column)),
        };
        (text, object)
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buffer.clear();
            match self.input.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e).context("cannot read input")),
            }
            self.line += 1;
            let bytes = trim_line_end(&self.buffer);
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (text, passthrough) = self.parse(bytes);
            return Some(Ok(Record {
                line: self.line,
                text,
                passthrough,
            }));
        }
    }
}

/// Yields records from CSV with a header row; every other column is passed through as a string.
pub struct CsvReader<R> {
    reader: csv::Reader<R>,
    headers: Vec<String>,
    column: usize,
    record: csv::ByteRecord,
}

impl<R: std::io::Read> CsvReader<R> {
    pub fn new(input: R, column: &str) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers: Vec<String> = reader
            .byte_headers()
            .context("cannot read the CSV header row")?
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let index = headers.iter().position(|h| h == column).with_context(|| {
            format!(
                "the CSV header has no column `{column}` (columns: {}); choose one with --column",
                headers.join(", ")
            )
        })?;
        Ok(CsvReader {
            reader,
            headers,
            column: index,
            record: csv::ByteRecord::new(),
        })
    }
}

impl<R: std::io::Read> Iterator for CsvReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let mut passthrough = Map::new();
                let mut text = Err(format!("missing column `{}`", self.headers[self.column]));
                for (i, field) in self.record.iter().enumerate() {
                    let value = std::str::from_utf8(field).map(str::to_owned).map_err(|e| {
                        format!(
                            "invalid UTF-8 at byte {} of column {}",
                            e.valid_up_to(),
                            i + 1
                        )
                    });
                    if i == self.column {
                        text = value;
                    } else if let (Some(name), Ok(value)) = (self.headers.get(i), value) {
                        passthrough.insert(name.clone(), Value::String(value));
                    }
                }
                Some(Ok(Record {
                    line,
                    text,
                    passthrough,
                }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Some(Ok(Record {
                    line,
                    text: Err(format!("bad CSV: {e}")),
                    passthrough: Map::new(),
                }))
            }
        }
    }
}

/// What the readers promise on any input, checked by the fuzz target `records`
/// (`crates/safespace/fuzz`) and by a unit test on its saved inputs: reading never panics, JSONL gives
/// exactly one record (or error record) per non-blank line, numbered in order, and CSV records come in
/// line order.
#[cfg(any(test, fuzzing))]
pub fn check_readers(bytes: &[u8]) {
    let non_blank_lines: Vec<u64> = (1..)
        .zip(bytes.split(|&b| b == b'\n'))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(number, _)| number)
        .collect();
    let numbered: Vec<u64> = JsonlReader::new(bytes, "text")
        .map(|record| record.expect("reading a byte slice cannot fail").line)
        .collect();
    assert_eq!(
        numbered, non_blank_lines,
        "one JSONL record per non-blank line"
    );
    if let Ok(reader) = CsvReader::new(bytes, "text") {
        let mut last_line = 0;
        for record in reader {
            let line = record.expect("reading a byte slice cannot fail").line;
            assert!(line >= last_line, "CSV line {line} after line {last_line}");
            last_line = line;
        }
    }
}

fn trim_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn readers_keep_every_record_on_saved_fuzz_inputs_and_seeds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let saved = std::fs::read_dir(root.join("crates/safespace/fuzz/regressions/records"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path());
        let seeds = [
            "datasets/functional/suite.jsonl",
            "examples/posts.jsonl",
            "examples/ray/posts.csv",
        ]
        .map(|path| root.join(path));
        for path in saved.chain(seeds) {
            check_readers(&std::fs::read(&path).unwrap());
        }
        check_readers(b"text,id\n\"open quote\n{\"text\": 1}\r\n\n \t\n\xff\r\r\n");
    }

    #[test]
    fn jsonl_reports_each_problem_with_its_line() {
        let input = b"{\"id\":1,\"text\":\"hi\"}\n\n{\"id\":2}\nnot json\n{\"text\":\"\xff\"}\n[1]\n{\"text\":5}\n";
        let records: Vec<Record> = JsonlReader::new(&input[..], "text")
            .map(Result::unwrap)
            .collect();
        let summary: Vec<(u64, Result<String, String>)> =
            records.iter().map(|r| (r.line, r.text.clone())).collect();
        assert_eq!(summary[0], (1, Ok("hi".to_owned())));
        assert_eq!(records[0].passthrough["id"], 1);
        assert_eq!(summary[1], (3, Err("missing field `text`".to_owned())));
        assert!(summary[2].1.as_ref().unwrap_err().starts_with("bad JSON"));
        assert_eq!(summary[2].0, 4);
        assert_eq!(
            summary[3].1.as_ref().unwrap_err(),
            "invalid UTF-8 at byte 9"
        );
        assert_eq!(
            summary[4].1.as_ref().unwrap_err(),
            "expected a JSON object, found an array"
        );
        assert_eq!(
            summary[5].1.as_ref().unwrap_err(),
            "field `text` is a number, expected a string"
        );
    }

    #[test]
    fn csv_passes_other_columns_through() {
        let input = "id,body\n7,\"hello, world\"\n8,bye\n";
        let records: Vec<Record> = CsvReader::new(input.as_bytes(), "body")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].text.as_deref(), Ok("hello, world"));
        assert_eq!(records[0].passthrough["id"], "7");
        assert_eq!(records[1].line, 3);
    }

    #[test]
    fn csv_without_the_column_names_the_columns_it_has() {
        let err = CsvReader::new("id,body\n1,x\n".as_bytes(), "text")
            .err()
            .unwrap();
        assert!(err.to_string().contains("columns: id, body"), "{err}");
    }
}
