//! Node budgets end to end: a file that would exhaust memory is one input error, with its
//! position, and every other file is still reported.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  containers:\n  - name: app\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n";

fn scan(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["scan", "--no-config", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn files_with_findings(report: &Value) -> Vec<&str> {
    let mut files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    files.dedup();
    files
}

#[test]
fn a_60_mb_flow_sequence_is_an_input_error_and_the_other_file_is_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    // 30 million entries: 60 MB, under the 64 MiB file size limit.
    let mut flow = Vec::with_capacity(60_000_002);
    flow.push(b'[');
    for _ in 0..29_999_999 {
        flow.extend_from_slice(b"a,");
    }
    flow.extend_from_slice(b"a]\n");
    std::fs::write(dir.path().join("big.yaml"), &flow).unwrap();
    drop(flow);
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    let (code, report) = scan(dir.path(), &["."]);
    assert_eq!(code, 2, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    let error = &errors[0];
    assert_eq!(error["file"], "big.yaml");
    assert_eq!(error["kind"], "limit");
    // Cut after `[` and 1,000,000 commas: at the last entry read, on column 2,000,000.
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(1), Some(2_000_000))
    );
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("1000000 YAML nodes"), "{message}");
    assert!(message.contains("--max-file-nodes"), "{message}");
    assert_eq!(files_with_findings(&report), vec!["pod.yaml"]);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "POD001"));
}

#[test]
fn max_file_nodes_raises_the_file_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED).unwrap();
    // The pod has 13 nodes.
    let (code, report) = scan(dir.path(), &["pod.yaml", "--max-file-nodes", "12"]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["kind"], "limit");
    assert_eq!(report["errors"][0]["line"], 11);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    let (code, report) = scan(dir.path(), &["pod.yaml", "--max-file-nodes", "13"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn the_file_whose_kept_objects_cross_the_run_budget_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), PRIVILEGED).unwrap();
    std::fs::write(dir.path().join("b.yaml"), PRIVILEGED).unwrap();
    // Pods are kept for cross-object rules: room for one of them (13 nodes), not both.
    let (code, report) = scan(dir.path(), &[".", "--max-run-nodes", "20"]);
    assert_eq!(code, 2, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["kind"], "limit");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("--max-run-nodes"));
    // Both files are still checked object by object.
    assert_eq!(files_with_findings(&report), vec!["a.yaml", "b.yaml"]);
    let (code, report) = scan(dir.path(), &[".", "--max-run-nodes", "26"]);
    assert_eq!(code, 1, "{report}");
}

#[test]
fn a_stream_decoded_in_parallel_is_refused_at_the_same_place_every_run() {
    let dir = tempfile::tempdir().unwrap();
    // 4,000 pods of 13 nodes: about 1 MB, decoded as several chunks in parallel.
    let stream: String = (0..4000)
        .map(|i| PRIVILEGED.replace("name: p\n", &format!("name: p{i}\n")))
        .collect::<Vec<_>>()
        .join("---\n");
    std::fs::write(dir.path().join("stream.yaml"), stream).unwrap();
    for _ in 0..3 {
        let (code, report) = scan(dir.path(), &["stream.yaml", "--max-file-nodes", "30000"]);
        assert_eq!(code, 2, "{report}");
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{report}");
        assert_eq!(errors[0]["kind"], "limit");
        assert_eq!(
            (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
            (Some(1), Some(1)),
            "{report}"
        );
        assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    }
}
