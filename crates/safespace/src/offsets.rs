//! Byte offsets in text: conversion to UTF-16 code-unit offsets (JavaScript string indices), and
//! cutting at a character boundary.

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn prefix(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Converts byte offsets (each on a char boundary of `text`) to UTF-16 offsets in one pass.
///
/// Offsets may come in any order; the result is in the same order as the input.
pub(crate) fn utf16_offsets(text: &str, offsets: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_unstable_by_key(|&i| offsets[i]);
    let mut result = vec![0; offsets.len()];
    let mut bytes = 0;
    let mut units = 0;
    let mut chars = text.chars();
    for i in order {
        let target = offsets[i].min(text.len());
        while bytes < target {
            let Some(ch) = chars.next() else { break };
            bytes += ch.len_utf8();
            units += ch.len_utf16();
        }
        result[i] = units;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_surrogate_pairs_as_two_units() {
        let text = "a😀bé";
        // byte offsets: a=0, 😀=1..5, b=5, é=6..8
        assert_eq!(utf16_offsets(text, &[8, 0, 5, 1, 6]), vec![5, 0, 3, 1, 4]);
    }
}
