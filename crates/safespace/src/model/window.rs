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

/// Padded tokens one batch may hold. Short windows run many to a batch, which uses the CPU better
/// than one small matrix product each; long ones run a few at a time.
const BATCH_TOKENS: usize = 512;

/// Groups windows (given by their lengths) into batches of similar length, for `parallel` threads
/// and a backend that takes at most `limit` windows per run. Windows are taken shortest first; one
/// joins the current batch while the batch padded to it holds at most [`BATCH_TOKENS`] tokens, at
/// most twice its real tokens (padding is computed too), and at most `len / parallel` windows (so
/// that there are at least `parallel` batches when there are that many windows) and `limit`.
/// Returns window indices per batch; every index appears once.
pub(crate) fn batches(lengths: &[usize], parallel: usize, limit: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let most = (lengths.len() / parallel.max(1)).clamp(1, limit.max(1));
    let mut out: Vec<(Vec<usize>, usize)> = Vec::new(); // a batch and its real tokens
    for i in order {
        let length = lengths[i];
        match out.last_mut() {
            // Sorted by length, so the window joining a batch is its longest.
            Some((batch, real))
                if batch.len() < most
                    && (batch.len() + 1) * length <= BATCH_TOKENS.min(2 * (*real + length)) =>
            {
                batch.push(i);
                *real += length;
            }
            _ => out.push((vec![i], length)),
        }
    }
    out.into_iter().map(|(batch, _)| batch).collect()
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

    #[test]
    fn batches_group_similar_lengths_within_the_token_budget() {
        let lengths = [20, 120, 18, 22, 125, 19, 21, 600, 2, 2];
        let batches = batches(&lengths, 1, usize::MAX);
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..lengths.len()).collect::<Vec<_>>(),
            "every window once"
        );
        for batch in &batches {
            let longest = batch.iter().map(|&i| lengths[i]).max().unwrap();
            let real: usize = batch.iter().map(|&i| lengths[i]).sum();
            let padded = batch.len() * longest;
            assert!(
                batch.len() == 1 || padded <= BATCH_TOKENS.min(2 * real),
                "{batch:?}"
            );
        }
        assert_eq!(batches[0], vec![8, 9], "the shortest run together");
        assert_eq!(
            batches[1],
            vec![2, 5, 0, 6, 3],
            "then the next similar ones"
        );
        assert_eq!(
            batches.last().unwrap(),
            &vec![7],
            "an over-long window runs alone"
        );
    }

    #[test]
    fn batches_leave_work_for_every_thread() {
        for (windows, parallel) in [(8, 2), (5, 4), (3, 4), (9, 2), (1, 8)] {
            let count = batches(&vec![10; windows], parallel, usize::MAX).len();
            assert!(
                count >= parallel.min(windows),
                "{windows} windows, {parallel} threads"
            );
        }
        assert_eq!(
            batches(&[10; 5], 2, 1).len(),
            5,
            "one window each: what tract takes"
        );
        assert!(batches(&[], 2, usize::MAX).is_empty());
    }
}
