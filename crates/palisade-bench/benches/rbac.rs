//! RBAC queries on a synthetic cluster of 10,000 bindings in 100 namespaces: who can read
//! secrets in one namespace, who can exec into pods anywhere, and building the policy.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_bench::cluster;
use palisade_core::{load_str, Limits};
use palisade_rbac::{Attributes, Policy};

fn rbac(c: &mut Criterion) {
    let text = cluster::rbac_stream(100, 10_000, 1);
    let objects = load_str(&text, "rbac.yaml", &Limits::default()).objects;
    let policy = Policy::from_objects(objects.iter().enumerate());
    let secrets = Attributes::resource("get", "", "secrets").in_namespace("ns7");
    let exec = Attributes::resource("create", "", "pods/exec");
    let mut group = c.benchmark_group("rbac/10k-bindings");
    group.sample_size(20);
    group.bench_function("who-can-get-secrets-in-namespace", |b| {
        b.iter(|| policy.who_can(black_box(&secrets)).len())
    });
    group.bench_function("who-can-exec-anywhere", |b| {
        b.iter(|| policy.who_can_anywhere(black_box(&exec)).len())
    });
    group.bench_function("build-policy", |b| {
        b.iter(|| Policy::from_objects(black_box(&objects).iter().enumerate()))
    });
    group.finish();
}

criterion_group!(benches, rbac);
criterion_main!(benches);
