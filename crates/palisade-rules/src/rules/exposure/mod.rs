//! Exposure rules: Services and Ingresses that reach further than intended.

use palisade_core::rule::{Framework, Reference};

pub mod ingress_nginx_config_injection;
pub mod ingress_without_tls;
pub mod internet_entry_point;
pub mod load_balancer_open;
pub mod node_port_service;
pub mod route_to_metadata_service;
pub mod service_external_ips;
pub mod ssh_port_exposed;

/// References of the rules that find an entry point from the internet.
pub(crate) const INTERNET_EXPOSURE_REFERENCES: &[Reference] = &[
    Reference::new(Framework::NsaCisa, "Network separation and hardening"),
    Reference::url(
        Framework::Mitre,
        "T1190",
        "https://attack.mitre.org/techniques/T1190/",
    ),
];
