//! Pod Security Admission over every upstream fixture (4,537 pods, each at the level and
//! version of its folder: `test/testdata/<level>/<version>/<outcome>/<name>.yaml`).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palisade_bench::data;
use palisade_core::{load_path, Limits, Object};
use palisade_pss::{evaluate, Level, Version};

fn fixtures(root: &Path) -> Vec<(Object, Level, Version)> {
    let limits = Limits::default();
    let testdata = root.join("test/testdata");
    let mut cases = Vec::new();
    for path in data::manifest_files(&testdata) {
        let Ok(relative) = path.strip_prefix(&testdata) else {
            continue;
        };
        let parts: Vec<_> = relative.iter().filter_map(|p| p.to_str()).collect();
        let (Some(level), Some(version)) = (
            parts.first().and_then(|l| l.parse::<Level>().ok()),
            parts.get(1).and_then(|v| v.parse::<Version>().ok()),
        ) else {
            continue;
        };
        let display = path.to_string_lossy().into_owned();
        for object in load_path(&path, &display, &limits).objects {
            cases.push((object, level, version));
        }
    }
    cases
}

fn pss(c: &mut Criterion) {
    let Some(root) = data::pss_dir() else {
        eprintln!("Pod Security fixtures not found: skipping");
        return;
    };
    let cases = fixtures(&root);
    let mut group = c.benchmark_group("pss/fixtures");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.sample_size(20);
    group.bench_function("evaluate-all", |b| {
        b.iter(|| {
            cases
                .iter()
                .filter_map(|(o, level, version)| evaluate(black_box(&o.value), *level, *version))
                .filter(|e| e.allowed)
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, pss);
criterion_main!(benches);
