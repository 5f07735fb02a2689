//! `kubectl palisade cluster scan`: the real kubectl runs palisade as its plugin, against the
//! test API server; the scanner's RBAC and the krew manifest in `deploy/` are checked too.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use palisade_testserver::TestServer;
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kubectl_found() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok();
    if !found {
        eprintln!("SKIPPED: kubectl is not on PATH, so nothing was checked");
    }
    found
}

#[test]
fn kubectl_runs_palisade_as_its_plugin() {
    if !kubectl_found() {
        return;
    }
    let server = TestServer::builder()
        .fixture(&root().join("crates/palisade-testserver/fixtures/extras.yaml"))
        .unwrap()
        .start();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(cargo_bin("palisade"), bin.join("kubectl-palisade")).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let listed = kubectl(&["plugin", "list"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("kubectl-palisade"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let output = kubectl(&[
        "palisade",
        "cluster",
        "scan",
        "--no-config",
        "--select",
        "host-namespaces",
        "-f",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"][0]["object"]["name"], "debug");
    assert_eq!(report["findings"][0]["pointer"], "/spec/hostNetwork");

    let help = kubectl(&["palisade", "cluster", "scan", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Usage: kubectl palisade cluster scan"),
        "{help}"
    );
}

#[test]
fn the_scanner_rbac_reads_every_kind_the_rules_read_but_secrets_and_is_clean() {
    let rbac = root().join("deploy/scanner/rbac.yaml");
    let text = std::fs::read_to_string(&rbac).unwrap();
    let loaded = palisade_core::load_str(&text, "rbac.yaml", &palisade_core::Limits::default());
    assert!(loaded.errors.is_empty());
    let role = loaded
        .objects
        .iter()
        .find(|o| o.kind() == "ClusterRole" && o.name() == "palisade-scanner")
        .unwrap();
    let mut granted = Vec::new();
    for rule in role.value["rules"].as_array().unwrap() {
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(verbs, ["get", "list", "watch"], "read-only");
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                granted.push(format!(
                    "{}/{}",
                    group.as_str().unwrap(),
                    resource.as_str().unwrap()
                ));
            }
        }
    }
    assert!(!granted.iter().any(|g| g.ends_with("/secrets")));
    // Every kind the rules read (the test server knows the built-in ones), but Secrets.
    let server = TestServer::builder().start();
    let rules = Command::new(cargo_bin("palisade"))
        .args(["rules", "-f", "json"])
        .output()
        .unwrap();
    let rules: Value = serde_json::from_slice(&rules.stdout).unwrap();
    let kinds: Vec<String> = rules
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["kinds"].as_array().unwrap().iter())
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    for resource in server.resources() {
        if resource.kind == "Secret" || !kinds.contains(&resource.kind) {
            continue;
        }
        let wanted = format!("{}/{}", resource.group, resource.plural);
        assert!(granted.contains(&wanted), "{wanted} is not granted");
    }
    let scan = Command::new(cargo_bin("palisade"))
        .args(["scan", "--no-config"])
        .arg(root().join("deploy"))
        .output()
        .unwrap();
    assert_eq!(
        scan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );
}

#[test]
fn the_krew_manifest_renders_with_each_archive_digest() {
    let dir = tempfile::tempdir().unwrap();
    let template = std::fs::read_to_string(root().join("deploy/krew/palisade.yaml")).unwrap();
    let targets: Vec<&str> = template
        .split("@SHA256_")
        .skip(1)
        .map(|rest| rest.split('@').next().unwrap())
        .collect();
    assert_eq!(targets.len(), 3);
    for target in &targets {
        std::fs::write(
            dir.path().join(format!("palisade-v1.2.3-{target}.tar.gz")),
            target.as_bytes(),
        )
        .unwrap();
    }
    let output = Command::new("bash")
        .arg(root().join("deploy/krew/render.sh"))
        .arg("v1.2.3")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains('@'), "{text}");
    let loaded = palisade_core::load_str(&text, "krew", &palisade_core::Limits::default());
    let plugin = &loaded.objects[0].value;
    assert_eq!(plugin["kind"], "Plugin");
    assert_eq!(plugin["spec"]["version"], "v1.2.3");
    let platforms = plugin["spec"]["platforms"].as_array().unwrap();
    // sha256 of the text "x86_64-unknown-linux-musl" (the fake archive's content).
    let linux = platforms
        .iter()
        .find(|p| {
            p["uri"]
                .as_str()
                .unwrap()
                .contains("x86_64-unknown-linux-musl")
        })
        .unwrap();
    let sum = Command::new("sha256sum")
        .arg(
            dir.path()
                .join("palisade-v1.2.3-x86_64-unknown-linux-musl.tar.gz"),
        )
        .output()
        .unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    assert_eq!(linux["sha256"], sum.split_whitespace().next().unwrap());
    assert!(platforms.iter().all(|p| p["bin"] == "palisade"));

    // A missing archive is an error.
    std::fs::remove_file(
        dir.path()
            .join("palisade-v1.2.3-aarch64-apple-darwin.tar.gz"),
    )
    .unwrap();
    let output = Command::new("bash")
        .arg(root().join("deploy/krew/render.sh"))
        .arg("v1.2.3")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[test]
fn the_watch_manifests_render_and_write_only_reports_and_their_lease() {
    if !kubectl_found() {
        return;
    }
    let rendered = Command::new("kubectl")
        .arg("kustomize")
        .arg(root().join("deploy/watch"))
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let text = String::from_utf8(rendered.stdout).unwrap();
    let loaded = palisade_core::load_str(&text, "watch", &palisade_core::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let find = |kind: &str, name: &str| {
        loaded
            .objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("{kind} {name} missing"))
    };
    let deployment = find("Deployment", "palisade-watch");
    assert_eq!(deployment.value["spec"]["replicas"], 2);
    let args = &deployment.value["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[0], "cluster");
    assert_eq!(args[1], "watch");
    find("PodDisruptionBudget", "palisade-watch");
    find("NetworkPolicy", "watch");
    find("CustomResourceDefinition", "policyreports.wgpolicyk8s.io");
    find(
        "CustomResourceDefinition",
        "clusterpolicyreports.wgpolicyk8s.io",
    );
    // Reading goes through the scanner's read-only role; writing is the report kinds and the
    // Lease only.
    assert_eq!(
        find("ClusterRoleBinding", "palisade-watch-read").value["roleRef"]["name"],
        "palisade-scanner"
    );
    for object in &loaded.objects {
        if !matches!(object.kind(), "ClusterRole" | "Role") {
            continue;
        }
        for rule in object.value["rules"].as_array().unwrap() {
            let writes = rule["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| !matches!(v.as_str().unwrap(), "get" | "list" | "watch"));
            if writes {
                let resources: Vec<&str> = rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect();
                assert!(
                    resources
                        .iter()
                        .all(|r| matches!(*r, "policyreports" | "clusterpolicyreports" | "leases")),
                    "{} {} writes {resources:?}",
                    object.kind(),
                    object.name()
                );
            }
        }
    }
}

#[test]
fn the_opt_in_secrets_role_grants_listing_secrets_to_the_scanner_only_when_applied() {
    let text = std::fs::read_to_string(root().join("deploy/scanner/secrets.yaml")).unwrap();
    let loaded = palisade_core::load_str(&text, "secrets.yaml", &palisade_core::Limits::default());
    assert!(loaded.errors.is_empty());
    let role = loaded
        .objects
        .iter()
        .find(|o| o.kind() == "ClusterRole")
        .unwrap();
    assert_eq!(
        role.value["rules"],
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}])
    );
    let binding = loaded
        .objects
        .iter()
        .find(|o| o.kind() == "ClusterRoleBinding")
        .unwrap();
    assert_eq!(
        binding.value["roleRef"]["name"],
        role.value["metadata"]["name"]
    );
    assert_eq!(
        binding.value["subjects"],
        json!([{"kind": "ServiceAccount", "name": "palisade-scanner", "namespace": "palisade"}])
    );
    // Opt-in: the kustomization of the read-only scanner does not include it.
    let kustomization =
        std::fs::read_to_string(root().join("deploy/scanner/kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("secrets.yaml"));
}
