//! RBAC rules: the risky permissions the RBAC engine finds (`palisade_rbac::risks`), one rule per
//! risk, with the engine's metadata. The risks of an input are computed once and shared by the
//! rules that run on it.

use palisade_core::rule::RuleMeta;
use palisade_core::Object;
use palisade_rbac::{risks, Options, Policy, Risk, RBAC_GROUP, RISKS};

use crate::{Checker, Emit, Inventory, InventoryRule, Rule};
use palisade_core::rule::FixSafety;

/// One risk of the RBAC engine as a scan rule: findings at the rule or binding line the risk
/// points to, with the risk's severity.
pub struct RiskRule(&'static RuleMeta);

impl Rule for RiskRule {
    fn meta(&self) -> &'static RuleMeta {
        self.0
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

impl InventoryRule for RiskRule {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let analysis = inventory.shared(analysis);
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

/// The RBAC engine's risks over the input, shared by the RBAC rules.
struct Analysis {
    risks: Vec<Risk>,
}

/// The risks of `objects`, computed once per input for all RBAC rules. The default policy is
/// included so that bindings to `view`, `edit`, `admin` and the `system:` roles resolve as on a
/// real cluster.
fn analysis(objects: &[Object]) -> Analysis {
    let policy = Policy::with_options(
        objects.iter().enumerate().filter(|(_, o)| relevant(o)),
        &Options {
            with_defaults: true,
            ..Options::default()
        },
    );
    Analysis {
        risks: risks(&policy),
    }
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
    fn risks_point_at_their_object_in_the_input() {
        let limits = Limits::default();
        let first = load_str(ROLE, "a.yaml", &limits).objects;
        assert_eq!(analysis(&first).risks.len(), 1);
        let changed = load_str(&ROLE.replace("list", "create"), "a.yaml", &limits).objects;
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
        assert_eq!(analysis(&moved).risks[0].object, 1);
    }
}
