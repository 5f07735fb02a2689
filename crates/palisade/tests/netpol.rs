//! End-to-end tests of `palisade netpol`: netpol-analyzer golden outputs through the binary,
//! eval exit codes and JSON, and input errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// netpol-analyzer's conformance data and its index, or `None` (after saying that `test` was
/// skipped) when `../shared` is absent.
fn conformance(test: &str) -> Option<(PathBuf, Value)> {
    let dir = palisade_testdata::shared("conformance/netpol-analyzer", test)?;
    let text = std::fs::read_to_string(dir.join("index.json")).expect("read index.json");
    let index = serde_json::from_str(&text).expect("index.json parses");
    Some((dir, index))
}

fn palisade() -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn strip(text: &str) -> String {
    text.chars().filter(|c| *c != '\n' && *c != '\r').collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn in_scope(case: &Value) -> bool {
    case["exposure"].as_bool() != Some(true) && case["multiple_networks"].as_bool() != Some(true)
}

/// The `netpol list` arguments of a conformance case.
fn list_args(data_dir: &Path, case: &Value) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "netpol".into(),
        "list".into(),
        data_dir
            .join(case["input_dir"].as_str().expect("input_dir"))
            .display()
            .to_string(),
        "--format".into(),
        case["format"].as_str().expect("format").into(),
    ];
    for w in strings(&case["focus_workloads"]) {
        args.extend(["--focus-workload".into(), w.into()]);
    }
    for w in strings(&case["focus_workload_peers"]) {
        args.extend(["--focus-workload-peer".into(), w.into()]);
    }
    for (key, flag) in [
        ("focus_direction", "--focus-direction"),
        ("focus_conn", "--focus-conn"),
    ] {
        if let Some(v) = case[key].as_str().filter(|v| !v.is_empty()) {
            args.extend([flag.into(), v.into()]);
        }
    }
    args
}

/// One in-scope case per output format and per focus option.
fn scenarios(index: &Value) -> Vec<&Value> {
    let cases: Vec<&Value> = index["connlist"]
        .as_array()
        .expect("connlist array")
        .iter()
        .filter(|c| in_scope(c))
        .collect();
    let has = |c: &Value, key: &str| match &c[key] {
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => false,
    };
    let mut picked: Vec<&Value> = Vec::new();
    for format in ["txt", "json", "csv", "md", "dot"] {
        picked.extend(cases.iter().find(|c| c["format"] == format));
    }
    for key in [
        "focus_workloads",
        "focus_workload_peers",
        "focus_direction",
        "focus_conn",
    ] {
        picked.extend(cases.iter().find(|c| has(c, key)));
    }
    picked
}

#[test]
fn list_matches_golden_outputs() {
    let Some((data_dir, index)) = conformance("list_matches_golden_outputs") else {
        return;
    };
    let picked = scenarios(&index);
    assert_eq!(picked.len(), 9, "a scenario for every format and focus");
    for case in picked {
        let (code, out, err) = run(palisade().args(list_args(&data_dir, case)));
        let expected = case["expected_output"].as_str().expect("expected_output");
        assert_eq!(code, 0, "{expected}: {err}");
        let want = std::fs::read_to_string(data_dir.join(expected)).expect("golden file");
        assert_eq!(strip(&out), strip(&want), "{expected}");
    }
}

#[test]
fn list_writes_the_output_file() {
    let Some((data_dir, index)) = conformance("list_writes_the_output_file") else {
        return;
    };
    let case = scenarios(&index)[0];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conns.txt");
    let (code, out, err) = run(palisade()
        .args(list_args(&data_dir, case))
        .args(["-o", file.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let want = std::fs::read_to_string(
        data_dir.join(case["expected_output"].as_str().expect("expected_output")),
    )
    .unwrap();
    assert_eq!(strip(&std::fs::read_to_string(file).unwrap()), strip(&want));
}

fn eval_args(data_dir: &Path, case: &Value, format: &str) -> Vec<String> {
    let s = |k: &str| case[k].as_str().unwrap_or_default().to_owned();
    vec![
        "netpol".into(),
        "eval".into(),
        "--source".into(),
        format!("{}/{}", s("src_ns"), s("src_workload")),
        "--destination".into(),
        format!("{}/{}", s("dst_ns"), s("dst_workload")),
        "--protocol".into(),
        s("protocol"),
        "--port".into(),
        s("port"),
        "--format".into(),
        format.into(),
        data_dir.join(s("input_dir")).display().to_string(),
    ]
}

#[test]
fn eval_exit_codes_and_json_follow_the_verdict() {
    let Some((data_dir, index)) = conformance("eval_exit_codes_and_json_follow_the_verdict") else {
        return;
    };
    let cases = index["eval"].as_array().expect("eval array");
    assert!(cases.iter().any(|c| c["allowed"] == true));
    assert!(cases.iter().any(|c| c["allowed"] == false));
    for case in cases {
        let allowed = case["allowed"].as_bool().expect("allowed");
        let (code, out, err) = run(palisade().args(eval_args(&data_dir, case, "text")));
        assert_eq!(code, if allowed { 0 } else { 1 }, "{case}: {out}{err}");
        let verdict = if allowed { "allowed: " } else { "denied: " };
        assert!(out.starts_with(verdict), "{out}");

        let (code, out, err) = run(palisade().args(eval_args(&data_dir, case, "json")));
        assert_eq!(code, if allowed { 0 } else { 1 }, "{err}");
        let json: Value = serde_json::from_str(&out).expect("JSON output");
        assert_eq!(json["allowed"], allowed);
        if !allowed {
            assert!(
                !json["policies"].as_array().expect("policies").is_empty(),
                "a denial names its policies: {out}"
            );
        }
    }
}

#[test]
fn eval_of_an_unknown_workload_is_an_error() {
    let Some((data_dir, index)) = conformance("eval_of_an_unknown_workload_is_an_error") else {
        return;
    };
    let mut case = index["eval"][0].clone();
    case["src_workload"] = "no-such-workload".into();
    let (code, out, err) = run(palisade().args(eval_args(&data_dir, &case, "text")));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("no-such-workload") && err.contains("not found"),
        "{err}"
    );
}

const TWO_PODS: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ns, labels: {app: a}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: ns, labels: {app: b}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b-web, namespace: ns}\nspec:\n  podSelector: {matchLabels: {app: b}}\n  ingress: [{ports: [{port: 80}]}]\n";

#[test]
fn input_errors_are_located_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pods.yaml"), TWO_PODS).unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "kind: Pod\nmetadata: [a\n").unwrap();
    let (code, out, err) = run(palisade()
        .current_dir(dir.path())
        .args(["netpol", "list", "."]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("broken.yaml:"), "{err}");
    let located = err
        .lines()
        .find(|l| l.contains("broken.yaml:"))
        .and_then(|l| l.split("broken.yaml:").nth(1))
        .map(|rest| rest.split(':').take(2).all(|n| n.parse::<u32>().is_ok()));
    assert_eq!(located, Some(true), "file:line:col in {err}");
    assert!(
        out.contains("ns/a[Pod] => ns/b[Pod] : TCP 80"),
        "the loaded files are still analysed: {out}"
    );

    let (code, _, err) = run(palisade().args(["netpol", "explain", "/no/such/dir"]));
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/dir:1:1"), "{err}");
}

#[test]
fn explain_names_the_rules_per_pair() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pods.yaml"), TWO_PODS).unwrap();
    let (code, out, err) =
        run(palisade()
            .current_dir(dir.path())
            .args(["netpol", "explain", "pods.yaml"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Connections between ns/a[Pod] => ns/b[Pod]: TCP 80\n\tIngress: NetworkPolicy 'ns/b-web' Ingress rule #1 allows TCP 80\n"),
        "{out}"
    );
}

/// The NetworkPolicy in `deploy/` admits monitoring to the metrics port only, and everyone to
/// the webhook port (the API server's address is cluster specific).
#[test]
fn the_deployed_network_policy_admits_only_monitoring_to_the_metrics_port() {
    let dir = tempfile::tempdir().unwrap();
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    for file in ["networkpolicy.yaml", "deployment.yaml", "namespace.yaml"] {
        std::fs::copy(deploy.join(file), dir.path().join(file)).unwrap();
    }
    let mut others = String::new();
    for (namespace, pod) in [("monitoring", "prometheus"), ("team-a", "app")] {
        others.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}, labels: \
             {{kubernetes.io/metadata.name: {namespace}}}}}\n---\napiVersion: v1\nkind: Pod\n\
             metadata: {{name: {pod}, namespace: {namespace}}}\nspec: {{containers: [{{name: c, \
             image: \"c:1\"}}]}}\n---\n"
        ));
    }
    std::fs::write(dir.path().join("others.yaml"), others).unwrap();
    let eval = |source: &str, port: &str| {
        let (code, out, err) = run(palisade().args(["netpol", "eval"]).arg(dir.path()).args([
            "--source",
            source,
            "--destination",
            "palisade/palisade",
            "--port",
            port,
        ]));
        assert!(code == 0 || code == 1, "{err}");
        (code == 0, out)
    };
    assert!(eval("monitoring/prometheus", "9090").0);
    assert!(eval("monitoring/prometheus", "8443").0);
    let (allowed, out) = eval("team-a/app", "9090");
    assert!(!allowed, "{out}");
    assert!(eval("team-a/app", "8443").0);
}
