//! Evaluating a pod (or a workload's pod template) at a level and version.

use palisade_core::pointer::At;
use palisade_core::views::{pod_spec_location, PodSpecView};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::{CheckId, CheckInfo, Pod, CHECKS};
use crate::level::{Level, LevelVersion, Version};

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The check that failed.
    pub check: CheckId,
    /// Admission's short reason (`unrestricted capabilities`).
    pub reason: String,
    /// Admission's detail (`container "app" must set securityContext.capabilities.drop=["ALL"]`).
    pub detail: String,
    /// Absolute JSON pointers of the offending fields in the evaluated object; for a required
    /// field that is missing, its nearest existing parent (often the container).
    pub pointers: Vec<String>,
}

/// The outcome of evaluating one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub allowed: bool,
    /// Failed checks in admission's order: baseline check IDs sorted, then restricted ones.
    pub violations: Vec<Violation>,
}

/// Evaluates a Pod, or the pod template of a Deployment, ReplicaSet, StatefulSet, DaemonSet,
/// Job, CronJob, ReplicationController or PodTemplate, as Pod Security Admission would at
/// `level` and `version`. `None` for any other kind.
///
/// A missing pod spec is evaluated as an empty one. Fields with a type the API server would
/// reject are treated as unset.
pub fn evaluate(object: &Value, level: Level, version: Version) -> Option<Evaluation> {
    let kind = object.get("kind")?.as_str()?;
    let (pointer, metadata_pointer) = pod_spec_location(kind)?;
    let empty = Value::Object(Map::new());
    let spec = object.at(pointer).filter(|v| v.is_object());
    let view = PodSpecView {
        pointer,
        metadata_pointer,
        spec: spec.unwrap_or(&empty),
        metadata: object.at(metadata_pointer).filter(|v| v.is_object()),
    };
    let pod = Pod {
        root: object,
        view,
        containers: view.containers(),
        host_ports_defaulted: kind == "Pod"
            && view.spec.get("hostNetwork").and_then(Value::as_bool) == Some(true),
    };
    let minor = version.policy_minor();
    let violations: Vec<Violation> = CHECKS
        .iter()
        .filter(|check| check.info.applies(level, version))
        .filter_map(|check| {
            (check.run)(&pod, minor).map(|finding| Violation {
                check: check.info.id,
                reason: finding.reason,
                detail: finding.detail,
                pointers: finding.pointers,
            })
        })
        .collect();
    Some(Evaluation {
        allowed: violations.is_empty(),
        violations,
    })
}

/// Every check with its metadata, in admission's order.
pub fn checks() -> &'static [CheckInfo] {
    static INFOS: std::sync::OnceLock<Vec<CheckInfo>> = std::sync::OnceLock::new();
    INFOS.get_or_init(|| CHECKS.iter().map(|c| c.info).collect())
}

/// The metadata of one check.
pub fn check(id: CheckId) -> &'static CheckInfo {
    &checks()[id as usize]
}

/// The failures as admission lists them: each reason, followed by ` (detail)` when there is
/// one, joined by `, `.
pub fn forbidden_detail(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    for (i, v) in evaluation.violations.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&v.reason);
        if !v.detail.is_empty() {
            out.push_str(" (");
            out.push_str(&v.detail);
            out.push(')');
        }
    }
    out
}

/// Admission's denial message for the enforce mode:
/// `violates PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false (...), ...`.
pub fn forbidden_message(level: Level, version: Version, evaluation: &Evaluation) -> String {
    format!(
        "violates PodSecurity \"{}\": {}",
        LevelVersion::new(level, version),
        forbidden_detail(evaluation)
    )
}

/// Admission's message for the warn and audit modes:
/// `would violate PodSecurity "baseline:latest": ...`.
pub fn warning_message(level: Level, version: Version, evaluation: &Evaluation) -> String {
    format!(
        "would violate PodSecurity \"{}\": {}",
        LevelVersion::new(level, version),
        forbidden_detail(evaluation)
    )
}
