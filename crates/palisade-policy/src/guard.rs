//! The kinds a template's `violation` rule can report at all, read off its Rego.
//!
//! Many templates begin each `violation` body with comparisons of the reviewed kind to
//! constants (`input.review.kind.kind == "Service"`). A body whose first comparison of that
//! shape is false yields nothing, before any other expression of it is evaluated, so an
//! object whose kind fails such a comparison in every body cannot be reported by the template:
//! its evaluation can be skipped, and the result is the one the evaluation would give. A
//! template whose bodies do not all begin so has no guard and is evaluated for every object
//! its constraints select.
//!
//! The Rego is read through `regorus`'s syntax tree (`regorus::unstable`, pinned with the
//! crate's version in `Cargo.lock`).

use regorus::unstable::{BoolOp, Expr, Literal, Module, Query, Ref, Rule, RuleHead};
use regorus::Value;

/// A field of `input.review.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KindField {
    Group,
    Version,
    Kind,
}

/// For each body of `violation`, the constant each compared field of the reviewed kind must
/// equal for the body to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KindGuard {
    bodies: Vec<Vec<(KindField, String)>>,
}

impl KindGuard {
    /// Whether some body of `violation` may go on for a review of this group, version and
    /// kind (each `""` when the review's field is not a string).
    pub fn admits(&self, group: &str, version: &str, kind: &str) -> bool {
        self.bodies.iter().any(|conditions| {
            conditions.iter().all(|(field, value)| {
                value
                    == match field {
                        KindField::Group => group,
                        KindField::Version => version,
                        KindField::Kind => kind,
                    }
            })
        })
    }

    /// For each body, the group (`None`: any) and kind it requires, or `None` when some body
    /// does not compare the kind.
    pub fn kinds(&self) -> Option<Vec<(Option<&str>, &str)>> {
        self.bodies
            .iter()
            .map(|conditions| {
                let value = |f: KindField| {
                    conditions
                        .iter()
                        .find(|(field, _)| *field == f)
                        .map(|(_, v)| v.as_str())
                };
                Some((value(KindField::Group), value(KindField::Kind)?))
            })
            .collect()
    }
}

/// The guard of the `violation` rule of `package` (`data.` and the package path) defined in
/// `modules`, or `None` when some body of it does not begin with a comparison of the kind, or
/// when `violation` is defined other than as a set of rule bodies.
pub(crate) fn of_violation(modules: &[Ref<Module>], package: &str) -> Option<KindGuard> {
    let below = format!("{package}.violation");
    let mut bodies = Vec::new();
    for module in modules {
        let own = regorus::utils::get_path_string(&module.package.refr, Some("data")).ok()?;
        if own != package {
            // A package at or below `<package>.violation` would add to the rule's value.
            if own == below || own.starts_with(&format!("{below}.")) {
                return None;
            }
            continue;
        }
        for rule in &module.policy {
            match rule.as_ref() {
                Rule::Spec {
                    head, bodies: b, ..
                } => match rule_name(head) {
                    Some(("violation", true)) => {
                        for body in b {
                            if body.assign.is_some() {
                                return None;
                            }
                            bodies.push(leading_conditions(&body.query)?);
                        }
                    }
                    Some(("violation", false)) => return None,
                    _ => {}
                },
                Rule::Default { refr, .. } => {
                    if root_name(refr) == Some("violation") {
                        return None;
                    }
                }
            }
        }
    }
    (!bodies.is_empty()).then_some(KindGuard { bodies })
}

/// The root name of a rule head, and whether the head adds one element to a set
/// (`violation[x]`, `violation contains x`).
fn rule_name(head: &RuleHead) -> Option<(&str, bool)> {
    match head {
        RuleHead::Set { refr, key, .. } => {
            let name = var_name(refr)?;
            Some((name, key.is_some()))
        }
        RuleHead::Compr { refr, assign, .. } => match refr.as_ref() {
            Expr::RefBrack { refr: inner, .. } if assign.is_none() => {
                var_name(inner).map(|n| (n, true))
            }
            _ => root_name(refr).map(|n| (n, false)),
        },
        RuleHead::Func { refr, .. } => root_name(refr).map(|n| (n, false)),
    }
}

fn var_name(expr: &Ref<Expr>) -> Option<&str> {
    match expr.as_ref() {
        Expr::Var { value, .. } => value.as_string().ok().map(|s| s.as_ref()),
        _ => None,
    }
}

/// The variable a reference starts from.
fn root_name(expr: &Ref<Expr>) -> Option<&str> {
    match expr.as_ref() {
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => root_name(refr),
        _ => var_name(expr),
    }
}

/// The comparisons of the kind that begin a body (`some` declarations between them evaluate
/// nothing), or `None` when it begins with anything else.
fn leading_conditions(query: &Ref<Query>) -> Option<Vec<(KindField, String)>> {
    let mut conditions = Vec::new();
    for stmt in &query.stmts {
        if !stmt.with_mods.is_empty() {
            break;
        }
        match &stmt.literal {
            Literal::SomeVars { .. } => continue,
            Literal::Expr { expr, .. } => match kind_comparison(expr) {
                Some(condition) => conditions.push(condition),
                None => break,
            },
            _ => break,
        }
    }
    (!conditions.is_empty()).then_some(conditions)
}

/// `input.review.kind.<field> == "<constant>"`, either way round.
fn kind_comparison(expr: &Ref<Expr>) -> Option<(KindField, String)> {
    let Expr::BoolExpr {
        op: BoolOp::Eq,
        lhs,
        rhs,
        ..
    } = expr.as_ref()
    else {
        return None;
    };
    let (field, constant) = match (kind_field(lhs), string(rhs)) {
        (Some(f), Some(c)) => (f, c),
        _ => (kind_field(rhs)?, string(lhs)?),
    };
    Some((field, constant.to_owned()))
}

fn string(expr: &Ref<Expr>) -> Option<&str> {
    match expr.as_ref() {
        Expr::String { value, .. } | Expr::RawString { value, .. } => {
            value.as_string().ok().map(|s| s.as_ref())
        }
        _ => None,
    }
}

/// The field of `input.review.kind` that an expression reads, by dots or by string index.
fn kind_field(expr: &Ref<Expr>) -> Option<KindField> {
    let path = ref_path(expr)?;
    let [input, review, kind, field] = path.as_slice() else {
        return None;
    };
    if (input.as_str(), review.as_str(), kind.as_str()) != ("input", "review", "kind") {
        return None;
    }
    match field.as_str() {
        "group" => Some(KindField::Group),
        "version" => Some(KindField::Version),
        "kind" => Some(KindField::Kind),
        _ => None,
    }
}

/// The names of a reference made of a variable and constant fields.
fn ref_path(expr: &Ref<Expr>) -> Option<Vec<String>> {
    let field_name = |v: &Value| v.as_string().ok().map(|s| s.as_ref().to_owned());
    match expr.as_ref() {
        Expr::Var { value, .. } => Some(vec![field_name(value)?]),
        Expr::RefDot { refr, field, .. } => {
            let mut path = ref_path(refr)?;
            path.push(field_name(&field.1)?);
            Some(path)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut path = ref_path(refr)?;
            path.push(string(index)?.to_owned());
            Some(path)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(sources: &[&str], v1: bool) -> Option<KindGuard> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!v1);
        let mut package = String::new();
        for (i, text) in sources.iter().enumerate() {
            let p = engine
                .add_policy(format!("t#{i}"), (*text).to_owned())
                .unwrap();
            if i == 0 {
                package = p;
            }
        }
        of_violation(engine.get_modules(), &package)
    }

    #[test]
    fn leading_kind_comparisons_in_every_body_make_the_guard() {
        let text = r#"package k
violation[{"msg": "s"}] {
  input.review.kind.kind == "Service"
  input.review.kind.version == "v1"
  "" == input.review.kind["group"]
  input.review.object.spec.x
}
violation[{"msg": "i"}] {
  some x
  input.review.kind.kind == "Ingress"
  input.review.kind.group == "networking.k8s.io"
  x := 1
}
helper(x) { x }
"#;
        let g = guard(&[text], false).expect("a guard");
        assert!(g.admits("", "v1", "Service"));
        assert!(!g.admits("", "v2", "Service"));
        assert!(!g.admits("apps", "v1", "Service"));
        assert!(g.admits("networking.k8s.io", "v1beta1", "Ingress"));
        assert!(!g.admits("", "v1", "Ingress"));
        assert!(!g.admits("apps", "v1", "Deployment"));
        assert_eq!(
            g.kinds(),
            Some(vec![
                (Some(""), "Service"),
                (Some("networking.k8s.io"), "Ingress")
            ])
        );
    }

    #[test]
    fn a_body_without_a_leading_comparison_leaves_the_template_unguarded() {
        let later = r#"package k
violation[{"msg": "s"}] {
  input.review.kind.kind == "Service"
}
violation[{"msg": "o"}] {
  x := input.review.object
  input.review.kind.kind == "Pod"
}
"#;
        assert_eq!(guard(&[later], false), None);
        let unification =
            "package k\nviolation[{\"msg\": \"s\"}] {\n  input.review.kind.kind = \"Service\"\n}\n";
        assert_eq!(guard(&[unification], false), None);
        let other_field =
            "package k\nviolation[{\"msg\": \"s\"}] {\n  input.review.name == \"x\"\n}\n";
        assert_eq!(guard(&[other_field], false), None);
        let with = "package k\nviolation[{\"msg\": \"s\"}] {\n  input.review.kind.kind == \"Service\" with input as {}\n}\n";
        assert_eq!(guard(&[with], false), None);
    }

    #[test]
    fn violation_defined_otherwise_leaves_the_template_unguarded() {
        let complete = "package k\nviolation = {{\"msg\": \"s\"}} {\n  input.review.kind.kind == \"Service\"\n}\n";
        assert_eq!(guard(&[complete], false), None);
        // A lib in the same package adds an unguarded body.
        let main = "package k\nviolation[{\"msg\": \"s\"}] {\n  input.review.kind.kind == \"Service\"\n}\n";
        let lib = "package k\nviolation[{\"msg\": \"l\"}] {\n  input.review.object\n}\n";
        assert_eq!(guard(&[main, lib], false), None);
        // A lib of another package does not count.
        let other = "package lib.k\nviolation[{\"msg\": \"l\"}] {\n  input.review.object\n}\n";
        assert!(guard(&[main, other], false).is_some());
    }

    #[test]
    fn rego_v1_heads_are_read_alike() {
        let text = "package k\nviolation contains {\"msg\": \"s\"} if {\n  input.review.kind.kind == \"Service\"\n}\n";
        let g = guard(&[text], true).expect("a guard");
        assert!(g.admits("", "v1", "Service"));
        assert!(!g.admits("", "v1", "Pod"));
        assert_eq!(g.kinds(), Some(vec![(None, "Service")]));
    }
}
