//! Configuration checks over the whole input, for the scan rules.

use crate::engine::np_selects;
use crate::model::{Input, NpPeer, PortSpec};
use crate::sets::{parse_ipv4, IntervalSet, Protocol};

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// A namespace with workloads and no default-deny ingress policy.
    NoDefaultDenyIngress,
    /// A namespace with workloads and no default-deny egress policy.
    NoDefaultDenyEgress,
    /// A workload no NetworkPolicy selects.
    WorkloadNotSelected,
    /// An ingress rule that allows everything from everywhere.
    AllowAllIngress,
    /// An egress rule that allows the cloud metadata address 169.254.169.254.
    MetadataEgress,
    /// A policy whose podSelector matches no workload of its namespace.
    SelectorMatchesNothing,
    /// A named port that no relevant container defines.
    UnknownNamedPort,
}

/// One finding: the object (index into [`Input::objects`]), a JSON pointer inside it and a
/// message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    pub object: usize,
    pub pointer: String,
    pub message: String,
}

/// Runs every check; results are ordered by object, then pointer.
pub fn checks(input: &Input) -> Vec<Check> {
    let mut out = Vec::new();
    namespace_checks(input, &mut out);
    for w in &input.workloads {
        let selected = input
            .policies
            .iter()
            .any(|np| np_selects(np, w, true) || np_selects(np, w, false));
        if !selected {
            out.push(Check {
                kind: CheckKind::WorkloadNotSelected,
                object: w.object,
                pointer: w.pointer.clone(),
                message: format!("{} is not selected by any NetworkPolicy", w.display()),
            });
        }
    }
    let metadata = parse_ipv4("169.254.169.254").unwrap_or_default();
    for np in &input.policies {
        let in_ns = input
            .workloads
            .iter()
            .filter(|w| w.namespace == np.namespace);
        let selected: Vec<_> = in_ns
            .clone()
            .filter(|w| np.pod_selector.matches(&w.labels))
            .collect();
        if !np.pod_selector.is_empty() && in_ns.count() > 0 && selected.is_empty() {
            out.push(Check {
                kind: CheckKind::SelectorMatchesNothing,
                object: np.object,
                pointer: "/spec/podSelector".to_owned(),
                message: format!(
                    "{} selects no workload in namespace {}",
                    np.full_name(),
                    np.namespace
                ),
            });
        }
        if np.affects_ingress {
            for (i, rule) in np.ingress.iter().enumerate() {
                let everywhere = rule.peers.is_empty()
                    || rule.peers.iter().any(|p| {
                        matches!(p, NpPeer::IpBlock(b) if *b == IntervalSet::range(0, crate::sets::MAX_IP))
                    });
                if everywhere && rule.ports.is_empty() {
                    out.push(Check {
                        kind: CheckKind::AllowAllIngress,
                        object: np.object,
                        pointer: format!("/spec/ingress/{i}"),
                        message: format!("{} allows all ingress from everywhere", np.full_name()),
                    });
                }
            }
        }
        if np.affects_egress {
            for (i, rule) in np.egress.iter().enumerate() {
                let port_ok = rule.ports.is_empty()
                    || rule.ports.iter().any(|p| {
                        p.protocol == Protocol::Tcp
                            && match &p.port {
                                None => true,
                                Some(PortSpec::Number(n)) => {
                                    *n <= 80 && p.end_port.unwrap_or(*n) >= 80
                                }
                                Some(PortSpec::Name(_)) => false,
                            }
                    });
                if !port_ok {
                    continue;
                }
                let target = if rule.peers.is_empty() {
                    Some(format!("/spec/egress/{i}"))
                } else {
                    rule.peers.iter().enumerate().find_map(|(j, p)| match p {
                        NpPeer::IpBlock(b) if b.contains(metadata) => {
                            Some(format!("/spec/egress/{i}/to/{j}/ipBlock"))
                        }
                        _ => None,
                    })
                };
                if let Some(pointer) = target {
                    out.push(Check {
                        kind: CheckKind::MetadataEgress,
                        object: np.object,
                        pointer,
                        message: format!(
                            "{} allows egress to the cloud metadata address 169.254.169.254",
                            np.full_name()
                        ),
                    });
                }
            }
        }
        named_port_checks(input, np, &selected, &mut out);
    }
    out.sort_by(|a, b| (a.object, &a.pointer).cmp(&(b.object, &b.pointer)));
    out
}

fn named_port_checks(
    input: &Input,
    np: &crate::model::NetworkPolicy,
    selected: &[&crate::model::Workload],
    out: &mut Vec<Check>,
) {
    for (dir, rules) in [("ingress", &np.ingress), ("egress", &np.egress)] {
        for (i, rule) in rules.iter().enumerate() {
            for (j, port) in rule.ports.iter().enumerate() {
                let Some(PortSpec::Name(name)) = &port.port else {
                    continue;
                };
                let defined = if dir == "ingress" {
                    selected.iter().any(|w| w.named_port(name).is_some())
                } else {
                    input.workloads.iter().any(|w| w.named_port(name).is_some())
                };
                let candidates = if dir == "ingress" {
                    !selected.is_empty()
                } else {
                    !input.workloads.is_empty()
                };
                if candidates && !defined {
                    out.push(Check {
                        kind: CheckKind::UnknownNamedPort,
                        object: np.object,
                        pointer: format!("/spec/{dir}/{i}/ports/{j}/port"),
                        message: format!(
                            "{}: named port '{name}' is not defined by any {} container",
                            np.full_name(),
                            if dir == "ingress" {
                                "selected"
                            } else {
                                "input"
                            }
                        ),
                    });
                }
            }
        }
    }
}

fn namespace_checks(input: &Input, out: &mut Vec<Check>) {
    let mut namespaces: Vec<&str> = input
        .workloads
        .iter()
        .map(|w| w.namespace.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        let (object, pointer) = input
            .objects
            .iter()
            .position(|o| o.kind() == "Namespace" && o.name() == ns)
            .map(|i| (i, "/metadata/name".to_owned()))
            .or_else(|| {
                input
                    .workloads
                    .iter()
                    .find(|w| w.namespace == ns)
                    .map(|w| (w.object, "/metadata".to_owned()))
            })
            .unwrap_or_default();
        for (ingress, kind, word) in [
            (true, CheckKind::NoDefaultDenyIngress, "ingress"),
            (false, CheckKind::NoDefaultDenyEgress, "egress"),
        ] {
            let has = input.policies.iter().any(|np| {
                np.namespace == ns
                    && np.pod_selector.is_empty()
                    && np.pod_selector.valid
                    && if ingress {
                        np.affects_ingress && np.ingress.is_empty()
                    } else {
                        np.affects_egress && np.egress.is_empty()
                    }
            });
            if !has {
                out.push(Check {
                    kind,
                    object,
                    pointer: pointer.clone(),
                    message: format!(
                        "namespace {ns} has workloads but no default-deny {word} NetworkPolicy"
                    ),
                });
            }
        }
    }
}
