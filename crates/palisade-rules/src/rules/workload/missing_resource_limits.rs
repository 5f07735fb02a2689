use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, Fix, FixSafety, Framework, Reference, Severity};
use palisade_core::views::ContainerKind;
use serde_json::{json, Value};

use crate::fixes::Quantity;
use crate::rules::util::{describe, set_fields_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers without CPU or memory limits and requests.
    pub struct MissingResourceLimits;
    checks: Object,
    id: "POD004",
    slug: "missing-resource-limits",
    title: "Container has no CPU or memory requests and limits",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container does not set `resources.limits.memory`, `resources.limits.cpu`, \
`resources.requests.memory` or `resources.requests.cpu`. A request left unset next to its limit \
is not missing: the API server stores that limit as the request in every pod it admits, pods \
created from a template included. Limits are never filled from requests.",
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
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "A limit below what the container uses gets it OOM-killed or throttled, and a request \
the nodes cannot offer leaves the pod pending. The default values come from the configuration \
(`rules.default-resources`); where the container already sets a request or a limit, the value \
added keeps every request at or below its limit, as the API server requires.",
    }),
}

impl ObjectRule for MissingResourceLimits {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        let defaults = &cx.settings.default_resources;
        for container in &cx.containers {
            // Ephemeral containers cannot have resources.
            if container.kind == ContainerKind::Ephemeral {
                continue;
            }
            let resources = container.container.get("resources");
            let set = |section: &str, name: &str| {
                resources
                    .and_then(|r| r.get(section))
                    .and_then(|s| s.get(name))
                    .is_some_and(|v| !v.is_null())
            };
            // The API server copies a limit into its unset request, resource by resource, when
            // it admits a pod: a container with limits only runs with equal requests.
            let has = |section: &str, name: &str| {
                set(section, name) || (section == "requests" && set("limits", name))
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
                        describe(container),
                        missing.join(", ")
                    ),
                )
                .with_fix(cx.fix(|| resource_fix(cx, &container.field("resources"), &patch))),
            );
        }
    }
}

/// Adds each missing request and limit: the configured default, or where the other side is
/// set, a value that keeps the request at or below the limit (the API server refuses a request
/// above its limit).
fn resource_fix(cx: &ObjectCx<'_>, pointer: &str, missing: &[(&str, &str, String)]) -> Option<Fix> {
    let resources = cx.object.value.at(pointer).filter(|v| v.is_object());
    let existing = |section: &str, name: &str| {
        let value = resources?.get(section)?.get(name)?;
        Some((value, Quantity::parse(value)?))
    };
    let mut fields = Vec::new();
    for (section, name, default) in missing {
        let value = Value::String(default.clone());
        let chosen = match (Quantity::parse(&value), *section) {
            (Some(default), "limits") => match existing("requests", name) {
                Some((request, at)) if at > default => request.clone(),
                _ => value,
            },
            (Some(default), _) => match existing("limits", name) {
                Some((limit, at)) if at < default => limit.clone(),
                _ => value,
            },
            (None, _) => value,
        };
        fields.push((format!("{pointer}/{section}/{name}"), chosen));
    }
    // An empty or missing `resources` is written as one mapping.
    if resources.is_none_or(|r| r.as_object().is_some_and(|m| m.is_empty())) {
        let mut whole = json!({});
        for (field, value) in &fields {
            let (section, name) = field[pointer.len() + 1..].split_once('/')?;
            whole
                .as_object_mut()?
                .entry(section)
                .or_insert_with(|| json!({}))
                .as_object_mut()?
                .insert(name.to_owned(), value.clone());
        }
        fields = vec![(pointer.to_owned(), whole)];
    }
    set_fields_fix(
        cx.object,
        fields,
        Vec::new(),
        "add the default CPU and memory requests and limits".to_owned(),
        Applicability::Unsafe,
    )
}
