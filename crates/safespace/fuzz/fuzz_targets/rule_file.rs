//! User rule files (TOML) on arbitrary UTF-8.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|contents: &str| checks::rule_file(contents));
