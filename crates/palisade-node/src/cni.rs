//! The CNI configuration the container runtime uses, and whether its plugins enforce
//! NetworkPolicy (CIS 5.3.1): a cluster whose network plugin ignores NetworkPolicy admits them
//! all and enforces none.

use palisade_core::{decode_first_document, read_path, Pos};
use serde::Serialize;
use serde_json::Value;

use crate::discover::Node;
use crate::Location;

/// Plugin types that enforce NetworkPolicy.
const ENFORCING: &[&str] = &[
    "calico",
    "cilium-cni",
    "cilium",
    "weave-net",
    "antrea",
    "kube-router",
    "ovn-k8s-cni-overlay",
    "openshift-sdn",
];

/// Plugin types that do not (main plugins without a policy engine, and chained helpers).
const NOT_ENFORCING: &[&str] = &[
    "flannel",
    "bridge",
    "ptp",
    "macvlan",
    "ipvlan",
    "host-device",
    "host-local",
    "portmap",
    "bandwidth",
    "tuning",
    "loopback",
    "firewall",
    "sbr",
    "vrf",
];

/// The CNI configuration in use on the node.
#[derive(Debug, Clone, Serialize)]
pub struct CniConfig {
    /// Where its first plugin type is written.
    pub location: Location,
    /// The plugin types, in order.
    pub types: Vec<String>,
    /// `Some(true)` when a plugin enforces NetworkPolicy, `Some(false)` when every plugin is
    /// known not to, `None` when a plugin is unknown here (a cloud provider's, a meta plugin).
    pub network_policy: Option<bool>,
}

/// The configuration the runtime loads: the first `*.conf`, `*.conflist` or `*.json` of the
/// CNI configuration folder, in name order, that decodes.
pub fn find(node: &Node) -> Option<CniConfig> {
    let dir = node
        .flag_path(crate::Component::Kubelet, "--cni-conf-dir")
        .unwrap_or_else(|| "/etc/cni/net.d".to_owned());
    let mut names: Vec<String> = std::fs::read_dir(node.host(&dir))
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".conf", ".conflist", ".json"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        let display = node.display(&path);
        let bytes = read_path(&node.host(&path), &display, &node.limits).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let value = decode_first_document(&text, &node.limits).ok()??;
        let types: Vec<String> = match value.get("plugins").and_then(Value::as_array) {
            Some(plugins) => plugins
                .iter()
                .filter_map(|p| p.get("type")?.as_str().map(str::to_owned))
                .collect(),
            None => vec![value.get("type")?.as_str()?.to_owned()],
        };
        let first = types.first()?;
        // The line of the first plugin's type (JSON configurations have no other positions).
        let line = text
            .lines()
            .position(|l| l.contains("\"type\"") && l.contains(&format!("\"{first}\"")))
            .map_or(1, |i| i as u32 + 1);
        let network_policy = if types.iter().any(|t| ENFORCING.contains(&t.as_str())) {
            Some(true)
        } else if types.iter().all(|t| NOT_ENFORCING.contains(&t.as_str())) {
            Some(false)
        } else {
            None
        };
        Some(CniConfig {
            location: Location::new(display, Pos::new(line, 1)),
            types,
            network_policy,
        })
    })
}
