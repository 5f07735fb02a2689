//! Configuration checks over the whole input, for the scan rules.

use std::path::Path;

use crate::engine::{np_selects, Cluster, Peers};
use crate::model::{Input, NetworkPolicy, NpPeer, NpRule, PortSpec, Workload};
use crate::sets::{parse_ipv4, IntervalSet, Protocol, MAX_IP};

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// A namespace with workloads and no policy isolating all its pods for ingress.
    NoDefaultDenyIngress,
    /// A namespace with workloads and no policy isolating all its pods for egress.
    NoDefaultDenyEgress,
    /// A workload no NetworkPolicy selects, in a namespace that has NetworkPolicies.
    WorkloadNotSelected,
    /// An ingress rule that allows everything from everywhere.
    AllowAllIngress,
    /// An egress rule that allows the cloud metadata address 169.254.169.254.
    MetadataEgress,
    /// A policy whose podSelector matches no workload of its namespace, while its directory
    /// defines some of them.
    SelectorMatchesNothing,
    /// A named port that no relevant container defines.
    UnknownNamedPort,
}

/// One finding: the object (index into [`Input::objects`]), a JSON pointer inside it and a
/// message (which does not repeat the object's own name).
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
        let in_ns = input
            .policies
            .iter()
            .filter(|np| np.namespace == w.namespace)
            .count();
        let selected = input
            .policies
            .iter()
            .any(|np| np_selects(np, w, true) || np_selects(np, w, false));
        if in_ns > 0 && !selected {
            out.push(Check {
                kind: CheckKind::WorkloadNotSelected,
                object: w.object,
                pointer: w.pointer.clone(),
                message: format!(
                    "no NetworkPolicy selects these pods, although namespace {} has {in_ns} \
NetworkPolic{}; their traffic is not restricted",
                    w.namespace,
                    if in_ns == 1 { "y" } else { "ies" }
                ),
            });
        }
    }
    let cluster = Cluster::new(input);
    for np in &input.policies {
        policy_checks(input, &cluster, np, &mut out);
    }
    out.sort_by(|a, b| (a.object, &a.pointer).cmp(&(b.object, &b.pointer)));
    out
}

fn policy_checks<'a>(
    input: &'a Input,
    cluster: &Cluster<'a>,
    np: &'a NetworkPolicy,
    out: &mut Vec<Check>,
) {
    let in_ns: Vec<&Workload> = input
        .workloads
        .iter()
        .filter(|w| w.namespace == np.namespace)
        .collect();
    let selected: Vec<&Workload> = in_ns
        .iter()
        .copied()
        .filter(|w| np.pod_selector.matches(&w.labels))
        .collect();
    // Pods of the namespace may come from elsewhere (other repositories, operators): only
    // the workloads defined in the policy's own directory are known to be its candidates.
    let dir = |object: usize| {
        input
            .objects
            .get(object)
            .and_then(|o| Path::new(&o.source.path).parent())
    };
    let alongside = in_ns
        .iter()
        .filter(|w| dir(w.object) == dir(np.object))
        .count();
    if !np.pod_selector.is_empty() && alongside > 0 && selected.is_empty() {
        out.push(Check {
            kind: CheckKind::SelectorMatchesNothing,
            object: np.object,
            pointer: "/spec/podSelector".to_owned(),
            message: format!(
                "podSelector matches none of the {} workloads of namespace {} ({alongside} in \
this directory); the policy has no effect",
                in_ns.len(),
                np.namespace
            ),
        });
    }
    if np.affects_ingress {
        for (i, rule) in np.ingress.iter().enumerate() {
            if allows_everything(rule) {
                out.push(Check {
                    kind: CheckKind::AllowAllIngress,
                    object: np.object,
                    pointer: format!("/spec/ingress/{i}"),
                    message: format!(
                        "ingress rule #{} allows every connection from everywhere to the \
selected pods",
                        i + 1
                    ),
                });
            }
        }
    }
    if np.affects_egress {
        metadata_checks(np, out);
    }
    for (i, rule) in np.ingress.iter().enumerate() {
        named_port_checks(np, rule, "ingress", i, &selected, out);
    }
    for (i, rule) in np.egress.iter().enumerate() {
        let destinations: Vec<&Workload> = match cluster.np_rule_peers(np, rule) {
            Peers::All => input.workloads.iter().collect(),
            Peers::Listed { workloads, .. } => {
                workloads.iter().map(|&w| &input.workloads[w]).collect()
            }
        };
        named_port_checks(np, rule, "egress", i, &destinations, out);
    }
}

/// A rule with no peer restriction (or a peer of all addresses) and no port restriction.
fn allows_everything(rule: &NpRule) -> bool {
    let everywhere = rule.peers.is_empty()
        || rule
            .peers
            .iter()
            .any(|p| matches!(p, NpPeer::IpBlock(b) if *b == IntervalSet::range(0, MAX_IP)));
    everywhere && rule.ports.is_empty()
}

fn metadata_checks(np: &NetworkPolicy, out: &mut Vec<Check>) {
    let metadata = parse_ipv4("169.254.169.254").unwrap_or_default();
    for (i, rule) in np.egress.iter().enumerate() {
        // The metadata services of the clouds listen on TCP port 80.
        let port_ok = rule.ports.is_empty()
            || rule.ports.iter().any(|p| {
                p.protocol == Protocol::Tcp
                    && match &p.port {
                        None => true,
                        Some(PortSpec::Number(n)) => *n <= 80 && p.end_port.unwrap_or(*n) >= 80,
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
                    "egress rule #{} allows the selected pods to reach the cloud metadata \
address 169.254.169.254",
                    i + 1
                ),
            });
        }
    }
}

/// Named ports of a rule that none of `targets` (the pods the port is resolved on: the
/// selected pods for ingress, the rule's destinations for egress) defines.
fn named_port_checks(
    np: &NetworkPolicy,
    rule: &NpRule,
    dir: &str,
    i: usize,
    targets: &[&Workload],
    out: &mut Vec<Check>,
) {
    if targets.is_empty() {
        return;
    }
    for (j, port) in rule.ports.iter().enumerate() {
        let Some(PortSpec::Name(name)) = &port.port else {
            continue;
        };
        if targets.iter().any(|w| w.named_port(name).is_some()) {
            continue;
        }
        let whose = if dir == "ingress" {
            "selected pods"
        } else {
            "destination pods"
        };
        out.push(Check {
            kind: CheckKind::UnknownNamedPort,
            object: np.object,
            pointer: format!("/spec/{dir}/{i}/ports/{j}/port"),
            message: format!(
                "named port '{name}' is defined by none of the {} {whose}; the port matches nothing",
                targets.len()
            ),
        });
    }
}

/// Whether `np` isolates every pod of its namespace in one direction without allowing
/// everything back.
fn isolates_namespace(np: &NetworkPolicy, ingress: bool) -> bool {
    let (affects, rules) = if ingress {
        (np.affects_ingress, &np.ingress)
    } else {
        (np.affects_egress, &np.egress)
    };
    np.pod_selector.is_empty()
        && np.pod_selector.valid
        && affects
        && !rules.iter().any(allows_everything)
}

fn namespace_checks(input: &Input, out: &mut Vec<Check>) {
    let mut firsts: Vec<&Workload> = Vec::new();
    for w in &input.workloads {
        if !firsts.iter().any(|f| f.namespace == w.namespace) {
            firsts.push(w);
        }
    }
    for first in firsts {
        let ns = &first.namespace;
        for (ingress, kind, word) in [
            (true, CheckKind::NoDefaultDenyIngress, "ingress"),
            (false, CheckKind::NoDefaultDenyEgress, "egress"),
        ] {
            let has = input
                .policies
                .iter()
                .any(|np| np.namespace == *ns && isolates_namespace(np, ingress));
            if !has {
                out.push(Check {
                    kind,
                    object: first.object,
                    pointer: "/metadata/namespace".to_owned(),
                    message: format!(
                        "namespace {ns} has workloads but no NetworkPolicy denying {word} by \
default (an empty podSelector with policyTypes [{}])",
                        if ingress { "Ingress" } else { "Egress" }
                    ),
                });
            }
        }
    }
}
