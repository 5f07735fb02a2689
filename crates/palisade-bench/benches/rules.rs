//! Rule evaluation with every default rule on: per object over the real corpus (or a
//! synthetic stream when the corpus is absent), and the whole-input (inventory) rules.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palisade_bench::{data, manifests};
use palisade_core::{load_path, load_str, Limits, Object};
use palisade_rules::Engine;

fn objects() -> (String, Vec<Object>) {
    let limits = Limits::default();
    if let Some(dir) = data::corpus_dir() {
        let objects = data::manifest_files(&dir)
            .iter()
            .flat_map(|path| load_path(path, &path.to_string_lossy(), &limits).objects)
            .collect();
        return ("corpus".to_owned(), objects);
    }
    eprintln!("corpus not found: rules run on a synthetic stream");
    let text = manifests::stream(4_000, 1);
    let objects = load_str(&text, "synthetic.yaml", &limits).objects;
    ("synthetic-4k".to_owned(), objects)
}

fn rules(c: &mut Criterion) {
    let engine = Engine::default();
    let (name, objects) = objects();
    let mut group = c.benchmark_group(format!("rules/{name}"));
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.sample_size(20);
    group.bench_function("check-object-each", |b| {
        b.iter(|| {
            objects
                .iter()
                .map(|o| engine.check_object(black_box(o)).len())
                .sum::<usize>()
        })
    });
    group.bench_function("check-inventory", |b| {
        b.iter(|| engine.check_inventory(black_box(&objects)).len())
    });
    group.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
