use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::views::{kinds, WORKLOAD_KINDS};
use serde_json::Value;

use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers and Services that expose SSH.
    pub struct SshPortExposed;
    checks: Object,
    id: "SVC008",
    slug: "ssh-port-exposed",
    title: "Container or Service exposes SSH",
    severity: Severity::Medium,
    category: "exposure",
    kinds: &kinds::<{ WORKLOAD_KINDS.len() + 1 }>(&["Service"], false),
    summary: "A container declares port 22 (`containerPort: 22`) or a port named `ssh`, or a \
Service has a port whose `port` or `targetPort` is 22, or that is named `ssh` or targets the \
named port `ssh`. Each port entry is reported once, at the field that shows SSH.",
    rationale: "An SSH server in a container is a second way in that bypasses the cluster's \
access control and audit log (`kubectl exec` is authorised by RBAC and recorded), usually with \
long-lived keys or passwords baked into the image. SSH is among the first ports scanners try, \
and a Service makes it reachable from every pod, or from outside the cluster.",
    remediation: "Remove the SSH server from the image and use `kubectl exec` or \
`kubectl debug` for interactive access. If SSH is the service itself (a Git server, a \
bastion), suppress the finding for it with a reason, keep the Service internal and restrict \
its clients with a NetworkPolicy.",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::url(
            Framework::Mitre,
            "T1021.004",
            "https://attack.mitre.org/techniques/T1021/004/",
        ),
    ],
    fix: None,
}

/// Whether a port field is 22 (a number, or a numeric string).
fn is_22(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Number(n)) => n.as_u64() == Some(22),
        Some(Value::String(s)) => s.trim() == "22",
        _ => false,
    }
}

/// A port number as written, or `?`.
fn number(value: Option<&Value>) -> String {
    match value {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "?".to_owned(),
    }
}

fn is_ssh(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str) == Some("ssh")
}

impl ObjectRule for SshPortExposed {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.kind() == "Service" {
            let Some(Value::Array(ports)) = cx.object.value.at("/spec/ports") else {
                return;
            };
            for (index, port) in ports.iter().enumerate() {
                let field = if is_22(port.get("port")) {
                    "port"
                } else if is_22(port.get("targetPort")) || is_ssh(port.get("targetPort")) {
                    "targetPort"
                } else if is_ssh(port.get("name")) {
                    "name"
                } else {
                    continue;
                };
                out.push(Emit::new(
                    format!("/spec/ports/{index}/{field}"),
                    format!(
                        "Service exposes SSH on port {}; use kubectl exec instead, or keep the \
Service internal and restrict its clients",
                        number(port.get("port"))
                    ),
                ));
            }
            return;
        }
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            let Some(Value::Array(ports)) = container.container.get("ports") else {
                continue;
            };
            for (index, port) in ports.iter().enumerate() {
                let field = if is_22(port.get("containerPort")) {
                    "containerPort"
                } else if is_ssh(port.get("name")) {
                    "name"
                } else {
                    continue;
                };
                out.push(Emit::new(
                    container.field(&format!("ports/{index}/{field}")),
                    format!(
                        "{} exposes SSH on port {}; remove the SSH server and use kubectl exec",
                        describe(container),
                        number(port.get("containerPort"))
                    ),
                ));
            }
        }
    }
}
