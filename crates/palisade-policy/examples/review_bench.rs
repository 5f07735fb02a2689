//! Benchmark (not a test): in-process review of a typical Deployment against every template
//! and sample constraint of the Gatekeeper library, p50/p99 over many reviews.
//!
//! `cargo run --release -p palisade-policy --example review_bench -- ../shared/conformance/gatekeeper-library [rego|cel]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_policy::suite::load_objects;
use palisade_policy::{EngineChoice, PolicySet, Review};
use serde_json::json;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/conformance/gatekeeper-library".to_owned()),
    );
    let engine = match args.next().as_deref() {
        Some("cel") => EngineChoice::Cel,
        Some("rego") => EngineChoice::Rego,
        _ => EngineChoice::Auto,
    };
    let mut files = Vec::new();
    yaml_files(&root.join("library"), &mut files);
    let mut objects = Vec::new();
    for f in files.iter().filter(|f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name == "template.yaml" || name.starts_with("constraint")
    }) {
        objects.extend(load_objects(f).unwrap_or_default());
    }
    let started = Instant::now();
    let (mut set, errors) = PolicySet::load(&objects);
    set.set_engine(engine);
    println!(
        "loaded {} templates and {} constraints in {:?} ({} could not be used)",
        set.templates().len(),
        set.constraints().len(),
        started.elapsed(),
        errors.len()
    );
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "web", "image": "nginx:1.27",
                    "ports": [{"containerPort": 8080}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                    "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true}}]}}}
    });
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
        "spec": deployment["spec"]["template"]["spec"].clone()
    });
    // The same reviews without any policy, in the same run: the cost the policies add.
    let (none, _) = PolicySet::load(&[]);
    for (name, object, set) in [
        ("Deployment, no policies", &deployment, &none),
        ("Deployment", &deployment, &set),
        ("Pod, no policies", &pod, &none),
        ("Pod", &pod, &set),
    ] {
        let review = Review::from_object(object);
        let mut times = Vec::new();
        let mut violations = 0;
        for i in 0..2000 {
            let t = Instant::now();
            let outcome = set.review(&review);
            let elapsed = t.elapsed();
            if i >= 200 {
                times.push(elapsed);
            }
            violations = outcome.violations.len();
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
        println!(
            "{name}: {violations} violations; p50 {:?}, p99 {:?}, max {:?} over {} reviews",
            at(0.5),
            at(0.99),
            times[times.len() - 1],
            times.len()
        );
    }
}
