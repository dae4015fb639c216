//! Splitting long token sequences into overlapping windows the model accepts.

/// Token ids of one window, without the special tokens the model wraps it in.
pub(crate) type Window = Vec<u32>;

/// Splits `tokens` into windows of at most `size` tokens that overlap by about a quarter. A window
/// ends after the last sentence-ending token (`.`, `!`, `?`) in its second half when there is one, so
/// sentences are rarely cut. A sequence that fits is one window; an empty one is one empty window.
pub(crate) fn windows(
    tokens: &[u32],
    size: usize,
    is_sentence_end: impl Fn(u32) -> bool,
) -> Vec<Window> {
    let size = size.max(4);
    if tokens.len() <= size {
        return vec![tokens.to_vec()];
    }
    let overlap = size / 4;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let hard_end = (start + size).min(tokens.len());
        if hard_end == tokens.len() {
            out.push(tokens[start..].to_vec());
            return out;
        }
        let end = (start + size / 2..hard_end)
            .rev()
            .find(|&i| is_sentence_end(tokens[i]))
            .map_or(hard_end, |i| i + 1);
        out.push(tokens[start..end].to_vec());
        start = end.saturating_sub(overlap).max(start + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sequences_are_one_window() {
        assert_eq!(windows(&[1, 2, 3], 8, |_| false), vec![vec![1, 2, 3]]);
        assert_eq!(windows(&[], 8, |_| false), vec![Vec::<u32>::new()]);
    }

    #[test]
    fn long_sequences_overlap_and_cover_everything() {
        let tokens: Vec<u32> = (0..100).collect();
        let ws = windows(&tokens, 16, |_| false);
        assert!(ws.iter().all(|w| w.len() <= 16));
        assert_eq!(ws[0][0], 0);
        assert_eq!(*ws.last().unwrap().last().unwrap(), 99);
        for pair in ws.windows(2) {
            assert!(pair[1][0] <= *pair[0].last().unwrap(), "windows overlap");
        }
    }

    #[test]
    fn windows_prefer_to_end_at_a_sentence_end() {
        let tokens: Vec<u32> = (0..40).collect();
        let ws = windows(&tokens, 16, |t| t == 12);
        assert_eq!(*ws[0].last().unwrap(), 12);
    }
}
