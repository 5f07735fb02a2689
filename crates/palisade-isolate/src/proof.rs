//! The proof: palisade's NetworkPolicy engine over the cluster's policies says which peers can
//! still reach the pod and which it can still reach, and which policies keep each open.

use palisade_core::Object;
use palisade_netpol::{connlist, ConnSet, Input, ListOptions};
use serde_json::Value;

/// One connection that is still allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remaining {
    /// True when the peer reaches the pod; false when the pod reaches the peer.
    pub ingress: bool,
    /// `ns/name[Kind]` or an address range.
    pub peer: String,
    pub conns: ConnSet,
    /// The policies that keep it open (`NetworkPolicy 'ns/name'`, `AdminNetworkPolicy 'x'`).
    pub policies: Vec<String>,
}

/// What the engine says about the pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proof {
    pub remaining: Vec<Remaining>,
    /// The pod uses the node's network: NetworkPolicy does not apply to it.
    pub host_network: bool,
    /// The policies that select the pod (for the report).
    pub selecting: Vec<String>,
}

impl Proof {
    /// Whether the pod is isolated in both directions.
    pub fn isolated(&self) -> bool {
        self.remaining.is_empty() && !self.host_network
    }

    /// The result in words; loud when the pod is not isolated.
    pub fn render(&self, pod: &str) -> String {
        let mut out = String::new();
        if self.host_network {
            out.push_str(&format!(
                "NOT ISOLATED: {pod} uses hostNetwork. NetworkPolicy does not apply to pods on the node's network: it can still reach, and be reached from, everything its node can. Detach it (--detach) and stop it, or cordon and isolate the node.\n"
            ));
        }
        if !self.remaining.is_empty() {
            out.push_str(&format!(
                "NOT ISOLATED: {} connection(s) of {pod} are still allowed:\n",
                self.remaining.len()
            ));
            for r in &self.remaining {
                let arrow = if r.ingress {
                    format!("{} => {pod}", r.peer)
                } else {
                    format!("{pod} => {}", r.peer)
                };
                let why = if r.policies.is_empty() {
                    "no policy selects the pod in this direction (allowed by default)".to_owned()
                } else {
                    format!("kept open by {}", r.policies.join(", "))
                };
                out.push_str(&format!("  {arrow} : {} ({why})\n", r.conns));
            }
        }
        if self.isolated() {
            out.push_str(&format!(
                "Isolated: no peer can reach {pod} and it can reach no peer, by the cluster's NetworkPolicies and AdminNetworkPolicies (selected by {}).\n",
                self.selecting.join(", ")
            ));
        }
        out
    }
}

/// The pod as the engine should see it: a workload of its own (not folded into its
/// controller's, whose other pods keep their labels).
fn standalone(pod: &Value) -> Value {
    let mut pod = pod.clone();
    if let Some(metadata) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("ownerReferences");
    }
    pod
}

fn connections(objects: &[Object], focus: &str) -> Vec<(bool, String, ConnSet)> {
    let input = Input::from_objects(objects);
    let options = ListOptions {
        focus_workloads: vec![focus.to_owned()],
        ..ListOptions::default()
    };
    let me = format!("{focus}[Pod]");
    connlist(&input, &options)
        .connections
        .into_iter()
        .filter_map(|c| {
            if c.dst == me && c.src != me {
                Some((true, c.src, c.conns))
            } else if c.src == me && c.dst != me {
                Some((false, c.dst, c.conns))
            } else {
                None
            }
        })
        .collect()
}

fn policy_name(object: &Value) -> String {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    match object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        Some(ns) if kind == "NetworkPolicy" => format!("{kind} '{ns}/{name}'"),
        _ => format!("{kind} '{name}'"),
    }
}

fn is_policy(object: &Value) -> bool {
    matches!(
        object.get("kind").and_then(Value::as_str),
        Some("NetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy")
    )
}

/// The NetworkPolicies among `objects` that select `pod` (in its namespace, by its labels).
pub fn selecting(pod: &Value, objects: &[Value]) -> Vec<String> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let mut values = vec![standalone(pod)];
    values.extend(
        objects
            .iter()
            .filter(|o| o.get("kind").and_then(Value::as_str) == Some("NetworkPolicy"))
            .cloned(),
    );
    let objects: Vec<Object> = values
        .into_iter()
        .map(|v| Object::from_value(v, "cluster"))
        .collect();
    let input = Input::from_objects(&objects);
    let labels = input
        .workloads
        .first()
        .map(|w| w.labels.clone())
        .unwrap_or_default();
    input
        .policies
        .iter()
        .filter(|p| p.namespace == ns && p.pod_selector.matches(&labels))
        .map(|p| p.full_name())
        .collect()
}

/// Proves the isolation of `pod` (as it is, or as it will be) among `objects`: the cluster's
/// pods, namespaces, NetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicy.
/// The pod itself may be among the objects; `pod` replaces it.
pub fn prove(pod: &Value, objects: &[Value]) -> Proof {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let uid = pod.pointer("/metadata/uid");
    let same_pod = |o: &Value| {
        o.get("kind").and_then(Value::as_str) == Some("Pod")
            && o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
            && (o.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
                || (uid.is_some() && o.pointer("/metadata/uid") == uid))
    };
    let mut values: Vec<Value> = vec![standalone(pod)];
    values.extend(objects.iter().filter(|o| !same_pod(o)).cloned());
    let to_objects = |values: &[Value], skip: Option<usize>| -> Vec<Object> {
        values
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, v)| Object::from_value(v.clone(), "cluster"))
            .collect()
    };
    let focus = format!("{ns}/{name}");
    let all = to_objects(&values, None);
    let found = connections(&all, &focus);
    let input = Input::from_objects(&all);
    let labels = input
        .workloads
        .iter()
        .find(|w| w.namespace == ns && w.name == name && w.kind == "Pod")
        .map(|w| w.labels.clone())
        .unwrap_or_default();
    let selecting: Vec<String> = input
        .policies
        .iter()
        .filter(|p| p.namespace == ns && p.pod_selector.matches(&labels))
        .map(|p| p.full_name())
        .collect();
    // The policies that may keep a connection open: those that select the pod, and every
    // admin policy. Each is taken away in turn: the connections that then close (or shrink)
    // are the ones it keeps open.
    let mut remaining: Vec<Remaining> = found
        .into_iter()
        .map(|(ingress, peer, conns)| Remaining {
            ingress,
            peer,
            conns,
            policies: Vec::new(),
        })
        .collect();
    if !remaining.is_empty() {
        for (index, value) in values.iter().enumerate() {
            if !is_policy(value) {
                continue;
            }
            let full = policy_name(value);
            let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind == "NetworkPolicy" && !selecting.contains(&full) {
                continue;
            }
            let without = connections(&to_objects(&values, Some(index)), &focus);
            for r in &mut remaining {
                let after = without
                    .iter()
                    .find(|(ingress, peer, _)| *ingress == r.ingress && *peer == r.peer)
                    .map(|(_, _, c)| c.clone());
                if after.as_ref() != Some(&r.conns) {
                    r.policies.push(full.clone());
                }
            }
        }
        for r in &mut remaining {
            if r.policies.is_empty() {
                // More than one policy allows it: each alone is not enough to close it.
                r.policies = selecting
                    .iter()
                    .cloned()
                    .chain(
                        values
                            .iter()
                            .filter(|v| {
                                is_policy(v)
                                    && v.get("kind").and_then(Value::as_str)
                                        != Some("NetworkPolicy")
                            })
                            .map(policy_name),
                    )
                    .collect();
            }
        }
    }
    Proof {
        remaining,
        host_network: pod
            .pointer("/spec/hostNetwork")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        selecting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": name, "namespace": "shop", "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 8080}]}]}})
    }

    fn quarantine() -> Value {
        crate::plan::quarantine_policy(
            "shop",
            "web-1",
            &crate::Incident {
                id: "inc-1".into(),
                reason: String::new(),
                time: String::new(),
                by: String::new(),
            },
        )
    }

    #[test]
    fn the_quarantine_policy_alone_isolates_the_pod() {
        let web = pod(
            "web-1",
            json!({"app": "web", crate::QUARANTINE_LABEL: "inc-1"}),
        );
        let objects = [pod("client", json!({"app": "client"})), quarantine()];
        let proof = prove(&web, &objects);
        assert!(proof.isolated(), "{}", proof.render("shop/web-1"));
        assert_eq!(
            proof.selecting,
            ["NetworkPolicy 'shop/palisade-quarantine-inc-1'"]
        );
    }

    #[test]
    fn without_the_label_nothing_is_isolated() {
        let web = pod("web-1", json!({"app": "web"}));
        let objects = [pod("client", json!({"app": "client"})), quarantine()];
        let proof = prove(&web, &objects);
        assert!(!proof.isolated());
        assert!(proof
            .remaining
            .iter()
            .any(|r| r.ingress && r.peer == "shop/client[Pod]" && r.policies.is_empty()));
    }

    #[test]
    fn an_allowing_policy_is_named() {
        let web = pod(
            "web-1",
            json!({"app": "web", crate::QUARANTINE_LABEL: "inc-1"}),
        );
        let allow = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-web", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"from": [{"podSelector": {}}]}]}});
        let objects = [pod("client", json!({"app": "client"})), quarantine(), allow];
        let proof = prove(&web, &objects);
        let text = proof.render("shop/web-1");
        assert!(!proof.isolated(), "{text}");
        let r = proof
            .remaining
            .iter()
            .find(|r| r.ingress && r.peer == "shop/client[Pod]")
            .expect(&text);
        assert_eq!(r.policies, ["NetworkPolicy 'shop/allow-web'"]);
        // Egress stays closed: the allowing policy is ingress only.
        assert!(proof.remaining.iter().all(|r| r.ingress), "{text}");
    }

    #[test]
    fn host_network_pods_are_never_isolated() {
        let mut web = pod("web-1", json!({crate::QUARANTINE_LABEL: "inc-1"}));
        web["spec"]["hostNetwork"] = json!(true);
        let proof = prove(&web, &[quarantine()]);
        assert!(!proof.isolated());
        assert!(proof.render("shop/web-1").contains("hostNetwork"));
    }
}
