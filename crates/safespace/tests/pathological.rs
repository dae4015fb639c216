//! Scoring time grows linearly with the input, even on inputs built to make it grow faster:
//! `requires` rules with no supporting evidence, dense, negated and quoted evidence, text without
//! sentence breaks, the normalizer's tricks, and each rule's and context's trigger from the functional
//! suite, each repeated to fill the text.
//!
//! Each family is scored at n and 4n bytes: each doubling of the input may multiply the time by at
//! most [`MAX_RATIO`] (a step quadratic in the input shows a ratio near 4). Two doublings, rather than
//! one, keep noise from crossing the line between linear and quadratic. Work bounded per sentence grows
//! linearly however slow it is, so each family is also held to [`MAX_SLOWDOWN`] times the time of
//! ordinary text of the same size (the functional suite's sentences). Both are ratios of times on the
//! same machine, so the test holds on any; times are the thread's CPU time where the system gives it
//! (Linux), so that other work on a shared machine stays out of them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use safespace::Detector;
use serde::Deserialize;

/// How much doubling the input may multiply the scoring time.
const MAX_RATIO: f64 = 2.5;
/// How many times slower than ordinary text of the same size a family may score.
const MAX_SLOWDOWN: f64 = 10.0;
/// Bytes of the smaller text of the rule engine's families: enough for a quadratic step to dominate
/// the larger one.
const ENGINE_BYTES: usize = 16_000;
/// Bytes of the smaller text of the other families (the normalizer's also run at 10 MB in
/// `behaviour.rs`).
const SWEEP_BYTES: usize = 2_000;
/// How many times larger the larger text of each family is: two doublings.
const GROWTH: usize = 4;
/// Timings of each text at most, the fastest counting (which keeps other work on the machine out of
/// the ratios); a family is timed again only while over the limits.
const ATTEMPTS: usize = 6;

/// Inputs written against the rule engine's slow paths, each repeated to fill the text.
const ENGINE_FAMILIES: &[(&str, &str)] = &[
    ("requirement (text) without support", "i have the pills. "),
    (
        "requirement (sentence) without support",
        "i have the pills tonight. ",
    ),
    (
        "negated evidence",
        "i am not going to kill myself, not suicidal. ",
    ),
    ("quoted evidence", "\"kys\" he said. "),
    ("evidence and contexts in long sentences", "not kys "),
    ("no sentence breaks", "not.kys."),
];

/// The normalizer's tricks, each repeated to fill the text.
const NORMALIZER_FAMILIES: &[(&str, &str)] = &[
    ("spaced letters", "k y s "),
    ("censoring stars", "k*ll y*urs*lf "),
    ("ambiguous digits", "1111111 4444 7070 "),
    ("leetspeak", "1 w4n7 70 d13 "),
    ("dotted letters", "s.u.i.c.i.d.e."),
    ("repeated letters", "diiiiiiiiie "),
    ("zero-width characters", "ki\u{200b}ll my\u{200b}self "),
    ("curly quotes", "\u{201c}kys\u{201d} "),
    ("fullwidth letters", "\u{ff4b}\u{ff59}\u{ff53} "),
];

#[derive(Deserialize)]
struct Case {
    text: String,
}

fn functional_suite() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/functional/suite.jsonl"
    );
    let suite = std::fs::read_to_string(path).expect("functional suite is readable");
    suite
        .lines()
        .map(|line| {
            serde_json::from_str::<Case>(line)
                .expect("valid suite line")
                .text
        })
        .collect()
}

/// For each rule and context whose evidence the suite shows, the shortest sentence showing it; by
/// sentence, the ids it stands for.
fn triggers(detector: &Detector, suite: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut shortest: BTreeMap<String, &String> = BTreeMap::new();
    for text in suite {
        for evidence in detector.score(text).evidence {
            for id in std::iter::once(evidence.rule).chain(evidence.context) {
                let entry = shortest.entry(id).or_insert(text);
                if text.len() < entry.len() {
                    *entry = text;
                }
            }
        }
    }
    let mut by_sentence: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, text) in shortest {
        by_sentence.entry(text.clone()).or_default().push(id);
    }
    by_sentence
}

/// `unit` repeated to `bytes` bytes (cut at a character boundary).
fn repeated(unit: &str, bytes: usize) -> String {
    let mut text = unit.repeat(bytes / unit.len() + 1);
    let cut = (0..=bytes).rev().find(|&i| text.is_char_boundary(i));
    text.truncate(cut.unwrap_or(0));
    text
}

/// CPU time of the calling thread, which leaves out the time other work on a shared machine takes
/// from it.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        seconds: 0,
        nanoseconds: 0,
    };
    // SAFETY: `clock_gettime` writes one `struct timespec` (two 64-bit fields on 64-bit Linux) to
    // the pointer, which points at one.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    let nanoseconds = u32::try_from(time.nanoseconds).ok()?;
    (status == 0).then(|| Duration::new(time.seconds.unsigned_abs(), nanoseconds))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// How long scoring `text` takes: in CPU time where the system gives it, else in wall time.
fn scoring_time(detector: &Detector, text: &str) -> Duration {
    let (cpu, wall) = (thread_cpu_time(), Instant::now());
    std::hint::black_box(detector.score(text));
    match (cpu, thread_cpu_time()) {
        (Some(start), Some(end)) => end.saturating_sub(start),
        _ => wall.elapsed(),
    }
}

/// Scores each of `texts` once more, lowering its entry of `best` (seconds) to the time if faster.
fn time_again(detector: &Detector, texts: &[&str], best: &mut [f64]) {
    for (best, text) in best.iter_mut().zip(texts) {
        *best = best.min(scoring_time(detector, text).as_secs_f64());
    }
}

/// Seconds of the fastest of [`ATTEMPTS`] scorings of `text`.
fn fastest(detector: &Detector, text: &str) -> f64 {
    let mut best = [f64::INFINITY];
    for _ in 0..ATTEMPTS {
        time_again(detector, &[text], &mut best);
    }
    best[0]
}

/// How much slower `unit` repeated to [`GROWTH`] × `bytes` scores than ordinary text of that size
/// (`ordinary` seconds), and how much slower per doubling than `unit` repeated to `bytes`. Measured
/// again, keeping the fastest times, up to [`ATTEMPTS`] times while over the limits.
fn measure(detector: &Detector, unit: &str, bytes: usize, ordinary: f64) -> (f64, f64) {
    let (small, large) = (repeated(unit, bytes), repeated(unit, GROWTH * bytes));
    let doublings = (GROWTH as f64).log2();
    let mut best = [f64::INFINITY; 2];
    let mut measured = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ATTEMPTS {
        time_again(detector, &[&small, &large], &mut best);
        measured = (
            best[1] / ordinary,
            (best[1] / best[0]).powf(1.0 / doublings),
        );
        if within(measured) {
            break;
        }
    }
    measured
}

fn within((slowdown, ratio): (f64, f64)) -> bool {
    slowdown <= MAX_SLOWDOWN && ratio <= MAX_RATIO
}

#[test]
fn doubling_the_input_at_most_doubles_the_scoring_time() {
    let detector = Detector::builder().rules_only(true).build().unwrap();
    let suite = functional_suite();
    let triggers = triggers(&detector, &suite);
    let ids: usize = triggers.values().map(Vec::len).sum();
    assert!(ids >= 40, "the suite shows most rules and contexts");
    let prose = suite.join(". ");
    let ordinary = |bytes| fastest(&detector, &repeated(&prose, GROWTH * bytes));
    let (engine_ordinary, sweep_ordinary) = (ordinary(ENGINE_BYTES), ordinary(SWEEP_BYTES));
    let written = |families: &'static [(&str, &str)]| {
        families
            .iter()
            .map(|&(name, unit)| (name.to_owned(), unit.to_owned()))
    };
    let engine =
        written(ENGINE_FAMILIES).map(|(name, unit)| (name, unit, ENGINE_BYTES, engine_ordinary));
    let sweep = written(NORMALIZER_FAMILIES)
        .chain(
            triggers
                .into_iter()
                .map(|(sentence, ids)| (ids.join(", "), format!("{sentence} "))),
        )
        .map(|(name, unit)| (name, unit, SWEEP_BYTES, sweep_ordinary));
    let mut failures = Vec::new();
    for (name, unit, bytes, ordinary) in engine.chain(sweep) {
        let (slowdown, ratio) = measure(&detector, &unit, bytes, ordinary);
        let line =
            format!("{name} ({unit:?}): x{ratio:.2} per doubling, {slowdown:.1} x ordinary text");
        println!("{line}");
        if !within((slowdown, ratio)) {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "over x{MAX_RATIO} per doubling or {MAX_SLOWDOWN} x ordinary text: {failures:#?}"
    );
}
