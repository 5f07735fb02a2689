//! Audit-event throughput (`cargo bench -p palisade-bench --bench audit`; not a timed test).
//!
//! Generates a log of `AUDIT_BENCH_EVENTS` events (default 1,000,000; a realistic mix: reads,
//! writes that carry their object, exec sessions, 401/403 failures; 0.5–3 KB each), then runs
//! each phase in a process of its own so that each reports its own peak memory:
//!
//! - `serde-1t`: a plain `serde_json` parse of every line into a `Value`, one thread;
//! - `serde`: the same on every core (rayon over batches of 4,096 lines): the reference;
//! - `typed`: a typed, borrowed parse of every line (`&str` fields, `&RawValue` for the
//!   objects), every core: what a parse that builds no tree costs;
//! - `reader`: palisade's reader alone (`read_batches`: every core);
//! - `falco`: the reader and the upstream Falco k8saudit rules file (from `../shared`);
//! - `builtin`: the reader, palisade's event rules and the per-object rules on request objects;
//! - `palisade`: all of it, as `palisade audit --rules k8s_audit_rules.yaml -f json` runs (the
//!   alerts rendered as JSON lines, then dropped).
//!
//! Prints one JSON line per phase: events, seconds, events per second, alerts, peak RSS (MB).
//! `AUDIT_BENCH_PHASES` (comma-separated) runs only some phases.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use palisade_audit::{read_batches, Item, RulesLoader, Ruleset};
use palisade_bench::rng::Rng;
use palisade_rules::rules::event::{AuditPipeline, EventRunner};
use palisade_rules::Engine;
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::{json, Value};

const USERS: &[&str] = &[
    "alice",
    "bob",
    "ci-deployer",
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:shop:api",
    "system:node:worker-1",
    "system:kube-scheduler",
];
const NAMESPACES: &[&str] = &["shop", "payments", "default", "kube-system", "monitoring"];
const READ_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "configmaps",
    "endpoints",
    "nodes",
    "leases",
];

fn base(
    rng: &mut Rng,
    i: usize,
    stage: &str,
    verb: &str,
    code: u64,
) -> serde_json::Map<String, Value> {
    let user = *rng.pick(USERS);
    let ts = format!(
        "2024-05-01T{:02}:{:02}:{:02}.{:06}Z",
        (i / 3_600_000) % 24,
        (i / 60_000) % 60,
        (i / 1000) % 60,
        (i % 1000) * 1000
    );
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), json!("Event"));
    m.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
    m.insert("level".into(), json!("RequestResponse"));
    m.insert(
        "auditID".into(),
        json!(format!(
            "{:08x}-1c2d-4e5f-8a9b-{:012x}",
            i,
            rng.next_u64() & 0xffff_ffff_ffff
        )),
    );
    m.insert("stage".into(), json!(stage));
    m.insert("verb".into(), json!(verb));
    m.insert(
        "user".into(),
        json!({"username": user, "uid": "5c1b3c9e-8f0e-4a8b-9d52-1f2e3d4c5b6a",
               "groups": ["system:authenticated", "developers"],
               "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=6e1f0a3b"]}}),
    );
    m.insert(
        "sourceIPs".into(),
        json!([format!("10.0.{}.{}", rng.below(4), rng.below(250))]),
    );
    m.insert(
        "userAgent".into(),
        json!("kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"),
    );
    m.insert(
        "responseStatus".into(),
        json!({"metadata": {}, "code": code}),
    );
    m.insert("requestReceivedTimestamp".into(), json!(ts));
    m.insert("stageTimestamp".into(), json!(ts));
    m.insert(
        "annotations".into(),
        json!({"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" },
               "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"developers\" of ClusterRole \"edit\" to Group \"developers\""}),
    );
    m
}

fn pod(rng: &mut Rng, name: &str, ns: &str) -> Value {
    let privileged = rng.chance(5);
    let containers: Vec<Value> = (0..1 + rng.below(3))
        .map(|c| {
            json!({"name": format!("c{c}"), "image": format!("registry.example.com/team/app-{c}:1.{}.0", rng.below(20)),
                   "ports": [{"containerPort": 8080 + c, "protocol": "TCP"}],
                   "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}],
                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                   "securityContext": {"privileged": privileged, "runAsNonRoot": true, "allowPrivilegeEscalation": false,
                                       "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": {"app": "shop", "tier": "backend"}},
           "spec": {"serviceAccountName": "api", "automountServiceAccountToken": false,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": containers}})
}

fn event(rng: &mut Rng, i: usize) -> Value {
    let ns = *rng.pick(NAMESPACES);
    let roll = rng.below(100);
    let mut m;
    let mut object_ref = serde_json::Map::new();
    object_ref.insert("namespace".into(), json!(ns));
    object_ref.insert("apiVersion".into(), json!("v1"));
    if roll < 60 {
        let resource = *rng.pick(READ_RESOURCES);
        let verb = if rng.chance(50) { "get" } else { "list" };
        m = base(rng, i, "ResponseComplete", verb, 200);
        object_ref.insert("resource".into(), json!(resource));
        if verb == "get" {
            object_ref.insert(
                "name".into(),
                json!(format!("{resource}-{}", rng.below(500))),
            );
        }
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/{resource}")),
        );
    } else if roll < 80 {
        let name = format!("web-{}", rng.below(10_000));
        m = base(rng, i, "ResponseComplete", "create", 201);
        object_ref.insert("resource".into(), json!("pods"));
        object_ref.insert("name".into(), json!(name));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/pods")),
        );
        let object = pod(rng, &name, ns);
        m.insert("responseObject".into(), json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns, "uid": "0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "resourceVersion": "123456"}}));
        m.insert("requestObject".into(), object);
    } else if roll < 85 {
        m = base(rng, i, "ResponseStarted", "create", 101);
        object_ref.insert("resource".into(), json!("pods"));
        object_ref.insert("subresource".into(), json!("exec"));
        object_ref.insert("name".into(), json!(format!("web-{}", rng.below(100))));
        m.insert(
            "requestURI".into(),
            json!(format!(
                "/api/v1/namespaces/{ns}/pods/web/exec?command=sh&container=c0&stdin=true&tty=true"
            )),
        );
    } else if roll < 95 {
        let code = if rng.chance(50) { 401 } else { 403 };
        m = base(rng, i, "ResponseComplete", "list", code);
        object_ref.insert("resource".into(), json!("secrets"));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/secrets")),
        );
    } else {
        m = base(rng, i, "ResponseComplete", "get", 200);
        object_ref.insert("resource".into(), json!("secrets"));
        object_ref.insert("name".into(), json!("db-credentials"));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/secrets/db-credentials")),
        );
    }
    m.insert("objectRef".into(), Value::Object(object_ref));
    Value::Object(m)
}

fn generate(path: &Path, events: usize) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut rng = Rng::new(18);
    for i in 0..events {
        serde_json::to_writer(&mut out, &event(&mut rng, i))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn falco_rules() -> Option<Ruleset> {
    let dir = palisade_testdata::shared("conformance/falco-k8saudit", "audit bench")?;
    let path = dir.join("plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml");
    let mut loader = RulesLoader::new();
    loader.load_path(&path, "k8s_audit_rules.yaml").ok()?;
    loader.compile().ok()
}

/// Batches of raw lines, as `read_batches` makes them, for the reference parses.
fn line_batches(log: &Path, mut each: impl FnMut(Vec<Vec<u8>>)) {
    let reader = BufReader::with_capacity(256 * 1024, std::fs::File::open(log).unwrap());
    let mut batch = Vec::with_capacity(palisade_audit::BATCH_LINES);
    for line in reader.split(b'\n') {
        batch.push(line.unwrap());
        if batch.len() == palisade_audit::BATCH_LINES {
            each(std::mem::take(&mut batch));
        }
    }
    if !batch.is_empty() {
        each(batch);
    }
}

/// The typed, borrowed reference: the members rules read as `&str` (`Cow` where a string may
/// hold escapes), the objects as raw JSON, checked but not decoded.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct TypedEvent<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    audit_id: Cow<'a, str>,
    #[serde(borrow, default)]
    stage: Cow<'a, str>,
    #[serde(borrow, default)]
    verb: Cow<'a, str>,
    #[serde(borrow, default, rename = "requestURI")]
    request_uri: Cow<'a, str>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "sourceIPs")]
    source_ips: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_agent: Cow<'a, str>,
    #[serde(borrow)]
    object_ref: Option<&'a RawValue>,
    #[serde(borrow)]
    response_status: Option<&'a RawValue>,
    #[serde(borrow)]
    request_object: Option<&'a RawValue>,
    #[serde(borrow)]
    response_object: Option<&'a RawValue>,
    #[serde(borrow)]
    annotations: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stage_timestamp: Cow<'a, str>,
}

fn phase(name: &str, log: &Path) {
    let started = Instant::now();
    let (mut events, mut alerts) = (0u64, 0u64);
    match name {
        "serde-1t" => line_batches(log, |batch| {
            for line in batch {
                if serde_json::from_slice::<Value>(&line).is_ok() {
                    events += 1;
                }
            }
        }),
        "serde" => line_batches(log, |batch| {
            events += batch
                .par_iter()
                .filter(|line| serde_json::from_slice::<Value>(line).is_ok())
                .count() as u64;
        }),
        "typed" => line_batches(log, |batch| {
            events += batch
                .par_iter()
                .filter(|line| {
                    std::str::from_utf8(line)
                        .ok()
                        .and_then(|text| serde_json::from_str::<TypedEvent>(text).ok())
                        .is_some()
                })
                .count() as u64;
        }),
        _ => {
            // `reader`: the reader alone; `falco`: and the upstream Falco rules; `builtin`: and
            // palisade's rules; `palisade`: everything, as `palisade audit -f json` runs.
            let with_falco = matches!(name, "falco" | "palisade");
            let with_builtin = matches!(name, "builtin" | "palisade");
            let render = name == "palisade";
            let falco = if with_falco { falco_rules() } else { None };
            if with_falco && falco.is_none() {
                eprintln!("(the Falco rules file was not found: palisade's rules only)");
            }
            let runner = with_builtin.then(|| EventRunner::new(Arc::new(Engine::default())));
            let mut pipeline = AuditPipeline::new(runner, falco.unwrap_or_else(Ruleset::empty));
            let mut reader = palisade_audit::open(log.to_str().unwrap()).unwrap();
            let mut sink = std::io::sink();
            read_batches(&mut reader, "bench.log", &mut |items| {
                events += items.iter().filter(|i| matches!(i, Item::Event(_))).count() as u64;
                if name == "reader" {
                    return;
                }
                let found = pipeline.batch(&items);
                alerts += found.iter().map(|a| a.len() as u64).sum::<u64>();
                if render {
                    let lines: Vec<String> = found
                        .into_par_iter()
                        .map(|list| {
                            let mut text = String::new();
                            for alert in list {
                                text.push_str(&alert.to_json().to_string());
                                text.push('\n');
                            }
                            text
                        })
                        .collect();
                    for text in lines {
                        sink.write_all(text.as_bytes()).unwrap();
                    }
                }
                // As `palisade audit` does: the events are freed on every core too.
                items.into_par_iter().for_each(drop);
            });
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"phase": name, "events": events, "seconds": (secs * 1000.0).round() / 1000.0,
               "events_per_second": (events as f64 / secs).round(), "alerts": alerts,
               "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
               "threads": rayon::current_num_threads()})
    );
}

fn main() {
    if let (Ok(name), Ok(log)) = (
        std::env::var("AUDIT_BENCH_PHASE"),
        std::env::var("AUDIT_BENCH_LOG"),
    ) {
        phase(&name, Path::new(&log));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and `cargo bench --
    // --test` (CI: every benchmark once) adds `--test`: a small log then.
    let args: Vec<String> = std::env::args().collect();
    let quick = !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test");
    let events: usize = std::env::var("AUDIT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1_000 } else { 1_000_000 });
    // `AUDIT_BENCH_LOG`: generate the log there, or use it as it is when it exists (to run
    // `palisade audit` on the same file).
    let dir = tempfile::tempdir().unwrap();
    let log: PathBuf = std::env::var_os("AUDIT_BENCH_LOG")
        .map_or_else(|| dir.path().join("audit.log"), PathBuf::from);
    if log.exists() {
        eprintln!("using {}", log.display());
    } else {
        let started = Instant::now();
        let bytes = generate(&log, events).unwrap();
        eprintln!(
            "generated {events} events, {:.0} MB ({:.0} bytes per event) in {:.1}s",
            bytes as f64 / 1e6,
            bytes as f64 / events as f64,
            started.elapsed().as_secs_f64()
        );
    }
    let phases = std::env::var("AUDIT_BENCH_PHASES")
        .unwrap_or_else(|_| "serde-1t,serde,typed,reader,falco,builtin,palisade".to_owned());
    for name in phases.split(',') {
        let status = Command::new(std::env::current_exe().unwrap())
            .env("AUDIT_BENCH_PHASE", name)
            .env("AUDIT_BENCH_LOG", &log)
            .status()
            .unwrap();
        assert!(status.success(), "phase {name} failed");
    }
}
