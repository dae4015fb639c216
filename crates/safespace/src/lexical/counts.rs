//! Counting n-gram occurrences per feature index without hashing or sorting.
//!
//! A dense table of one count per index, reused by every text a thread extracts from, with a
//! two-level bitmap of the indices in use: adding is one increment, and reading the counts back
//! in index order visits only the indices in use (and 64 summary words), clearing them as it goes.
//! A 280-character post has a few hundred distinct indices; this is several times faster than a
//! hash map followed by a sort. Memory: about 1 MiB per thread that extracts features.

use std::cell::RefCell;

use super::LexicalFeatures;

const N: usize = LexicalFeatures::N_FEATURES as usize;

pub(super) struct Counts {
    /// Occurrences per index; zero for every index not in use.
    counts: Vec<u32>,
    /// Bit `i % 64` of word `i / 64`: index `i` is in use.
    in_use: Vec<u64>,
    /// Bit `w % 64` of word `w / 64`: word `w` of `in_use` is not zero.
    summary: Vec<u64>,
    /// Set while counting: a table found dirty (a panic mid-count) is cleared before use.
    dirty: bool,
}

impl Counts {
    fn new() -> Self {
        Counts {
            counts: vec![0; N],
            in_use: vec![0; N / 64],
            summary: vec![0; N / 64 / 64],
            dirty: false,
        }
    }

    /// Runs `f` on this thread's table, empty, and leaves it empty.
    pub(super) fn with<T>(f: impl FnOnce(&mut Counts) -> T) -> T {
        thread_local! {
            static TABLE: RefCell<Option<Box<Counts>>> = const { RefCell::new(None) };
        }
        // Outside a live thread-local (a thread's destructors running) or if ever re-entered, a
        // fresh table serves.
        let mut f = Some(f);
        let reused = TABLE.try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let table = slot.get_or_insert_with(|| Box::new(Counts::new()));
            table.begin();
            let out = (f.take().expect("called once"))(table);
            table.dirty = false;
            Some(out)
        });
        match reused.ok().flatten() {
            Some(out) => out,
            None => (f.take().expect("not called yet"))(&mut Counts::new()),
        }
    }

    fn begin(&mut self) {
        if self.dirty {
            self.counts.fill(0);
            self.in_use.fill(0);
            self.summary.fill(0);
        }
        self.dirty = true;
    }

    /// Counts one occurrence of `index` (below [`LexicalFeatures::N_FEATURES`]).
    pub(super) fn add(&mut self, index: u32) {
        let i = index as usize;
        let count = &mut self.counts[i];
        if *count == 0 {
            self.in_use[i / 64] |= 1 << (i % 64);
            self.summary[i / 4096] |= 1 << (i / 64 % 64);
        }
        *count = count.saturating_add(1);
    }

    /// Calls `f(index, count)` for every index in use, ascending, and empties the table.
    pub(super) fn drain(&mut self, mut f: impl FnMut(u32, u32)) {
        for s in 0..self.summary.len() {
            let mut words = std::mem::take(&mut self.summary[s]);
            while words != 0 {
                let w = s * 64 + words.trailing_zeros() as usize;
                words &= words - 1;
                let mut bits = std::mem::take(&mut self.in_use[w]);
                while bits != 0 {
                    let i = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    // i < N = 2^18: fits a u32.
                    f(i as u32, std::mem::take(&mut self.counts[i]));
                }
            }
        }
    }
}
