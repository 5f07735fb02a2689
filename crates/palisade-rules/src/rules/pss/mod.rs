//! Pod Security Standards rules: one rule per check of the Pod Security Admission engine
//! (`palisade_pss`), in the engine's order. Each workload is judged by the policy of its
//! namespace when the input holds that Namespace with Pod Security labels: what `enforce` rejects
//! is reported high, what only `warn` or `audit` report is reported low. Workloads in other
//! namespaces are left to the hardening rules, which check the same fields everywhere.

pub mod allow_privilege_escalation;
pub mod app_armor_profile;
pub mod capabilities_baseline;
pub mod capabilities_restricted;
pub mod host_namespaces;
pub mod host_path_volumes;
pub mod host_ports;
pub mod host_probes_and_host_lifecycle;
pub mod privileged;
pub mod proc_mount;
pub mod proc_mount_restricted;
pub mod restricted_volumes;
pub mod run_as_non_root;
pub mod run_as_user;
pub mod se_linux_options;
pub mod seccomp_profile_baseline;
pub mod seccomp_profile_restricted;
pub mod sysctls;
pub mod windows_host_process;

use std::collections::HashMap;

use palisade_core::rule::{RuleMeta, Severity};
use palisade_core::views::pod_spec_location;
use palisade_core::Object;
use palisade_pss::{evaluate, Level, LevelVersion, Mode, Policy, Violation, LABEL_PREFIX};

use crate::{Checker, Emit, Inventory, InventoryRule, Rule};
use palisade_core::rule::FixSafety;

/// Namespaces and every kind with a pod spec.
pub(crate) const KINDS: &[&str] = &palisade_core::views::kinds::<10>(&["Namespace"], false);

/// One Pod Security check as a scan rule.
pub struct CheckRule {
    /// The engine's check ID.
    pub check: &'static str,
    pub meta: &'static RuleMeta,
}

impl Rule for CheckRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn fix_safety(&self) -> Option<FixSafety> {
        None
    }

    fn finds_credentials(&self) -> bool {
        false
    }

    fn checker(&self) -> Checker<'_> {
        Checker::Inventory(self)
    }
}

impl InventoryRule for CheckRule {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let policies = inventory.shared(LabelledNamespaces::new);
        let policies = &policies.0;
        if policies.is_empty() {
            return;
        }
        for (index, object) in inventory.objects.iter().enumerate() {
            if pod_spec_location(object.kind()).is_none() {
                continue;
            }
            let namespace = object
                .namespace()
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default");
            if let Some(policy) = policies.get(namespace) {
                judge(self.check, object, namespace, policy, index, out);
            }
        }
    }
}

/// Whether a Namespace carries any Pod Security label.
pub(crate) fn has_pss_labels(object: &Object) -> bool {
    object
        .labels()
        .is_some_and(|labels| labels.keys().any(|k| k.starts_with(LABEL_PREFIX)))
}

/// The policy of every Namespace of the input that has Pod Security labels, under admission's
/// built-in defaults (`privileged:latest` for absent labels). A namespace the input labels more
/// than once (overlays, alternative components) is judged by the definition that enforces the
/// least strict level: only what every definition rejects is certain to be rejected.
struct LabelledNamespaces(HashMap<String, Policy>);

impl LabelledNamespaces {
    fn new(objects: &[Object]) -> Self {
        let mut policies: HashMap<String, Policy> = HashMap::new();
        for object in objects
            .iter()
            .filter(|o| o.kind() == "Namespace" && !o.name().is_empty() && has_pss_labels(o))
        {
            let (policy, _) = palisade_pss::namespace_policy(&object.value, &Policy::default());
            policies
                .entry(object.name().to_owned())
                .and_modify(|known| {
                    if policy.enforce.level < known.enforce.level {
                        *known = policy;
                    }
                })
                .or_insert(policy);
        }
        LabelledNamespaces(policies)
    }
}

/// The violation of `check` at a level and version, if any.
fn violation(object: &Object, check: &str, lv: LevelVersion) -> Option<Violation> {
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
    check: &str,
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

    #[test]
    fn one_rule_per_check_in_the_engines_order() {
        let rules: Vec<_> = crate::registry()
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.category == "pss")
            .collect();
        let checks = palisade_pss::checks();
        assert_eq!(rules.len(), checks.len());
        for (i, (meta, check)) in rules.iter().zip(checks).enumerate() {
            assert_eq!(meta.id, format!("PSS{:03}", i + 1));
            assert!(
                meta.title
                    .starts_with(&format!("Pod Security {}: ", check.level)),
                "{}",
                meta.title
            );
            let control = format!("{}/{}", check.level, check.id);
            assert!(
                meta.references
                    .iter()
                    .any(|r| r.framework == Framework::Pss && r.id == control),
                "{} does not reference {control}",
                meta.id
            );
            let kebab: String = check
                .id
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
