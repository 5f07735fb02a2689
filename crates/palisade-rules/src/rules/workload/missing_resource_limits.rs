use palisade_core::pointer::At;
use palisade_core::rule::{Fix, Framework, Reference, RuleMeta, Severity};
use palisade_core::views::ContainerKind;
use serde_json::{json, Value};

use crate::rules::util::{describe, pod};
use crate::{Emit, ObjectCx, Rule};

/// Containers without CPU or memory limits and requests.
pub struct MissingResourceLimits;

static META: RuleMeta = RuleMeta {
    id: "POD004",
    slug: "missing-resource-limits",
    title: "Container has no CPU or memory requests and limits",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container does not set `resources.limits.memory`, `resources.limits.cpu`, \
`resources.requests.memory` or `resources.requests.cpu`.",
    rationale: "Without limits one container can exhaust its node's memory or CPU, by a bug, a \
traffic spike or on purpose (cryptomining, denial of service), and the kubelet then evicts its \
neighbours. Without requests the scheduler packs pods blindly. Memory limits matter most: CPU is \
throttled, memory is not.",
    remediation: "Set requests and limits for CPU and memory on every container (or a \
LimitRange in the namespace):\n\n```yaml\nresources:\n  requests: {cpu: 100m, memory: 128Mi}\n  \
limits: {cpu: 500m, memory: 512Mi}\n```\n\n`palisade fix` inserts the defaults configured under \
`rules.default-resources`.",
    references: &[
        Reference::new(Framework::Cis, "5.7.x (resource quotas and limits)"),
        Reference::new(Framework::NsaCisa, "Pod security: resource policies"),
        Reference::url(
            Framework::Mitre,
            "T1496",
            "https://attack.mitre.org/techniques/T1496/",
        ),
    ],
    fixable: true,
};

impl Rule for MissingResourceLimits {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = pod(cx.object) else { return };
        let defaults = &cx.settings.default_resources;
        for container in spec.containers() {
            // Ephemeral containers cannot have resources.
            if container.kind == ContainerKind::Ephemeral {
                continue;
            }
            let resources = container.container.get("resources");
            let has = |section: &str, name: &str| {
                resources
                    .and_then(|r| r.get(section))
                    .and_then(|s| s.get(name))
                    .is_some_and(|v| !v.is_null())
            };
            let mut missing = Vec::new();
            let mut patch = Vec::new();
            for (section, name, default) in [
                ("requests", "cpu", &defaults.cpu_request),
                ("requests", "memory", &defaults.memory_request),
                ("limits", "cpu", &defaults.cpu_limit),
                ("limits", "memory", &defaults.memory_limit),
            ] {
                if !has(section, name) {
                    missing.push(format!("{section}.{name}"));
                    patch.push((section, name, default.clone()));
                }
            }
            if missing.is_empty() {
                continue;
            }
            let at = if resources.is_some_and(Value::is_object) {
                container.field("resources")
            } else {
                container.pointer.clone()
            };
            out.push(
                Emit::new(
                    at,
                    format!(
                        "{} has no resources {}; set CPU and memory requests and limits",
                        describe(&container),
                        missing.join(", ")
                    ),
                )
                .with_fix(resource_fix(cx, &container.field("resources"), &patch)),
            );
        }
    }
}

fn resource_fix(cx: &ObjectCx<'_>, pointer: &str, missing: &[(&str, &str, String)]) -> Option<Fix> {
    let mut resources = cx
        .object
        .value
        .at(pointer)
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    for (section, name, value) in missing {
        let entry = resources
            .as_object_mut()?
            .entry(section.to_string())
            .or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        entry
            .as_object_mut()?
            .insert(name.to_string(), Value::String(value.clone()));
    }
    let patch = palisade_core::patch::set_ops(&cx.object.value, pointer, resources);
    Some(Fix {
        description: "add the default CPU and memory requests and limits".to_owned(),
        patch,
    })
}
