//! Criterion benchmarks of the fast engine (rules + lexical tier): normalization throughput, per-post scoring latency
//! at 80 / 280 / 2,000 bytes, and batch throughput on 1 and 2 threads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use safespace::{Detector, Engine, Normalizer};
use safespace_benches::posts;

fn normalization(c: &mut Criterion) {
    let normalizer = Normalizer::default();
    let corpus = posts(200, 280);
    let bytes: usize = corpus.iter().map(String::len).sum();
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("200 posts x 280 B", |b| {
        b.iter(|| {
            for post in &corpus {
                std::hint::black_box(normalizer.normalize(post));
            }
        })
    });
    group.finish();
}

fn score_one(c: &mut Criterion) {
    let detector = Detector::builder().engine(Engine::Fast).build().unwrap();
    let mut group = c.benchmark_group("score");
    for len in [80, 280, 2000] {
        let corpus = posts(64, len);
        let bytes: usize = corpus.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64 / corpus.len() as u64));
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("one post", len), &corpus, |b, corpus| {
            b.iter(|| {
                i = (i + 1) % corpus.len();
                std::hint::black_box(detector.score(&corpus[i]))
            })
        });
    }
    group.finish();
}

fn score_batch(c: &mut Criterion) {
    let detector = Detector::builder().engine(Engine::Fast).build().unwrap();
    let corpus = posts(1024, 280);
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(corpus.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("1024 posts x 280 B, threads", threads),
            &threads,
            |b, _| b.iter(|| pool.install(|| std::hint::black_box(detector.score_batch(&corpus)))),
        );
    }
    group.finish();
}

criterion_group!(benches, normalization, score_one, score_batch);
criterion_main!(benches);
