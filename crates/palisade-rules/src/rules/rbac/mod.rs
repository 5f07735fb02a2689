//! RBAC rules: the risky permissions the RBAC engine finds (`palisade_rbac::risks`), one rule per
//! risk, with the engine's metadata. The risks of an input are computed once and shared by the
//! rules that run on it.

use std::sync::{Arc, Mutex, PoisonError};

use palisade_core::rule::RuleMeta;
use palisade_core::Object;
use palisade_rbac::{risks, Options, Policy, Risk, RBAC_GROUP, RISKS};

use crate::{Emit, Inventory, Rule, Scope};

/// One risk of the RBAC engine as a scan rule: findings at the rule or binding line the risk
/// points to, with the risk's severity.
pub struct RiskRule(&'static RuleMeta);

impl Rule for RiskRule {
    fn meta(&self) -> &'static RuleMeta {
        self.0
    }

    fn scope(&self) -> Scope {
        Scope::Inventory
    }

    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let analysis = analysis(inventory.objects);
        for risk in analysis.risks.iter().filter(|r| r.id == self.0.id) {
            out.push((
                risk.object,
                Emit::new(risk.pointer.clone(), risk.message.clone()).with_severity(risk.severity),
            ));
        }
    }
}

pub static RBAC001: RiskRule = RiskRule(&RISKS[0]);
pub static RBAC002: RiskRule = RiskRule(&RISKS[1]);
pub static RBAC003: RiskRule = RiskRule(&RISKS[2]);
pub static RBAC004: RiskRule = RiskRule(&RISKS[3]);
pub static RBAC005: RiskRule = RiskRule(&RISKS[4]);
pub static RBAC006: RiskRule = RiskRule(&RISKS[5]);
pub static RBAC007: RiskRule = RiskRule(&RISKS[6]);
pub static RBAC008: RiskRule = RiskRule(&RISKS[7]);
pub static RBAC009: RiskRule = RiskRule(&RISKS[8]);
pub static RBAC010: RiskRule = RiskRule(&RISKS[9]);
pub static RBAC011: RiskRule = RiskRule(&RISKS[10]);
pub static RBAC012: RiskRule = RiskRule(&RISKS[11]);
pub static RBAC013: RiskRule = RiskRule(&RISKS[12]);

/// The objects the RBAC engine reads.
fn relevant(object: &Object) -> bool {
    (object.group() == RBAC_GROUP
        && matches!(
            object.kind(),
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        ))
        || (object.kind() == "ServiceAccount" && object.api_version() == "v1")
}

/// The risks of the last input analysed, with a copy of the objects they were computed from
/// (and their indexes) to recognise that input.
struct Analysis {
    objects: Vec<(usize, Object)>,
    risks: Vec<Risk>,
}

static LAST: Mutex<Option<Arc<Analysis>>> = Mutex::new(None);

fn same(stored: &[(usize, Object)], objects: &[Object]) -> bool {
    let mut current = objects.iter().enumerate().filter(|(_, o)| relevant(o));
    stored.iter().all(|(index, x)| {
        current.next().is_some_and(|(i, y)| {
            i == *index
                && x.document == y.document
                && x.item == y.item
                && x.source.path == y.source.path
                && x.value == y.value
        })
    }) && current.next().is_none()
}

/// The risks of `objects`: computed by the first RBAC rule that runs on an input, then reused
/// by the others. The default policy is included so that bindings to `view`, `edit`, `admin`
/// and the `system:` roles resolve as on a real cluster.
fn analysis(objects: &[Object]) -> Arc<Analysis> {
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = last.as_ref().filter(|a| same(&a.objects, objects)) {
        return Arc::clone(hit);
    }
    let kept: Vec<(usize, Object)> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| relevant(o))
        .map(|(i, o)| (i, o.clone()))
        .collect();
    let policy = Policy::with_options(
        kept.iter().map(|(i, o)| (*i, o)),
        &Options {
            with_defaults: true,
            ..Options::default()
        },
    );
    let fresh = Arc::new(Analysis {
        risks: risks(&policy),
        objects: kept,
    });
    *last = Some(Arc::clone(&fresh));
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{load_str, Limits};

    #[test]
    fn every_risk_is_a_rule_with_its_id() {
        let rules = [
            &RBAC001, &RBAC002, &RBAC003, &RBAC004, &RBAC005, &RBAC006, &RBAC007, &RBAC008,
            &RBAC009, &RBAC010, &RBAC011, &RBAC012, &RBAC013,
        ];
        assert_eq!(rules.len(), RISKS.len());
        for (i, rule) in rules.iter().enumerate() {
            assert_eq!(rule.meta().id, format!("RBAC{:03}", i + 1));
        }
    }

    const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- {apiGroups: [\"\"], resources: [secrets], verbs: [list]}
";

    #[test]
    fn the_analysis_follows_the_input() {
        let limits = Limits::default();
        let first = load_str(ROLE, "a.yaml", &limits).objects;
        let found = analysis(&first);
        assert_eq!(found.risks.len(), 1);
        assert!(same(&found.objects, &first));
        let changed = load_str(&ROLE.replace("list", "create"), "a.yaml", &limits).objects;
        assert!(!same(&found.objects, &changed));
        assert!(analysis(&changed).risks.is_empty());
        let mut moved = first.clone();
        moved.insert(
            0,
            load_str(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}",
                "b.yaml",
                &limits,
            )
            .objects[0]
                .clone(),
        );
        assert!(!same(&found.objects, &moved));
        assert_eq!(analysis(&moved).risks[0].object, 1);
        let mut more = first.clone();
        more.push(
            load_str(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}",
                "c.yaml",
                &limits,
            )
            .objects[0]
                .clone(),
        );
        assert!(!same(&found.objects, &more));
    }
}
