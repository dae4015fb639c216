//! Latency percentiles of rules-only scoring, one post at a time on one thread (criterion reports
//! means and medians; tails need every sample). Run: `cargo bench -p safespace-benches --bench latency`.

use std::time::Instant;

use safespace::Detector;
use safespace_benches::posts;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let detector = Detector::default();
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "bytes", "p50 µs", "p90 µs", "p99 µs", "max µs", "MB/s/core"
    );
    for len in [80, 280, 2000] {
        let corpus = posts(256, len);
        for post in &corpus {
            detector.score(post); // warm up lazy regex caches
        }
        let rounds = 40;
        let mut samples = Vec::with_capacity(corpus.len() * rounds);
        let start = Instant::now();
        for _ in 0..rounds {
            for post in &corpus {
                let t = Instant::now();
                std::hint::black_box(detector.score(post));
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        let total = start.elapsed().as_secs_f64();
        let bytes: usize = corpus.iter().map(String::len).sum::<usize>() * rounds;
        samples.sort_by(f64::total_cmp);
        let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
        println!(
            "{len:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.1}",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            samples[samples.len() - 1],
            bytes as f64 / total / 1e6
        );
    }
}
