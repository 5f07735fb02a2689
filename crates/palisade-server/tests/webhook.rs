//! /validate and /mutate over real HTTPS: verdicts, modes, namespaces, updates, patches.

mod common;

use base64::Engine as _;
use common::*;
use palisade_core::patch::{apply, PatchOp};
use serde_json::{json, Value};

#[tokio::test]
async fn allows_a_good_pod_and_denies_a_privileged_one() {
    let server = serve(RULES, "").await;
    let ok = server
        .validate(&review(
            "u-1",
            pod("web", vec![good_container("app")]),
            None,
        ))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");
    assert!(ok.get("status").is_none());
    assert!(ok.get("warnings").is_none());

    let bad = server
        .validate(&review(
            "u-2",
            pod("root", vec![good_container("a"), privileged_container("b")]),
            None,
        ))
        .await;
    assert_eq!(bad["allowed"], false, "{bad}");
    assert_eq!(bad["status"]["code"], 403);
    let message = bad["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("palisade denied Pod team-a/root"),
        "{message}"
    );
    assert!(
        message.contains("POD001 privileged-container (critical) at spec.containers[1].securityContext.privileged"),
        "{message}"
    );
    assert!(!message.contains("containers[0]"), "{message}");
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn judges_deployments_by_their_pod_template() {
    let server = serve(RULES, "").await;
    let ok = server
        .validate(&review(
            "d-1",
            deployment("api", vec![good_container("api")]),
            None,
        ))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");

    let mut latest = good_container("api");
    latest["image"] = json!("nginx:latest");
    latest["volumeMounts"] = json!([{"name": "host", "mountPath": "/host"}]);
    let mut object = deployment("api", vec![latest]);
    object["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "host", "hostPath": {"path": "/"}}]);
    let bad = server.validate(&review("d-2", object, None)).await;
    assert_eq!(bad["allowed"], false);
    let message = bad["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("Deployment team-a/api: 2 findings"),
        "{message}"
    );
    assert!(message.contains("IMG001"), "{message}");
    assert!(
        message.contains(
            "POD003 host-path-volume (critical) at spec.template.spec.volumes[0].hostPath"
        ),
        "{message}"
    );
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn warn_and_audit_modes_allow_with_warnings_and_annotations() {
    let server = serve(
        RULES,
        "webhook:\n  rules:\n    POD004: warn\n    IMG001: audit\n",
    )
    .await;
    let mut c = good_container("app");
    c.as_object_mut().unwrap().remove("resources");
    c["image"] = json!("nginx");
    let response = server
        .validate(&review("w-1", pod("web", vec![c]), None))
        .await;
    assert_eq!(response["allowed"], true, "{response}");
    let warnings = warnings(&response);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("POD004 missing-resource-limits: ")
            && warnings[0].ends_with("(at spec.containers[0])"),
        "{warnings:?}"
    );
    assert_eq!(
        response["auditAnnotations"]["findings"],
        "IMG001 at spec.containers[0].image"
    );
    // The log line and the metrics record the audited finding too.
    let line = server
        .log_lines()
        .into_iter()
        .find(|l| l["uid"] == "w-1")
        .unwrap();
    let modes: Vec<(&str, &str)> = line["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["mode"].as_str().unwrap()))
        .collect();
    assert_eq!(modes, [("IMG001", "audit"), ("POD004", "warn")]);
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"palisade_admission_findings_total{endpoint="validate",rule="IMG001",mode="audit"} 1"#
        ),
        "{metrics}"
    );
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn namespace_modes_and_exemptions() {
    let server = serve(
        RULES,
        "webhook:\n  exempt-namespaces: [kube-system, palisade]\n  namespaces:\n    sandbox-*:\n      mode: warn\n    strict:\n      rules: {POD001: off}\n",
    )
    .await;
    let at = |ns: &str| {
        let mut object = pod("p", vec![privileged_container("c")]);
        object["metadata"]["namespace"] = json!(ns);
        review(&format!("ns-{ns}"), object, None)
    };
    assert_eq!(server.validate(&at("team-a")).await["allowed"], false);
    let exempt = server.validate(&at("kube-system")).await;
    assert_eq!(exempt["allowed"], true);
    assert!(exempt.get("warnings").is_none());
    let sandbox = server.validate(&at("sandbox-1")).await;
    assert_eq!(sandbox["allowed"], true);
    assert!(warnings(&sandbox)[0].starts_with("POD001"), "{sandbox}");
    let off = server.validate(&at("strict")).await;
    assert_eq!(off["allowed"], true);
    assert!(off.get("warnings").is_none(), "{off}");
    // Exempt requests are logged as not checked.
    let logs = server.log_lines();
    let line = logs.iter().find(|l| l["uid"] == "ns-kube-system").unwrap();
    assert_eq!(line["checked"], false);
    assert_eq!(line["allowed"], true);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_namespace_of_the_request_counts_when_the_object_has_none() {
    let server = serve(
        RULES,
        "webhook:\n  exempt-namespaces: [ops]\n  namespaces:\n    dev: {mode: warn}\n",
    )
    .await;
    let mut object = pod("p", vec![privileged_container("c")]);
    object["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let mut request = review("n-1", object, None);
    request["request"]["namespace"] = json!("dev");
    let response = server.validate(&request).await;
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(warnings(&response).len(), 1);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn enforce_severity_and_fail_on_pick_what_denies() {
    // POD004 is medium: below `fail-on: high` it warns, at and above it denies.
    let mut c = good_container("app");
    c.as_object_mut().unwrap().remove("resources");
    let object = pod("web", vec![c]);
    let server = serve(&format!("{RULES}fail-on: high\n"), "").await;
    let response = server.validate(&review("s-1", object.clone(), None)).await;
    assert_eq!(response["allowed"], true);
    assert!(warnings(&response)[0].starts_with("POD004"));
    server.running.shutdown().await.unwrap();

    let server = serve(
        &format!("{RULES}fail-on: high\n"),
        "webhook:\n  enforce-severity: medium\n",
    )
    .await;
    let response = server.validate(&review("s-2", object, None)).await;
    assert_eq!(response["allowed"], false);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn updates_that_do_not_make_things_worse() {
    let old = pod("p", vec![privileged_container("c")]);
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"team": "a"});
    let mut worse = old.clone();
    worse["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(privileged_container("d"));

    // Judged like a new object by default.
    let server = serve(RULES, "").await;
    let response = server
        .validate(&review("up-1", relabelled.clone(), Some(old.clone())))
        .await;
    assert_eq!(response["allowed"], false);
    server.running.shutdown().await.unwrap();

    let server = serve(RULES, "webhook:\n  updates: no-worse\n").await;
    let response = server
        .validate(&review("up-2", relabelled, Some(old.clone())))
        .await;
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        warnings(&response)[0].contains("[already present, allowed on update]"),
        "{response}"
    );
    let response = server.validate(&review("up-3", worse, Some(old))).await;
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(message.contains("1 finding\n"), "{message}");
    assert!(message.contains("spec.containers[1]"), "{message}");
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn delete_connect_and_subresources_are_allowed_unchecked() {
    let server = serve(RULES, "").await;
    let bad = pod("p", vec![privileged_container("c")]);
    let mut delete = review("x-1", Value::Null, None);
    delete["request"]["operation"] = json!("DELETE");
    delete["request"]["oldObject"] = bad.clone();
    assert_eq!(server.validate(&delete).await["allowed"], true);

    let mut status = review("x-2", bad.clone(), Some(bad.clone()));
    status["request"]["subResource"] = json!("status");
    assert_eq!(server.validate(&status).await["allowed"], true);

    let mut exec = review(
        "x-3",
        json!({"kind": "PodExecOptions", "apiVersion": "v1", "command": ["sh"]}),
        None,
    );
    exec["request"]["operation"] = json!("CONNECT");
    exec["request"]["subResource"] = json!("exec");
    assert_eq!(server.validate(&exec).await["allowed"], true);

    // Adding a privileged ephemeral container is judged: the subresource carries the Pod.
    let mut debug = pod("p", vec![good_container("c")]);
    let mut ephemeral = privileged_container("debugger");
    ephemeral.as_object_mut().unwrap().remove("resources");
    debug["spec"]["ephemeralContainers"] = json!([ephemeral]);
    let mut request = review("x-4", debug, Some(pod("p", vec![good_container("c")])));
    request["request"]["subResource"] = json!("ephemeralcontainers");
    let response = server.validate(&request).await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(response["status"]["message"]
        .as_str()
        .unwrap()
        .contains("spec.ephemeralContainers[0]"));
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn dry_run_is_judged_and_logged() {
    let server = serve(RULES, "").await;
    let mut request = review("dry-1", pod("p", vec![privileged_container("c")]), None);
    request["request"]["dryRun"] = json!(true);
    assert_eq!(server.validate(&request).await["allowed"], false);
    let logs = server.log_lines();
    let line = logs.iter().find(|l| l["uid"] == "dry-1").unwrap();
    assert_eq!(line["dry_run"], true);
    assert_eq!(line["allowed"], false);
    assert_eq!(line["user"], "alice");
    assert_eq!(line["kind"], "Pod");
    assert_eq!(line["namespace"], "team-a");
    assert_eq!(line["findings"][0]["rule"], "POD001");
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_ignore_annotation_is_honoured_only_when_configured() {
    let mut object = pod("p", vec![privileged_container("c")]);
    object["metadata"]["annotations"] =
        json!({"palisade.dev/ignore": "POD001", "palisade.dev/ignore-reason": "trust me"});
    let server = serve(RULES, "").await;
    assert_eq!(
        server.validate(&review("i-1", object.clone(), None)).await["allowed"],
        false
    );
    server.running.shutdown().await.unwrap();
    let server = serve(RULES, "webhook:\n  honor-ignore-annotations: true\n").await;
    assert_eq!(
        server.validate(&review("i-2", object, None)).await["allowed"],
        true
    );
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn suppressions_from_the_rules_config_apply() {
    let rules = format!(
        "{RULES}suppressions:\n- rule: POD001\n  namespace: team-a\n  name: node-agent\n  reason: needs the host\n"
    );
    let server = serve(&rules, "").await;
    let agent = server
        .validate(&review(
            "sup-1",
            pod("node-agent", vec![privileged_container("c")]),
            None,
        ))
        .await;
    assert_eq!(agent["allowed"], true, "{agent}");
    let other = server
        .validate(&review(
            "sup-2",
            pod("other", vec![privileged_container("c")]),
            None,
        ))
        .await;
    assert_eq!(other["allowed"], false);
    server.running.shutdown().await.unwrap();
}

fn decode_patch(response: &Value) -> Vec<PatchOp> {
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn mutate_returns_patches_that_apply_and_make_the_object_pass() {
    let webhook = "webhook:\n  mutate: [POD002, POD004]\n";
    let server = serve(RULES, webhook).await;
    let bare = |name: &str| json!({"name": name, "image": "registry.example.com/app:1.0"});
    let mut with_context = bare("b");
    with_context["securityContext"] = json!({"runAsNonRoot": true});
    let objects = [
        pod("web", vec![bare("a"), with_context.clone()]),
        deployment("api", vec![bare("a"), with_context]),
    ];
    for (i, object) in objects.into_iter().enumerate() {
        let before = server
            .validate(&review(&format!("m-{i}-a"), object.clone(), None))
            .await;
        assert_eq!(before["allowed"], false);

        let response = server
            .mutate(&review(&format!("m-{i}"), object.clone(), None))
            .await;
        assert_eq!(response["allowed"], true);
        let patch = decode_patch(&response);
        assert!(!patch.is_empty());
        // One warning per applied fix: two rules on two containers.
        assert_eq!(warnings(&response).len(), 4, "{response}");
        let mut patched = object.clone();
        apply(&mut patched, &patch).expect("the patch applies in order");
        let after = server
            .validate(&review(&format!("m-{i}-b"), patched.clone(), None))
            .await;
        assert_eq!(after["allowed"], true, "{after}\n{patched:#}");
        // Fields the fixes did not touch are kept.
        let spec = if i == 0 {
            &patched["spec"]
        } else {
            &patched["spec"]["template"]["spec"]
        };
        assert_eq!(
            spec["containers"][1]["securityContext"]["runAsNonRoot"],
            true
        );
    }
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn mutate_leaves_alone_what_is_not_configured() {
    let server = serve(
        RULES,
        "webhook:\n  mutate: [POD002]\n  exempt-namespaces: [ops]\n",
    )
    .await;
    let object = pod(
        "web",
        vec![json!({"name": "a", "image": "registry.example.com/app:1.0"})],
    );
    let response = server.mutate(&review("mm-1", object.clone(), None)).await;
    let patch = decode_patch(&response);
    let paths: Vec<&str> = patch.iter().map(|op| op.path()).collect();
    assert!(paths.iter().all(|p| !p.contains("resources")), "{paths:?}");

    // Good objects, exempt namespaces and updates get no patch.
    let good = server
        .mutate(&review("mm-2", pod("ok", vec![good_container("a")]), None))
        .await;
    assert_eq!(good["allowed"], true);
    assert!(good.get("patch").is_none());
    let mut exempt = object.clone();
    exempt["metadata"]["namespace"] = json!("ops");
    let response = server.mutate(&review("mm-3", exempt, None)).await;
    assert!(response.get("patch").is_none());
    let response = server
        .mutate(&review("mm-4", object.clone(), Some(object)))
        .await;
    assert_eq!(response["allowed"], true);
    assert!(response.get("patch").is_none());
    // Mutation never denies, even a privileged pod.
    let response = server
        .mutate(&review(
            "mm-5",
            pod("p", vec![privileged_container("c")]),
            None,
        ))
        .await;
    assert_eq!(response["allowed"], true);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn answers_and_logs_never_carry_the_credentials_found() {
    let server = serve("select: [SEC001, SEC002]\n", "").await;
    let mut container = good_container("c");
    container["image"] = json!("admin:Sup3rS3cretValue42@registry.example.com/app:1.0");
    container["env"] = json!([
        {"name": "DB_PASSWORD", "value": "An0therS3cretValue99"},
        {"name": "DB_URL", "value": "postgres://app:Th1rdS3cretValue77@db.example.com/app"}
    ]);
    let response = server
        .validate(&review("secret", pod("p", vec![container]), None))
        .await;
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("SEC001") && message.contains("SEC002"),
        "{message}"
    );
    let logs = String::from_utf8(server.logs.lock().unwrap().clone()).unwrap();
    for secret in [
        "Sup3rS3cretValue42",
        "An0therS3cretValue99",
        "Th1rdS3cretValue77",
    ] {
        assert!(!response.to_string().contains(secret), "{response}");
        assert!(!logs.contains(secret), "{logs}");
    }
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn mutate_applies_unsafe_fixes_only_of_the_rules_it_names() {
    let object = pod(
        "web",
        vec![json!({"name": "a", "image": "registry.example.com/app:1.0"})],
    );
    let touched = |response: &Value| {
        let patch = decode_patch(response);
        let mut patched = object.clone();
        apply(&mut patched, &patch).expect("the patch applies in order");
        let container = patched["spec"]["containers"][0].clone();
        (
            container["securityContext"]["allowPrivilegeEscalation"].clone(),
            container.get("resources").is_some(),
        )
    };
    // A category brings the safe fixes of its rules: POD002's, not POD004's.
    let server = serve(RULES, "webhook:\n  mutate: [workload]\n").await;
    let response = server.mutate(&review("mu-1", object.clone(), None)).await;
    assert_eq!(touched(&response), (json!(false), false), "{response}");
    server.running.shutdown().await.unwrap();
    // Named by ID (or slug), a rule's unsafe fixes apply too.
    for named in ["POD004", "missing-resource-limits"] {
        let config = format!("webhook:\n  mutate: [workload, {named}]\n");
        let server = serve(RULES, &config).await;
        let response = server.mutate(&review("mu-2", object.clone(), None)).await;
        assert_eq!(touched(&response), (json!(false), true), "{response}");
        server.running.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn mutate_never_returns_a_patch_that_makes_the_object_invalid() {
    let server = serve(RULES, "webhook:\n  mutate: [POD002, POD004]\n").await;
    // The issue's cases: a privileged container, where the API server refuses
    // `allowPrivilegeEscalation: false`, and requests the default limits would fall below.
    let object = pod(
        "agent",
        vec![json!({
            "name": "a",
            "image": "registry.example.com/app:1.0",
            "securityContext": {"privileged": true},
            "resources": {"requests": {"memory": "800Mi"}, "limits": {"cpu": "50m"}}
        })],
    );
    let response = server.mutate(&review("mi-1", object.clone(), None)).await;
    assert_eq!(response["allowed"], true);
    let patch = decode_patch(&response);
    let mut patched = object.clone();
    apply(&mut patched, &patch).expect("the patch applies in order");
    assert_eq!(
        palisade_rules::fixes::violations(&patched),
        Vec::new(),
        "{patched:#}"
    );
    let container = &patched["spec"]["containers"][0];
    assert!(
        container["securityContext"]
            .get("allowPrivilegeEscalation")
            .is_none(),
        "{patched:#}"
    );
    // The missing limit keeps the request at or below it; the cpu request is left unset, as the
    // API server copies the cpu limit into it.
    assert_eq!(
        container["resources"],
        json!({"requests": {"memory": "800Mi"}, "limits": {"cpu": "50m", "memory": "800Mi"}})
    );
    let warnings = warnings(&response);
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "POD002 allow-privilege-escalation: not changed by palisade: the object would be invalid: \
             spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false"
        )),
        "{warnings:?}"
    );
    server.running.shutdown().await.unwrap();
}
