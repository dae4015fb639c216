//! Latency percentiles and throughput, the fast engine and the full one, on this machine. Criterion
//! reports means and medians; tails need every sample. Run:
//!
//! ```text
//! cargo bench -p safespace-benches --bench latency            # both engines
//! cargo bench -p safespace-benches --bench latency -- --fast  # the fast engine only
//! cargo bench -p safespace-benches --bench latency -- --dump 280  # the 280-byte corpus as JSONL
//! cargo bench -p safespace-benches --bench latency -- --dump 280 everyday  # ... of everyday posts
//! cargo bench -p safespace-benches --bench latency -- --memory 2   # memory of the full engine, 2 threads
//! cargo bench -p safespace-benches --bench latency -- --memory 2 1 # ... sharing 1 ONNX Runtime session
//! cargo bench -p safespace-benches --bench latency -- --memory 2 --int8 # ... on the int8 graph
//! cargo bench -p safespace-benches --bench latency -- --batch-memory 40000 # one big fast batch
//! ```
//!
//! The full engine is measured with both of the model's arithmetics (`ModelArithmetic`).
//!
//! `--memory` and `--batch-memory` want a fresh process: the resident and peak memory they print
//! are the process's.

use std::time::Instant;

use safespace::{Detector, Engine, ModelArithmetic};
use safespace_benches::{everyday_posts, posts};

const LENGTHS: [usize; 3] = [80, 280, 2000];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        let len = args.get(i + 1).and_then(|l| l.parse().ok()).unwrap_or(280);
        // `cargo bench` adds `--bench` after the arguments given to it.
        let kind = args.get(i + 2).filter(|a| !a.starts_with('-'));
        let corpus = match kind.map(String::as_str) {
            None => posts(256, len),
            Some("everyday") => everyday_posts(256, len),
            Some(other) => {
                eprintln!(
                    "unknown corpus `{other}` (expected `everyday`, or nothing for risk-dense)"
                );
                std::process::exit(2);
            }
        };
        for post in corpus {
            println!("{}", serde_json::json!({ "text": post }));
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--memory") {
        let threads = args.get(i + 1).and_then(|t| t.parse().ok()).unwrap_or(1);
        let sessions = args.get(i + 2).and_then(|s| s.parse().ok());
        let arithmetic = match args.iter().any(|a| a == "--int8") {
            true => ModelArithmetic::Int8,
            false => ModelArithmetic::Fp32,
        };
        return memory(threads, sessions, arithmetic);
    }
    if let Some(i) = args.iter().position(|a| a == "--batch-memory") {
        let count = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(40_000);
        return batch_memory(count);
    }
    let fast = Detector::builder().engine(Engine::Fast).build().unwrap();
    println!(
        "fast engine (rules + lexical tier), one post at a time, 1 thread (risk-dense corpus)"
    );
    latency_table(&fast, 40, posts);
    println!("\nfast engine, everyday posts that match no rule");
    latency_table(&fast, 40, everyday_posts);
    if args.iter().any(|a| a == "--fast") {
        return;
    }
    for arithmetic in ModelArithmetic::ALL {
        full_engine(arithmetic);
    }
    println!(
        "\npeak RSS of this process (both graphs, several session layouts; see --memory): {} MB",
        memory_kb("VmHWM:") / 1024
    );
}

/// Prints the full engine's latency at batch 1 on one thread and its throughput in batches of 32 on
/// one and two threads, with the model's `arithmetic`.
fn full_engine(arithmetic: ModelArithmetic) {
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let full_with = |sessions| {
        Detector::builder()
            .engine(Engine::Full)
            .model_arithmetic(arithmetic)
            .model_sessions(sessions)
            .require_model(true)
            .build()
    };
    let model = one_thread.install(|| full_with(1));
    let Ok(model) = model else {
        println!("model, {arithmetic}: not measured ({})", model.unwrap_err());
        return;
    };
    println!("\nfull engine (rules + lexical + model), {arithmetic} arithmetic, batch 1, 1 thread");
    one_thread.install(|| latency_table(&model, 2, posts));
    println!("\nfull engine, {arithmetic} arithmetic, score_batch of 32 posts");
    println!("{:>6} {:>8} {:>12}", "bytes", "threads", "posts/s");
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        // One session per thread, asked for: the default layout would share the one-thread
        // detector's model, loaded above with one session.
        let detector = pool.install(|| full_with(threads).unwrap());
        for len in LENGTHS {
            let corpus = posts(256, len);
            let start = Instant::now();
            pool.install(|| {
                for batch in corpus.chunks(32) {
                    std::hint::black_box(detector.score_batch(batch));
                }
            });
            let rate = corpus.len() as f64 / start.elapsed().as_secs_f64();
            println!("{len:>6} {threads:>8} {rate:>12.1}");
        }
    }
}

/// Prints the resident and peak memory of the full engine in a pool of `threads` threads with
/// `sessions` ONNX Runtime sessions (`None`: the default) and the model's `arithmetic`, after scoring
/// one sentence, then after 512 posts of 280 bytes in batches of 32, and the posts/s of those.
fn memory(threads: usize, sessions: Option<usize>, arithmetic: ModelArithmetic) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let layout = match sessions {
        Some(s) => format!("{arithmetic}, {threads} thread(s), {s} session(s)"),
        None => format!("{arithmetic}, {threads} thread(s), default sessions"),
    };
    let print = |when: &str| {
        println!(
            "{layout}, {when}: RSS {} MB, peak {} MB",
            memory_kb("VmRSS:") / 1024,
            memory_kb("VmHWM:") / 1024
        )
    };
    pool.install(|| {
        let builder = Detector::builder()
            .engine(Engine::Full)
            .model_arithmetic(arithmetic)
            .require_model(true);
        let builder = match sessions {
            Some(s) => builder.model_sessions(s),
            None => builder,
        };
        let detector = builder.build().unwrap();
        detector.score("Thanks for asking, the new job is going well so far.");
        print("after one sentence");
        let corpus = posts(512, 280);
        let start = Instant::now();
        for batch in corpus.chunks(32) {
            std::hint::black_box(detector.score_batch(batch));
        }
        let rate = corpus.len() as f64 / start.elapsed().as_secs_f64();
        print(&format!("after 512 posts of 280 bytes ({rate:.1} posts/s)"));
    });
}

/// Prints the peak memory and posts/s of one `score_batch` call of the fast engine on `count`
/// risk-dense posts of 1,120 bytes, beside the memory the posts themselves take: what a batch holds
/// while it is scored.
fn batch_memory(count: usize) {
    let corpus = posts(count, 1120);
    let detector = Detector::builder().engine(Engine::Fast).build().unwrap();
    detector.score("warm up");
    let before = memory_kb("VmHWM:") / 1024;
    let start = Instant::now();
    let reports = detector.score_batch(&corpus);
    let rate = count as f64 / start.elapsed().as_secs_f64();
    println!(
        "fast engine, one score_batch of {} posts of 1,120 bytes ({} MB of text): peak {before} MB \
         before, {} MB after ({rate:.0} posts/s)",
        reports.len(),
        corpus.iter().map(String::len).sum::<usize>() >> 20,
        memory_kb("VmHWM:") / 1024
    );
}

fn latency_table(detector: &Detector, rounds: usize, corpus: impl Fn(usize, usize) -> Vec<String>) {
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "bytes", "p50 µs", "p90 µs", "p99 µs", "max µs", "MB/s"
    );
    for len in LENGTHS {
        let corpus = corpus(256, len);
        for post in &corpus[..32] {
            detector.score(post); // warm up
        }
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
            "{len:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.2}",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            samples[samples.len() - 1],
            bytes as f64 / total / 1e6
        );
    }
}

/// A memory figure of this process from `/proc/self/status` (Linux), in kB: `VmRSS:` the resident
/// set now, `VmHWM:` its peak.
fn memory_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
