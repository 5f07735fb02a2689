//! Pod Security Standards rules: one rule per check of the Pod Security Admission engine
//! (`palisade_pss`), in the engine's order. Each workload is judged by the policy of its
//! namespace when the input holds that Namespace with Pod Security labels: what `enforce` rejects
//! is reported high, what only `warn` or `audit` report is reported low. Workloads in other
//! namespaces are left to the hardening rules, which check the same fields everywhere.

pub mod pss_allow_privilege_escalation;
pub mod pss_app_armor_profile;
pub mod pss_capabilities_baseline;
pub mod pss_capabilities_restricted;
pub mod pss_host_namespaces;
pub mod pss_host_path_volumes;
pub mod pss_host_ports;
pub mod pss_host_probes_and_host_lifecycle;
pub mod pss_privileged;
pub mod pss_proc_mount;
pub mod pss_proc_mount_restricted;
pub mod pss_restricted_volumes;
pub mod pss_run_as_non_root;
pub mod pss_run_as_user;
pub mod pss_se_linux_options;
pub mod pss_seccomp_profile_baseline;
pub mod pss_seccomp_profile_restricted;
pub mod pss_sysctls;
pub mod pss_windows_host_process;

use std::collections::HashMap;

use palisade_core::rule::Severity;
use palisade_core::views::pod_spec_location;
use palisade_core::Object;
use palisade_pss::{evaluate, CheckId, Level, LevelVersion, Mode, Policy, Violation};

use crate::{Emit, Inventory, Objects};

/// Each Pod Security rule with the hardening rules (`rules::workload`) that judge the same
/// control, through the same predicate of `palisade_pss::controls` where there is one. Where
/// both report the same field of an object, the run reports it once
/// ([`crate::Engine::merge_same_control`]).
const SAME_CONTROL: &[(&str, &[&str])] = &[
    ("PSS001", &["POD012"]),
    ("PSS002", &["POD008", "POD022"]),
    ("PSS003", &["POD009"]),
    ("PSS004", &["POD003"]),
    ("PSS005", &["POD010"]),
    ("PSS007", &["POD001", "POD020"]),
    ("PSS008", &["POD013"]),
    ("PSS010", &["POD011"]),
    ("PSS011", &["POD014"]),
    ("PSS012", &["POD021"]),
    ("PSS013", &["POD002"]),
    ("PSS014", &["POD007", "POD008", "POD022"]),
    ("PSS015", &["POD013"]),
    ("PSS016", &["POD003"]),
    ("PSS017", &["POD005"]),
    ("PSS018", &["POD005"]),
    ("PSS019", &["POD011"]),
];

/// Pairs of [`SAME_CONTROL`] where the hardening rule reports the pod once (at the pod's field)
/// for what the check reports per container: a pod without a seccomp profile (POD011) is every
/// container without its own (PSS019).
const POD_WIDE: &[(&str, &str)] = &[("PSS019", "POD011")];

/// Whether hardening rule `hardening` reports the pod once, at a field of the pod, for what
/// Pod Security rule `check` reports per container.
pub fn pod_wide(check: &str, hardening: &str) -> bool {
    POD_WIDE.contains(&(check, hardening))
}

/// The rules that judge the same control as rule `id`: the hardening rules of a Pod Security
/// rule, or the Pod Security rules of a hardening rule (none for other rules).
pub fn same_control(id: &str) -> Vec<&'static str> {
    SAME_CONTROL
        .iter()
        .filter_map(|(pss, pods)| {
            if *pss == id {
                Some(pods.to_vec())
            } else if pods.contains(&id) {
                Some(vec![*pss])
            } else {
                None
            }
        })
        .flatten()
        .collect()
}

/// Namespaces and every kind with a pod spec.
pub(crate) const KINDS: &[&str] = &palisade_core::views::kinds::<
    { palisade_core::views::WORKLOAD_KINDS.len() + 1 },
>(&["Namespace"], false);

/// Judges every pod and workload of the input in a namespace with Pod Security labels by one
/// check: the check of each rule of this module.
pub(crate) fn judge_check(check: CheckId, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
    let policies = inventory.shared(LabelledNamespaces::new);
    let policies = &policies.0;
    if policies.is_empty() {
        return;
    }
    for (index, entry) in inventory.objects.iter().enumerate() {
        if pod_spec_location(entry.kind()).is_none() {
            continue;
        }
        let namespace = entry
            .namespace()
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default");
        if let Some(policy) = policies.get(namespace) {
            judge(
                check,
                &entry.object_unlocated(),
                namespace,
                policy,
                index,
                out,
            );
        }
    }
}

/// The policy of every namespace of the input with Pod Security labels
/// ([`palisade_pss::namespace_policies`]), under admission's built-in defaults
/// (`privileged:latest` for absent labels).
struct LabelledNamespaces(HashMap<String, Policy>);

impl LabelledNamespaces {
    fn new(objects: Objects<'_>) -> Self {
        let namespaces: Vec<Object> = objects
            .of_kinds(&["Namespace"])
            .map(|(_, o)| o.into_owned())
            .collect();
        LabelledNamespaces(
            palisade_pss::namespace_policies(&namespaces, &Policy::default())
                .into_iter()
                .filter(|(_, namespace)| namespace.labelled)
                .map(|(name, namespace)| (name.to_owned(), namespace.policy))
                .collect(),
        )
    }
}

/// The violation of `check` at a level and version, if any.
fn violation(object: &Object, check: CheckId, lv: LevelVersion) -> Option<Violation> {
    if lv.level == Level::Privileged {
        return None;
    }
    evaluate(&object.value, lv.level, lv.version)?
        .violations
        .into_iter()
        .find(|v| v.check == check)
}

fn describe(violation: &Violation) -> String {
    if violation.detail.is_empty() {
        violation.reason.clone()
    } else {
        format!("{} ({})", violation.reason, violation.detail)
    }
}

fn judge(
    check: CheckId,
    object: &Object,
    namespace: &str,
    policy: &Policy,
    index: usize,
    out: &mut Vec<(usize, Emit)>,
) {
    let subject = if object.kind() == "Pod" {
        "the pod"
    } else {
        "its pods"
    };
    if let Some(found) = violation(object, check, policy.enforce) {
        let message = format!(
            "{}: violates PodSecurity \"{}\" enforced on namespace {namespace}; {subject} will be rejected at admission",
            describe(&found),
            policy.enforce
        );
        emit(&found, message, Severity::High, index, out);
        return;
    }
    let mut modes: Vec<(Mode, LevelVersion, Violation)> = Vec::new();
    for mode in [Mode::Warn, Mode::Audit] {
        if let Some(found) = violation(object, check, policy.get(mode)) {
            modes.push((mode, policy.get(mode), found));
        }
    }
    let Some((_, _, found)) = modes.first() else {
        return;
    };
    let how: Vec<String> = modes
        .iter()
        .map(|(mode, lv, _)| format!("{mode} \"{lv}\""))
        .collect();
    let message = format!(
        "{}: namespace {namespace} would report it ({}) but admits {subject}",
        describe(found),
        how.join(", ")
    );
    emit(found, message, Severity::Low, index, out);
}

fn emit(
    violation: &Violation,
    message: String,
    severity: Severity,
    index: usize,
    out: &mut Vec<(usize, Emit)>,
) {
    for pointer in &violation.pointers {
        out.push((
            index,
            Emit::new(pointer.clone(), message.clone()).with_severity(severity),
        ));
    }
}

#[cfg(test)]
mod tests {
    use palisade_core::rule::Framework;
    use palisade_pss::CheckId;

    #[test]
    fn one_rule_per_check_in_the_engines_order() {
        let rules: Vec<_> = crate::registry()
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.category == "pss")
            .collect();
        assert_eq!(rules.len(), CheckId::ALL.len());
        for (i, (meta, id)) in rules.iter().zip(CheckId::ALL).enumerate() {
            let check = palisade_pss::check(id);
            assert_eq!(meta.id, format!("PSS{:03}", i + 1));
            assert!(
                meta.title
                    .starts_with(&format!("Pod Security {}: ", check.level)),
                "{}",
                meta.title
            );
            assert!(
                meta.summary.starts_with(&format!(
                    "{}{} level, check `{id}`.",
                    check.level.to_string()[..1].to_ascii_uppercase(),
                    &check.level.to_string()[1..]
                )),
                "{}: {}",
                meta.id,
                meta.summary
            );
            let control = format!("{}/{id}", check.level);
            assert!(
                meta.references
                    .iter()
                    .any(|r| r.framework == Framework::Pss && r.id == control),
                "{} does not reference {control}",
                meta.id
            );
            let kebab: String = id
                .as_str()
                .chars()
                .enumerate()
                .flat_map(|(i, c)| match c {
                    '_' => vec!['-'],
                    c if c.is_ascii_uppercase() && i > 0 => vec!['-', c.to_ascii_lowercase()],
                    c => vec![c],
                })
                .collect();
            assert_eq!(meta.slug, format!("pss-{kebab}"));
        }
    }
}
