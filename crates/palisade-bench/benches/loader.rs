//! Loader throughput (MB/s) against the raw parser it is built on, on the same bytes: the
//! largest corpus file and a synthetic 10k-object stream.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palisade_bench::{data, manifests, raw_parse_events};
use palisade_core::{load_str, Limits};

fn inputs() -> Vec<(String, String)> {
    let mut inputs = Vec::new();
    let largest = "argo-cd/manifests/ha/install.yaml";
    match data::corpus_dir().map(|dir| std::fs::read_to_string(dir.join(largest))) {
        Some(Ok(text)) => inputs.push(("argo-cd-ha-install".to_owned(), text)),
        _ => eprintln!("corpus not found: skipping {largest}"),
    }
    inputs.push(("synthetic-10k".to_owned(), manifests::stream(10_000, 1)));
    inputs
}

fn loader(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, text) in inputs() {
        let mut group = c.benchmark_group(format!("loader/{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(20);
        group.bench_function("raw-parser-events", |b| {
            b.iter(|| raw_parse_events(black_box(&text)))
        });
        group.bench_function("palisade-load", |b| {
            b.iter(|| load_str(black_box(&text), "bench.yaml", &limits))
        });
        group.finish();
    }
}

criterion_group!(benches, loader);
criterion_main!(benches);
