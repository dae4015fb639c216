//! The CLI's JSONL and CSV readers on arbitrary bytes: every non-blank JSONL line is one record (or one
//! error record), line numbers only grow, nothing panics. The checks live beside the readers
//! (`crates/safespace-cli/src/records.rs`, `check_readers`), where a unit test replays saved inputs.
#![no_main]

#[allow(dead_code)]
#[path = "../../../safespace-cli/src/records.rs"]
mod records;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    records::check_readers(bytes);
});
