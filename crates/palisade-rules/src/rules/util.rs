//! Helpers shared by the workload rules.

use palisade_core::patch::set_ops;
use palisade_core::rule::Fix;
use palisade_core::views::{pod_spec, ContainerView, PodSpecView};
use palisade_core::Object;
use serde_json::Value;

/// The pod spec of a workload object, if it has one.
pub fn pod(object: &Object) -> Option<PodSpecView<'_>> {
    pod_spec(&object.value)
}

/// A fix that sets one field of the object.
pub fn set_fix(object: &Object, pointer: &str, value: Value, description: String) -> Option<Fix> {
    let patch = set_ops(&object.value, pointer, value);
    (!patch.is_empty()).then_some(Fix { description, patch })
}

/// `container "name"` (or `init container "name"`) for messages.
pub fn describe(container: &ContainerView<'_>) -> String {
    let kind = match container.kind {
        palisade_core::views::ContainerKind::Init => "init container",
        palisade_core::views::ContainerKind::Regular => "container",
        palisade_core::views::ContainerKind::Ephemeral => "ephemeral container",
    };
    format!("{kind} \"{}\"", container.name())
}
