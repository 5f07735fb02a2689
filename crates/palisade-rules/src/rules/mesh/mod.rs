//! Istio rules: authorization and mutual TLS mistakes.

pub mod authz_allow_all;
pub mod authz_split_rule;
pub mod mtls_not_strict;

use palisade_core::pointer::At;
use palisade_core::Object;
use serde_json::Value;

/// Whether the object is an Istio `AuthorizationPolicy` whose action allows (the default).
pub fn is_allow_policy(object: &Object) -> bool {
    object.group() == "security.istio.io"
        && object.kind() == "AuthorizationPolicy"
        && object
            .value
            .at("/spec/action")
            .and_then(Value::as_str)
            .is_none_or(|a| a == "ALLOW")
        && object.value.at("/spec/provider").is_none()
}
