//! Exposure rules: Services and Ingresses that reach further than intended.

pub mod external_ips;
pub mod ingress_without_tls;
pub mod load_balancer_source_ranges;
pub mod metadata_address;
pub mod node_port;
