//! Configuration checks over the whole input, for the scan rules.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::engine::{Cluster, Peers};
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
    /// A policy whose podSelector matches no workload of its namespace and none of the pods
    /// known custom resources make their controllers create, while its directory defines
    /// some of them.
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
    let cluster = Cluster::new(input);
    let counts = Counts::new(input);
    // Whether some NetworkPolicy isolates each workload, in one direction or the other.
    let mut isolated = vec![false; input.workloads.len()];
    for np in &input.policies {
        let selected = cluster.policy_pods(np);
        if np.affects_ingress || np.affects_egress {
            for &w in &selected {
                isolated[w] = true;
            }
        }
        policy_checks(input, &cluster, &counts, np, &selected, &mut out);
    }
    for (w, isolated) in input.workloads.iter().zip(isolated) {
        let in_ns = counts
            .policies
            .get(w.namespace.as_str())
            .copied()
            .unwrap_or(0);
        if in_ns > 0 && !isolated {
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
    out.sort_by(|a, b| (a.object, &a.pointer).cmp(&(b.object, &b.pointer)));
    out
}

/// The directory of the file defining an object.
fn directory(input: &Input, object: usize) -> Option<&Path> {
    input
        .sources
        .get(&object)
        .and_then(|source| Path::new(&source.path).parent())
}

/// How many NetworkPolicies and workloads each namespace has.
struct Counts<'a> {
    policies: HashMap<&'a str, usize>,
    /// Workloads and pods of known custom resources by namespace.
    workloads: HashMap<&'a str, usize>,
    /// The same, by namespace and directory.
    by_directory: HashMap<(&'a str, Option<&'a Path>), usize>,
}

impl<'a> Counts<'a> {
    fn new(input: &'a Input) -> Self {
        let mut counts = Counts {
            policies: HashMap::new(),
            workloads: HashMap::new(),
            by_directory: HashMap::new(),
        };
        for np in &input.policies {
            *counts.policies.entry(&np.namespace).or_default() += 1;
        }
        let sources = input
            .workloads
            .iter()
            .map(|w| (w.namespace.as_str(), w.object))
            .chain(
                input
                    .operated
                    .iter()
                    .map(|p| (p.namespace.as_str(), p.object)),
            );
        for (namespace, object) in sources {
            *counts.workloads.entry(namespace).or_default() += 1;
            *counts
                .by_directory
                .entry((namespace, directory(input, object)))
                .or_default() += 1;
        }
        counts
    }
}

/// The checks of one policy; `selected` are the workloads its podSelector matches.
fn policy_checks<'a>(
    input: &'a Input,
    cluster: &Cluster<'a>,
    counts: &Counts<'a>,
    np: &'a NetworkPolicy,
    selected: &[usize],
    out: &mut Vec<Check>,
) {
    let in_ns = counts
        .workloads
        .get(np.namespace.as_str())
        .copied()
        .unwrap_or(0);
    // Pods of the namespace may come from elsewhere (other repositories, operators): only
    // the workloads defined in the policy's own directory are known to be its candidates.
    let alongside = counts
        .by_directory
        .get(&(np.namespace.as_str(), directory(input, np.object)))
        .copied()
        .unwrap_or(0);
    let operated = || {
        input
            .operated
            .iter()
            .any(|p| p.namespace == np.namespace && p.may_match(&np.pod_selector))
    };
    if !np.pod_selector.selects_everything() && alongside > 0 && selected.is_empty() && !operated()
    {
        out.push(Check {
            kind: CheckKind::SelectorMatchesNothing,
            object: np.object,
            pointer: "/spec/podSelector".to_owned(),
            message: format!(
                "podSelector matches none of the {} workloads of namespace {} ({alongside} in \
this directory); the policy has no effect",
                in_ns, np.namespace
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
    let selected: Vec<&Workload> = selected.iter().map(|&w| &input.workloads[w]).collect();
    for (i, rule) in np.ingress.iter().enumerate() {
        named_port_checks(np, rule, "ingress", i, &selected, out);
    }
    for (i, rule) in np.egress.iter().enumerate() {
        // Only named ports are resolved on the destinations.
        if !rule
            .ports
            .iter()
            .any(|p| matches!(p.port, Some(PortSpec::Name(_))))
        {
            continue;
        }
        let destinations: Vec<&Workload> = match cluster.np_rule_peers(np, rule) {
            Peers::All => input.workloads.iter().collect(),
            Peers::Listed { workloads, .. } => {
                workloads.iter().map(|w| &input.workloads[w]).collect()
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
    np.pod_selector.selects_everything() && affects && !rules.iter().any(allows_everything)
}

fn namespace_checks(input: &Input, out: &mut Vec<Check>) {
    let isolated: HashSet<(&str, bool)> = input
        .policies
        .iter()
        .flat_map(|np| [(np, true), (np, false)])
        .filter(|&(np, ingress)| isolates_namespace(np, ingress))
        .map(|(np, ingress)| (np.namespace.as_str(), ingress))
        .collect();
    let mut seen = HashSet::new();
    let firsts = input
        .workloads
        .iter()
        .filter(|w| seen.insert(w.namespace.as_str()));
    for first in firsts {
        let ns = &first.namespace;
        for (ingress, kind, word) in [
            (true, CheckKind::NoDefaultDenyIngress, "ingress"),
            (false, CheckKind::NoDefaultDenyEgress, "egress"),
        ] {
            if !isolated.contains(&(ns.as_str(), ingress)) {
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
