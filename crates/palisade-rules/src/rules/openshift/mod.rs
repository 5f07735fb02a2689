//! OpenShift rules: the cluster policies of OpenShift, such as SecurityContextConstraints.

pub mod scc_allows_host_access;
