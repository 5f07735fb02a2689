//! `--policy` on /validate over real HTTPS: Gatekeeper constraints and ValidatingAdmission-
//! Policies judged with the built-in rules in one answer, their actions, the time limit on a
//! policy that loops, and reloading when the files change (ConfigMap symlink swaps included).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use palisade_server::{FailurePolicy, ReviewLimits};
use serde_json::{json, Value};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

fn example(path: &str) -> String {
    std::fs::read_to_string(examples().join(path)).expect("example policy")
}

/// Writes a file whole: readers see the old file or the new one.
fn write(path: &Path, text: &str) {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).unwrap();
    std::fs::rename(&partial, path).unwrap();
}

async fn serve_policies(
    dirs: Vec<PathBuf>,
    failure: FailurePolicy,
    policy_time: Duration,
) -> TestServer {
    let (state, logs) = bare_state(RULES, "");
    let state = state
        .with_limits(ReviewLimits {
            policy_time,
            ..ReviewLimits::default()
        })
        .with_policies(dirs, failure)
        .expect("the policies load");
    serve_state(Arc::new(state), logs, |config| {
        config.reload_interval = Duration::from_millis(100);
    })
    .await
}

impl TestServer {
    async fn text(&self, path: &str) -> String {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }

    /// The value of one series in `/metrics`, 0 when absent.
    async fn metric(&self, series: &str) -> f64 {
        self.text("/metrics")
            .await
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Reviews `object` until `done` holds of the answer (the policies reload meanwhile).
    async fn until(&self, object: &Value, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let response = self.validate(&review("poll", object.clone(), None)).await;
            if done(&response) {
                return response;
            }
            assert!(Instant::now() < deadline, "still {response}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn message(response: &Value) -> &str {
    response["status"]["message"].as_str().unwrap_or_default()
}

fn untrusted_container(name: &str) -> Value {
    let mut c = good_container(name);
    c["image"] = json!("docker.io/library/nginx:1.27");
    c
}

fn trusted_container(name: &str) -> Value {
    let mut c = good_container(name);
    c["image"] = json!("myregistry.company.com/shop/api:1.4.2");
    c
}

#[tokio::test]
async fn policies_and_rules_deny_together_in_one_answer() {
    let server = serve_policies(
        vec![examples()],
        FailurePolicy::Fail,
        Duration::from_secs(2),
    )
    .await;
    let ok = server
        .validate(&review(
            "ok",
            pod("api", vec![trusted_container("api")]),
            None,
        ))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");
    assert!(ok.get("warnings").is_none(), "{ok}");

    let mut bare = untrusted_container("app");
    bare.as_object_mut().unwrap().remove("resources");
    let mut root = privileged_container("root");
    root["image"] = trusted_container("root")["image"].take();
    let bad = server
        .validate(&review("bad", pod("web", vec![root, bare]), None))
        .await;
    assert_eq!(bad["allowed"], false, "{bad}");
    assert_eq!(bad["status"]["code"], 403);
    let lines: Vec<&str> = message(&bad).lines().collect();
    assert!(
        lines[0].starts_with("palisade denied Pod team-a/web: "),
        "{lines:?}"
    );
    // The built-in rules, then each policy's violations, named after the constraint or binding.
    let expected = [
        "- POD001 privileged-container (critical) at spec.containers[0].securityContext.privileged",
        "- POD004 missing-resource-limits",
        "- [ValidatingAdmissionPolicyBinding/trusted-images-and-limits] Container images \
         docker.io/library/nginx:1.27 are not from an allowed repository",
        "- [ValidatingAdmissionPolicyBinding/trusted-images-and-limits] Containers app must \
         have CPU and memory limits",
        "- [AllowedRepositories/must-come-from-trusted-registry] Container image \
         docker.io/library/nginx:1.27 is not from allowed repository",
        "- [ContainerLimits/must-have-limits] Container app must have CPU limits",
        "- [ContainerLimits/must-have-limits] Container app must have memory limits",
    ];
    for line in expected {
        assert!(
            lines.iter().any(|l| l.starts_with(line)),
            "{line}\n{lines:#?}"
        );
    }
    assert_eq!(lines.len(), 1 + 7, "{lines:#?}");
    assert!(lines[0].ends_with(": 7 findings"), "{lines:?}");

    // A Deployment is not a Pod: the constraints and the binding leave it alone.
    let deployment = server
        .validate(&review(
            "d",
            deployment("api", vec![untrusted_container("api")]),
            None,
        ))
        .await;
    assert_eq!(deployment["allowed"], true, "{deployment}");

    let metrics = server.text("/metrics").await;
    for series in [
        r#"palisade_policy_verdicts_total{policy="AllowedRepositories/must-come-from-trusted-registry",action="deny"} 1"#,
        r#"palisade_policy_verdicts_total{policy="ContainerLimits/must-have-limits",action="deny"} 2"#,
        r#"palisade_policy_verdicts_total{policy="ValidatingAdmissionPolicyBinding/trusted-images-and-limits",action="deny"} 2"#,
        "palisade_policy_reload_errors_total 0",
    ] {
        assert!(metrics.contains(series), "{series}\n{metrics}");
    }
    let line = server
        .log_lines()
        .into_iter()
        .find(|l| l["uid"] == "bad")
        .unwrap();
    let policies: Vec<&str> = line["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["policy"].as_str())
        .collect();
    assert_eq!(policies.len(), 5, "{line}");
    let ready = server.text("/readyz").await;
    assert_eq!(
        ready,
        "ready\npolicies: 2 constraints and 1 bindings in force\n"
    );
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn warn_dryrun_and_audit_allow_with_a_warning_a_log_line_and_an_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let constraint = |name: &str, action: &str| {
        format!(
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: AllowedRepositories\n\
             metadata:\n  name: {name}\nspec:\n  enforcementAction: {action}\n  match:\n    \
             kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"Pod\"]\n  parameters:\n    \
             repos: [\"myregistry.company.com/\"]\n"
        )
    };
    write(
        &dir.path().join("template.yaml"),
        &example("allowed-repos/template.yaml"),
    );
    write(
        &dir.path().join("warn.yaml"),
        &constraint("repos-warn", "warn"),
    );
    write(
        &dir.path().join("dryrun.yaml"),
        &constraint("repos-dryrun", "dryrun"),
    );
    write(&dir.path().join("vap.yaml"), &example("vap/policy.yaml"));
    let binding = example("vap/binding.yaml")
        .replace(
            "name: trusted-images-and-limits\nspec",
            "name: audit-only\nspec",
        )
        .replace("validationActions: [Deny]", "validationActions: [Audit]");
    write(&dir.path().join("binding.yaml"), &binding);
    let server = serve_policies(
        vec![dir.path().to_owned()],
        FailurePolicy::Fail,
        Duration::from_secs(2),
    )
    .await;

    let response = server
        .validate(&review(
            "w",
            pod("web", vec![untrusted_container("app")]),
            None,
        ))
        .await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(
        warnings(&response),
        [
            "[AllowedRepositories/repos-warn] Container image docker.io/library/nginx:1.27 is not \
          from allowed repository"
        ]
    );
    assert_eq!(
        response["auditAnnotations"]["findings"],
        "[ValidatingAdmissionPolicyBinding/audit-only] Container images \
         docker.io/library/nginx:1.27 are not from an allowed repository"
    );
    assert!(!response.to_string().contains("repos-dryrun"), "{response}");
    // The dry run is in the log line and the metrics only.
    let line = server
        .log_lines()
        .into_iter()
        .find(|l| l["uid"] == "w")
        .unwrap();
    let actions: Vec<(&str, &str)> = line["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| Some((f["policy"].as_str()?, f["action"].as_str()?)))
        .collect();
    assert_eq!(
        actions,
        [
            ("ValidatingAdmissionPolicyBinding/audit-only", "audit"),
            ("AllowedRepositories/repos-dryrun", "dryrun"),
            ("AllowedRepositories/repos-warn", "warn"),
        ],
        "{line}"
    );
    for (policy, action) in actions {
        let series =
            format!(r#"palisade_policy_verdicts_total{{policy="{policy}",action="{action}"}}"#);
        assert_eq!(server.metric(&series).await, 1.0, "{series}");
    }
    server.running.shutdown().await.unwrap();
}

const LOOP: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sloop
spec:
  crd:
    spec:
      names:
        kind: K8sLoop
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sloop

        # Ten billion steps: without a budget it never answers.
        violation[{"msg": "never"}] {
          xs := numbers.range(1, 100000)
          x := xs[_]
          y := xs[_]
          x * y < 0
        }
"#;

fn loop_constraint(name: &str) -> String {
    format!(
        "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLoop\nmetadata:\n  \
         name: {name}\nspec:\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        \
         kinds: [\"Pod\"]\n"
    )
}

/// Reviews a good Pod; the answer and how long it took.
async fn timed(server: &TestServer, uid: &str) -> (Value, Duration) {
    let started = Instant::now();
    let response = server
        .validate(&review(uid, pod("web", vec![good_container("app")]), None))
        .await;
    (response, started.elapsed())
}

#[tokio::test]
async fn a_looping_policy_is_stopped_by_its_budget_and_the_failure_policy_decides() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("loop.yaml"),
        &format!("{LOOP}{}", loop_constraint("loop")),
    );
    let limit = Duration::from_millis(1000);
    let fail = serve_policies(vec![dir.path().to_owned()], FailurePolicy::Fail, limit).await;
    let (response, took) = timed(&fail, "f").await;
    // The evaluation's budget (half the limit) stops it, and the answer names it.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(response["allowed"], false, "{response}");
    let message = message(&response);
    assert!(
        message.contains("- [K8sLoop/loop] evaluation budget exceeded: "),
        "{message}"
    );
    assert!(
        message.ends_with("(failure policy Fail: denied)"),
        "{message}"
    );
    assert_eq!(
        fail.metric(r#"palisade_policy_verdicts_total{policy="K8sLoop/loop",action="error"}"#)
            .await,
        1.0
    );
    fail.running.shutdown().await.unwrap();

    let ignore = serve_policies(vec![dir.path().to_owned()], FailurePolicy::Ignore, limit).await;
    let (response, took) = timed(&ignore, "i").await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = warnings(&response);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("[K8sLoop/loop] evaluation budget exceeded")
            && warnings[0].ends_with("(failure policy Ignore: allowed)"),
        "{warnings:?}"
    );
    ignore.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn policies_that_together_run_past_the_limit_are_answered_at_the_limit() {
    // Three loops of half the limit each: the review's limit ends the wait.
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{LOOP}{}{}{}",
        loop_constraint("one"),
        loop_constraint("two"),
        loop_constraint("three")
    );
    write(&dir.path().join("loops.yaml"), &text);
    let limit = Duration::from_millis(1000);
    let server = serve_policies(vec![dir.path().to_owned()], FailurePolicy::Fail, limit).await;
    let (response, took) = timed(&server, "t").await;
    assert!(took >= limit, "{took:?}");
    assert!(took < limit + Duration::from_secs(2), "{took:?}");
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        message(&response).ends_with(
            "- [policies] the policies did not finish within 1000 ms (failure policy Fail: \
             denied)"
        ),
        "{response}"
    );
    // Health checks are answered meanwhile, and the server keeps answering.
    assert_eq!(server.text("/healthz").await, "ok\n");
    let (again, took) = timed(&server, "t2").await;
    assert!(took < limit + Duration::from_secs(2), "{took:?}");
    assert_eq!(again["allowed"], false, "{again}");
    server.running.shutdown().await.unwrap();
}

const BROKEN: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sbroken
spec:
  crd:
    spec:
      names:
        kind: K8sBroken
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbroken

        violation[{"msg": msg}] {
          msg := sprintf("%v", [input.review.object.kind]
        }
"#;

#[tokio::test]
async fn policies_reload_when_their_files_change_and_a_broken_set_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("template.yaml"),
        &example("allowed-repos/template.yaml"),
    );
    let server = serve_policies(
        vec![dir.path().to_owned()],
        FailurePolicy::Fail,
        Duration::from_secs(2),
    )
    .await;
    let object = pod("web", vec![untrusted_container("app")]);
    let allowed = server.validate(&review("a", object.clone(), None)).await;
    assert_eq!(allowed["allowed"], true, "{allowed}");

    // A new constraint: the same Pod is denied once the files are read again.
    write(
        &dir.path().join("constraint.yaml"),
        &example("allowed-repos/constraint.yaml"),
    );
    let denied = server.until(&object, |r| r["allowed"] == false).await;
    assert!(
        message(&denied).contains("- [AllowedRepositories/must-come-from-trusted-registry]"),
        "{denied}"
    );

    // A template that does not compile: the whole new set is refused, the previous one stays.
    write(&dir.path().join("broken.yaml"), BROKEN);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.metric("palisade_policy_reload_errors_total").await < 1.0 {
        assert!(Instant::now() < deadline, "the broken set was not noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let still = server.validate(&review("s", object.clone(), None)).await;
    assert_eq!(still["allowed"], false, "{still}");
    let ready = server.text("/readyz").await;
    let broken = format!("{}:", dir.path().join("broken.yaml").display());
    assert!(
        ready.starts_with("ready\npolicies: 1 constraints"),
        "{ready}"
    );
    assert!(ready.contains("the last reload failed"), "{ready}");
    let error = ready
        .lines()
        .find(|l| l.trim_start().starts_with(&broken))
        .unwrap_or_else(|| panic!("{ready}"));
    // At the line of the Rego, in the file.
    let line: usize = error.trim_start()[broken.len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((14..=17).contains(&line), "{error}");
    assert!(error.contains("k8sbroken"), "{error}");
    let logged = server
        .log_lines()
        .into_iter()
        .any(|l| l["error"].as_str().is_some_and(|e| e.starts_with(&broken)));
    assert!(logged, "the error is logged with its file and line");
    // Unchanged files are not loaded (nor counted) again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.metric("palisade_policy_reload_errors_total").await,
        1.0
    );

    // Fixed: the new set loads, and the error is gone.
    std::fs::remove_file(dir.path().join("broken.yaml")).unwrap();
    std::fs::remove_file(dir.path().join("constraint.yaml")).unwrap();
    server.until(&object, |r| r["allowed"] == true).await;
    let ready = server.text("/readyz").await;
    assert_eq!(
        ready,
        "ready\npolicies: 0 constraints and 0 bindings in force\n"
    );
    server.running.shutdown().await.unwrap();
}

/// A directory as the kubelet mounts a ConfigMap: the files in a timestamped directory, a
/// `..data` link to it, and a link per key through `..data`.
#[cfg(unix)]
#[tokio::test]
async fn a_configmap_update_swapped_in_by_its_data_link_is_loaded() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let first = root.join("..2026_12_05_10_00_00.1");
    std::fs::create_dir(&first).unwrap();
    write(
        &first.join("template.yaml"),
        &example("allowed-repos/template.yaml"),
    );
    symlink("..2026_12_05_10_00_00.1", root.join("..data")).unwrap();
    symlink("..data/template.yaml", root.join("template.yaml")).unwrap();
    let server = serve_policies(
        vec![root.to_owned()],
        FailurePolicy::Fail,
        Duration::from_secs(2),
    )
    .await;
    let object = pod("web", vec![untrusted_container("app")]);
    let allowed = server.validate(&review("a", object.clone(), None)).await;
    assert_eq!(allowed["allowed"], true, "{allowed}");

    // The update: a new directory, the `..data` link replaced atomically, the old one removed.
    let second = root.join("..2026_12_05_10_05_00.2");
    std::fs::create_dir(&second).unwrap();
    write(
        &second.join("template.yaml"),
        &example("allowed-repos/template.yaml"),
    );
    write(
        &second.join("constraint.yaml"),
        &example("allowed-repos/constraint.yaml"),
    );
    symlink("..2026_12_05_10_05_00.2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    symlink("..data/constraint.yaml", root.join("constraint.yaml")).unwrap();
    std::fs::remove_dir_all(&first).unwrap();

    let denied = server.until(&object, |r| r["allowed"] == false).await;
    assert!(
        message(&denied).contains("- [AllowedRepositories/must-come-from-trusted-registry]"),
        "{denied}"
    );
    let ready = server.text("/readyz").await;
    assert!(ready.contains("1 constraints"), "{ready}");
    server.running.shutdown().await.unwrap();
}

#[test]
fn a_broken_set_is_refused_at_start_with_each_error_at_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("broken.yaml"), BROKEN);
    write(
        &dir.path().join("orphan.yaml"),
        &example("allowed-repos/constraint.yaml"),
    );
    let (state, _) = bare_state(RULES, "");
    let Err(error) = state.with_policies(vec![dir.path().to_owned()], FailurePolicy::Fail) else {
        panic!("a broken set loads");
    };
    assert_eq!(error.errors.len(), 2, "{error}");
    let shown = |file: &str| format!("{}:", dir.path().join(file).display());
    assert!(
        error.errors[0].starts_with(&shown("broken.yaml")),
        "{error}"
    );
    assert!(error.errors[0].contains("Rego does not compile"), "{error}");
    assert!(
        error.errors[1].starts_with(&format!("{}2:", shown("orphan.yaml"))),
        "{error}"
    );
    assert!(error.errors[1].contains("missing template"), "{error}");
    let missing = dir.path().join("missing");
    let (state, _) = bare_state(RULES, "");
    let Err(error) = state.with_policies(vec![missing.clone()], FailurePolicy::Fail) else {
        panic!("a missing directory loads");
    };
    assert_eq!(
        error.errors,
        [format!("{}: no such file or directory", missing.display())]
    );
}
