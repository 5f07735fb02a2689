//! The default policy of a kubeadm cluster, embedded as data.

use std::sync::OnceLock;

use palisade_core::{Limits, Object};

use crate::model::{BindingKind, RoleKind};

const BOOTSTRAP: &str = include_str!("../data/bootstrap.yaml");

/// The default ClusterRoles, Roles and bindings, decoded once.
pub fn objects() -> &'static [Object] {
    static OBJECTS: OnceLock<Vec<Object>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        palisade_core::load_str(BOOTSTRAP, "<default policy>", &Limits::default()).objects
    })
}

fn find(kind: &str, namespace: Option<&str>, name: &str) -> bool {
    objects()
        .iter()
        .any(|o| o.kind() == kind && o.namespace() == namespace && o.name() == name)
}

/// Whether a role of this kind, namespace and name is part of the default policy.
pub fn is_default_role(kind: RoleKind, namespace: Option<&str>, name: &str) -> bool {
    find(kind.as_str(), namespace, name)
}

/// Whether a binding of this kind, namespace and name is part of the default policy.
pub fn is_default_binding(kind: BindingKind, namespace: Option<&str>, name: &str) -> bool {
    find(kind.as_str(), namespace, name)
}
