//! The manifests in `deploy/`: their embedded configuration parses, and they pass every rule.

use std::path::{Path, PathBuf};

use palisade_core::rule::Severity;
use palisade_core::{decode_first_document, load_path, Limits, Object};
use palisade_rules::{Config, Engine};
use palisade_server::{Mode, UpdatePolicy, WebhookConfig};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn objects() -> Vec<Object> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let loaded = load_path(&file, &file.display().to_string(), &Limits::default());
        assert!(loaded.errors.is_empty(), "{file:?}: {:?}", loaded.errors);
        objects.extend(loaded.objects);
    }
    objects
}

#[test]
fn the_deployed_configuration_parses() {
    let objects = objects();
    let map = objects
        .iter()
        .find(|o| o.kind() == "ConfigMap" && o.name() == "palisade-config")
        .expect("the ConfigMap");
    let data = &map.value["data"];
    let rules = Config::parse(data["palisade.yaml"].as_str().unwrap(), "palisade.yaml").unwrap();
    assert_eq!(rules.fail_on, Some(Severity::High));
    let webhook =
        WebhookConfig::parse(data["webhook.yaml"].as_str().unwrap(), "webhook.yaml").unwrap();
    assert!(webhook.exempt(Some("palisade")));
    assert!(webhook.exempt(Some("kube-system")));
    assert!(webhook.mutates("POD002"));
    assert_eq!(webhook.updates, UpdatePolicy::NoWorse);
    assert_eq!(
        webhook.mode("POD020", Severity::Info, Some("a")),
        Mode::Audit
    );

    // The chart's defaults too.
    let values = std::fs::read_to_string(deploy().join("helm/palisade/values.yaml")).unwrap();
    let values = decode_first_document(&values, &Limits::default())
        .unwrap()
        .unwrap();
    Config::parse(values["rulesConfig"].as_str().unwrap(), "rulesConfig").unwrap();
    let webhook =
        WebhookConfig::parse(values["webhookConfig"].as_str().unwrap(), "webhookConfig").unwrap();
    assert!(webhook.exempt(Some("kube-system")));
}

#[test]
fn the_manifests_pass_every_rule() {
    let objects = objects();
    assert!(objects.iter().any(|o| o.kind() == "Deployment"));
    assert!(objects
        .iter()
        .any(|o| o.kind() == "ValidatingWebhookConfiguration"));
    let engine = Engine::new(&Config::default(), &[], &[]).unwrap();
    let mut findings: Vec<String> = objects
        .iter()
        .flat_map(|o| engine.check_object(o))
        .map(|f| format!("{} {} {}", f.rule.id, f.object, f.message))
        .collect();
    let kept: Vec<Object> = objects
        .into_iter()
        .filter(|o| engine.keep_for_inventory(o))
        .collect();
    findings.extend(
        engine
            .check_inventory(&kept)
            .into_iter()
            .map(|f| format!("{} {} {}", f.rule.id, f.object, f.message)),
    );
    assert!(findings.is_empty(), "{findings:#?}");
}

/// The seconds of a `--name=N` argument of the webhook container.
fn seconds_arg(args: &[serde_json::Value], name: &str) -> u64 {
    args.iter()
        .filter_map(|a| a.as_str()?.strip_prefix(&format!("--{name}=")))
        .find_map(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("--{name} is set"))
}

#[test]
fn the_webhook_stops_within_its_termination_grace_period() {
    let objects = objects();
    let deployment = objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == "palisade")
        .expect("the Deployment");
    let pod = &deployment.value["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args = container["args"].as_array().unwrap();
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .expect("a preStop sleep");
    let drain = seconds_arg(args, "drain");
    let grace = seconds_arg(args, "grace");
    assert!(pre_stop > 0 && drain > 0);
    let period = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        pre_stop + drain + grace < period,
        "{pre_stop} + {drain} + {grace} must stay under {period}"
    );
}
