//! The normalizer's decomposition table (`$OUT_DIR/decompositions.rs`).
//!
//! The normalizer decomposes characters of a few blocks (Latin, Greek and Cyrillic with accents, and
//! the fullwidth, styled and enclosed letter blocks) into their compatibility decomposition without
//! combining marks: `é` → `e`, `𝐤` → `k`, `ﬁ` → `fi`, `⑴` → `(1)`. Computing that table here, with
//! `unicode-normalization`, keeps that crate's full decomposition tables out of the library: only the
//! ~2,600 entries the normalizer can use are compiled in (35 KB less gzipped WebAssembly).

use std::fmt::Write as _;
use std::path::Path;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// The blocks whose characters are decomposed; characters of other scripts are kept as written.
const BLOCKS: [(char, char); 7] = [
    ('\u{00A0}', '\u{052F}'),
    ('\u{1D00}', '\u{1EFF}'),
    ('\u{2070}', '\u{24FF}'),
    ('\u{FB00}', '\u{FB06}'),
    ('\u{FF00}', '\u{FFEF}'),
    ('\u{1D400}', '\u{1D7FF}'),
    ('\u{1F100}', '\u{1F1FF}'),
];

/// Writes `decompositions.rs` into `out`.
pub fn write(out: &Path) {
    let mut chars = String::new();
    let mut ends = String::new();
    let mut text = String::new();
    let mut count = 0;
    for ch in BLOCKS.iter().flat_map(|&(first, last)| first..=last) {
        let mut parts = String::new();
        decompose_compatible(ch, |part| {
            if !is_combining_mark(part) {
                parts.push(part);
            }
        });
        if parts != ch.to_string() {
            text.push_str(&parts);
            let end = u16::try_from(text.len()).expect("decomposition text fits u16 offsets");
            write!(chars, "'\\u{{{:X}}}',", u32::from(ch)).unwrap();
            write!(ends, "{end},").unwrap();
            count += 1;
        }
    }
    let blocks: Vec<String> = BLOCKS
        .iter()
        .map(|(a, b)| {
            format!(
                "('\\u{{{:X}}}', '\\u{{{:X}}}')",
                u32::from(*a),
                u32::from(*b)
            )
        })
        .collect();
    let source = format!(
        "/// The blocks the table covers.\n\
         #[cfg(test)]\n\
         const DECOMPOSED_BLOCKS: [(char, char); {}] = [{}];\n\
         /// Characters with a decomposition, sorted.\n\
         const DECOMPOSED_CHARS: [char; {count}] = [{chars}];\n\
         /// Where each character's decomposition ends in `DECOMPOSED_TEXT`.\n\
         const DECOMPOSED_ENDS: [u16; {count}] = [{ends}];\n\
         /// The decompositions, one after another.\n\
         const DECOMPOSED_TEXT: &str = {text:?};\n",
        blocks.len(),
        blocks.join(", "),
    );
    std::fs::write(out.join("decompositions.rs"), source).expect("OUT_DIR is writable");
}
