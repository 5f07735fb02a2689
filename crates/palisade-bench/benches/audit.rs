//! Audit-event throughput (`cargo bench -p palisade-bench --bench audit`; not a timed test).
//!
//! Generates a log of `AUDIT_BENCH_EVENTS` events (default 1,000,000; a cluster's mix: reads,
//! watches and writes of the cluster's components, writes that carry their object, people's
//! requests, exec sessions, 401/403 failures; 0.5–3 KB each), then runs
//! each phase in a process of its own so that each reports its own peak memory:
//!
//! - `serde-1t`: a plain `serde_json` parse of every line into a `Value`, one thread;
//! - `serde`: the same on every core (rayon over batches of `BATCH_LINES` lines, as
//!   `palisade audit` reads them): the reference;
//! - `typed`: a typed, borrowed parse of every line (`&str` fields, `&RawValue` for the
//!   objects), every core: what a parse that builds no tree costs;
//! - `reader`: palisade's reader alone (`read_batches`: every core, the next batch read on a
//!   thread of its own);
//! - `falco`: the reader and the upstream Falco k8saudit rules file (from `../shared`);
//! - `builtin`: the reader, palisade's event rules and the per-object rules on request objects;
//! - `palisade`: all of it, as `palisade audit --rules k8s_audit_rules.yaml -f json` runs (the
//!   alerts rendered as JSON lines, then dropped).
//!
//! Prints one JSON line per phase: events, seconds, events per second, CPU seconds (user and
//! system, every thread), alerts (and per rule), peak RSS (MB). `AUDIT_BENCH_PHASES`
//! (comma-separated) runs only some phases. `AUDIT_BENCH_MIX=legacy` generates the first mix
//! (`audit/legacy.rs`) instead of the cluster's (`audit/cluster.rs`).
//!
//! The benchmark, like the `palisade` binary, allocates with mimalloc.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use palisade_audit::{read_batches_of, Item, RulesLoader, Ruleset};
use palisade_bench::rng::Rng;
use palisade_rules::rules::event::{AuditPipeline, EventRunner};
use palisade_rules::Engine;
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::{json, Value};

#[path = "audit/cluster.rs"]
mod cluster;
#[path = "audit/legacy.rs"]
mod legacy;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn generate(path: &Path, events: usize, legacy: bool) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let mut rng = Rng::new(18);
    for i in 0..events {
        let event = if legacy {
            legacy::event(&mut rng, i)
        } else {
            cluster::event(&mut rng, i)
        };
        serde_json::to_writer(&mut out, &event)?;
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

/// CPU seconds (user and system) of this process so far, every thread included.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // After the command's name in parentheses: utime and stime are fields 14 and 15, in clock
    // ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
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
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
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
            // `AUDIT_BENCH_BATCH_LINES`: batches of another size than `palisade audit`'s.
            let lines = std::env::var("AUDIT_BENCH_BATCH_LINES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(palisade_audit::BATCH_LINES);
            read_batches_of(lines, &mut reader, "bench.log", &mut |items| {
                events += items.iter().filter(|i| matches!(i, Item::Event(_))).count() as u64;
                if name == "reader" {
                    return;
                }
                // As `palisade audit` does: each event evaluated, rendered (`palisade`) and
                // freed in one parallel step.
                let found = pipeline.batch(items, |_, list| {
                    let mut text = Vec::new();
                    if render {
                        for alert in &list {
                            alert.write_json_line(&mut text);
                        }
                    }
                    let rules: Vec<Arc<str>> = list.into_iter().map(|a| a.rule).collect();
                    (rules, text)
                });
                for (rules, text) in found {
                    alerts += rules.len() as u64;
                    for rule in rules {
                        match by_rule.get_mut(rule.as_ref()) {
                            Some(n) => *n += 1,
                            None => {
                                by_rule.insert(rule.to_string(), 1);
                            }
                        }
                    }
                    sink.write_all(&text).unwrap();
                }
            });
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"phase": name, "events": events, "seconds": (secs * 1000.0).round() / 1000.0,
               "events_per_second": (events as f64 / secs).round(), "cpu_seconds": cpu_seconds(), "alerts": alerts,
               "alerts_by_rule": by_rule, "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
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
        let legacy = std::env::var("AUDIT_BENCH_MIX").is_ok_and(|m| m == "legacy");
        let bytes = generate(&log, events, legacy).unwrap();
        eprintln!(
            "generated {events} events ({} mix), {:.0} MB ({:.0} bytes per event) in {:.1}s",
            if legacy { "legacy" } else { "cluster" },
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
