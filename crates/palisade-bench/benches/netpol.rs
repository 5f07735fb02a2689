//! NetworkPolicy reachability: every allowed connection between 1,000 pods under 200
//! policies in 10 namespaces, and one single-connection decision.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_bench::cluster;
use palisade_core::{load_str, Limits};
use palisade_netpol::{connlist, eval, Input, ListOptions, Protocol};

fn netpol(c: &mut Criterion) {
    let text = cluster::netpol_stream(10, 1_000, 200, 1);
    let objects = load_str(&text, "cluster.yaml", &Limits::default()).objects;
    let input = Input::from_objects(&objects);
    let mut group = c.benchmark_group("netpol/1k-pods-200-policies");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("connlist", |b| {
        b.iter(|| {
            connlist(black_box(&input), &ListOptions::default())
                .connections
                .len()
        })
    });
    group.bench_function("eval-one", |b| {
        b.iter(|| {
            eval(
                black_box(&input),
                "ns0/pod0",
                "ns1/pod1",
                Protocol::Tcp,
                8000,
            )
            .expect("both pods exist")
            .allowed
        })
    });
    group.finish();
}

criterion_group!(benches, netpol);
criterion_main!(benches);
