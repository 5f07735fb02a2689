//! Runs netpol-analyzer's golden `list` and `eval` cases (see
//! `../shared/conformance/netpol-analyzer/README.md`) and ratchets on `tests/passing.txt`.
//!
//! Set `PALISADE_UPDATE_PASSING=1` to rewrite the passing list with every case that passes
//! now (it must remain a superset of the old list, or the test fails anyway).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use palisade_netpol::{
    connlist, eval, load_dir, render, Direction, Format, Input, ListOptions, Protocol,
};
use serde_json::Value;

fn strip(text: &str) -> String {
    text.chars().filter(|c| *c != '\n' && *c != '\r').collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn netpol_analyzer_conformance() {
    let Some(root) =
        palisade_testdata::shared("conformance/netpol-analyzer", "netpol_analyzer_conformance")
    else {
        return;
    };
    let index = std::fs::read_to_string(root.join("index.json")).expect("read index.json");
    let index: Value = serde_json::from_str(&index).expect("index.json parses");
    let passing_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passing.txt");
    let listed: BTreeSet<String> = std::fs::read_to_string(&passing_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();

    let mut inputs: BTreeMap<String, Input> = BTreeMap::new();
    let mut load = |dir: &str| -> Input {
        inputs
            .entry(dir.to_owned())
            .or_insert_with(|| load_dir(&root.join(dir)))
            .clone()
    };
    let mut passed: BTreeSet<String> = BTreeSet::new();
    let mut totals: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failed: Vec<String> = Vec::new();
    let mut skipped = 0usize;

    for case in index["connlist"].as_array().expect("connlist array") {
        let format = case["format"].as_str().unwrap_or_default();
        let Some(fmt) = Format::parse(format) else {
            continue;
        };
        let Some(expected) = case["expected_output"].as_str() else {
            continue;
        };
        if case["exposure"].as_bool() == Some(true)
            || case["multiple_networks"].as_bool() == Some(true)
        {
            skipped += 1;
            continue;
        }
        let input = load(case["input_dir"].as_str().unwrap_or_default());
        let opts = ListOptions {
            focus_workloads: strings(&case["focus_workloads"]),
            focus_workload_peers: strings(&case["focus_workload_peers"]),
            focus_direction: match case["focus_direction"].as_str() {
                Some("ingress") => Direction::Ingress,
                Some("egress") => Direction::Egress,
                _ => Direction::Both,
            },
            focus_conn: case["focus_conn"]
                .as_str()
                .filter(|s| !s.is_empty())
                .and_then(ListOptions::parse_focus_conn),
        };
        let got = render(&connlist(&input, &opts), fmt);
        let want = std::fs::read_to_string(root.join(expected)).expect("golden file");
        let entry = totals.entry(format.to_owned()).or_default();
        entry.1 += 1;
        if strip(&got) == strip(&want) {
            entry.0 += 1;
            passed.insert(expected.to_owned());
        } else {
            failed.push(expected.to_owned());
        }
    }

    for case in index["eval"].as_array().expect("eval array") {
        let dir = case["input_dir"].as_str().unwrap_or_default();
        let name = format!(
            "eval:{dir}:{}/{}->{}/{}:{}-{}",
            case["src_ns"].as_str().unwrap_or_default(),
            case["src_workload"].as_str().unwrap_or_default(),
            case["dst_ns"].as_str().unwrap_or_default(),
            case["dst_workload"].as_str().unwrap_or_default(),
            case["protocol"].as_str().unwrap_or_default(),
            case["port"].as_str().unwrap_or_default(),
        );
        let input = load(dir);
        let protocol = Protocol::parse(case["protocol"].as_str().unwrap_or_default());
        let port: Option<u16> = case["port"].as_str().and_then(|p| p.parse().ok());
        let result = protocol.zip(port).and_then(|(proto, port)| {
            eval(
                &input,
                &format!(
                    "{}/{}",
                    case["src_ns"].as_str().unwrap_or_default(),
                    case["src_workload"].as_str().unwrap_or_default()
                ),
                &format!(
                    "{}/{}",
                    case["dst_ns"].as_str().unwrap_or_default(),
                    case["dst_workload"].as_str().unwrap_or_default()
                ),
                proto,
                port,
            )
            .ok()
        });
        let entry = totals.entry("eval".to_owned()).or_default();
        entry.1 += 1;
        if result.map(|r| r.allowed) == case["allowed"].as_bool() {
            entry.0 += 1;
            passed.insert(name);
        } else {
            failed.push(name);
        }
    }

    for (format, (pass, total)) in &totals {
        println!("{format}: {pass}/{total} pass");
    }
    println!("skipped (exposure or multi-network): {skipped}");
    for f in &failed {
        println!("FAIL {f}");
    }
    let regressions: Vec<&String> = listed.difference(&passed).collect();
    if std::env::var_os("PALISADE_UPDATE_PASSING").is_some() && regressions.is_empty() {
        let text: String = passed.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(&passing_path, text).expect("write passing list");
    }
    assert!(
        regressions.is_empty(),
        "cases in tests/passing.txt now fail: {regressions:?}"
    );
    assert!(!passed.is_empty(), "no conformance case passes");
}
