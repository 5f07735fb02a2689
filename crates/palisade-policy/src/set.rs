//! Loading templates and constraints, and reviewing objects against them.

use std::time::Duration;

use palisade_core::{Object, Pos};
use serde_json::{json, Value};

use crate::error::{at, str_at, PolicyError, PolicyErrorKind};
use crate::inventory::Inventory;
use crate::matching::{labels_of, Match, Target};
use crate::rego::RegoProgram;
use crate::review::Review;
use crate::{schema, ADMISSION_TARGET, CONSTRAINTS_GROUP, TEMPLATES_GROUP};

/// How long one evaluation of one constraint may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_evaluation: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            per_evaluation: Duration::from_millis(500),
        }
    }
}

/// A constraint's `spec.enforcementAction`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnforcementAction {
    Deny,
    Warn,
    Dryrun,
    /// `scoped` or an action this version does not know, kept as written.
    Other(String),
}

impl EnforcementAction {
    pub fn parse(text: Option<&str>) -> EnforcementAction {
        match text.unwrap_or("deny") {
            "" | "deny" => EnforcementAction::Deny,
            "warn" => EnforcementAction::Warn,
            "dryrun" => EnforcementAction::Dryrun,
            other => EnforcementAction::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            EnforcementAction::Deny => "deny",
            EnforcementAction::Warn => "warn",
            EnforcementAction::Dryrun => "dryrun",
            EnforcementAction::Other(s) => s,
        }
    }
}

/// A loaded ConstraintTemplate.
#[derive(Debug, Clone)]
pub struct Template {
    /// `metadata.name` (`k8sallowedrepos`).
    pub name: String,
    /// The constraint kind it defines (`K8sAllowedRepos`).
    pub kind: String,
    pub file: String,
    pub pos: Pos,
    schema: Option<Value>,
    rego: RegoProgram,
}

/// A loaded Constraint whose template exists and whose parameters are valid.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub file: String,
    pub pos: Pos,
    pub matcher: Match,
    pub parameters: Value,
    pub action: EnforcementAction,
    template: usize,
}

impl Constraint {
    /// `Kind/name`, as findings and `gator` name a constraint.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// One violation of one constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The constraint kind (`K8sAllowedRepos`).
    pub kind: String,
    /// The constraint name (`repo-is-openpolicyagent`).
    pub name: String,
    pub message: String,
    pub details: Value,
    pub action: EnforcementAction,
}

impl Violation {
    /// `Kind/name` of the violated constraint.
    pub fn constraint(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The result of one review: the violations, and the evaluations that failed.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    pub errors: Vec<PolicyError>,
}

/// The loaded templates and constraints, with the inventory their Rego reads.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
    inventory: Inventory,
    /// Per template, its program with the inventory loaded (for templates that read it).
    with_inventory: Vec<Option<RegoProgram>>,
    budget: Budget,
}

/// Whether an object is a policy this crate loads (a ConstraintTemplate or a Constraint).
pub fn is_policy(value: &Value) -> bool {
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (group == TEMPLATES_GROUP
        && value.get("kind").and_then(Value::as_str) == Some("ConstraintTemplate"))
        || group == CONSTRAINTS_GROUP
}

fn error(
    object: &Object,
    pointer: &str,
    kind: PolicyErrorKind,
    policy: &str,
    message: String,
) -> PolicyError {
    PolicyError {
        file: object.source.path.clone(),
        pos: object.locate(pointer),
        kind,
        policy: policy.to_owned(),
        message,
    }
}

impl PolicySet {
    /// Loads every ConstraintTemplate and Constraint among `objects` (other objects are
    /// ignored), and returns the policies that cannot be used as errors.
    pub fn load<'a>(
        objects: impl IntoIterator<Item = &'a Object>,
    ) -> (PolicySet, Vec<PolicyError>) {
        let mut set = PolicySet::default();
        let mut errors = Vec::new();
        let mut constraints = Vec::new();
        for object in objects {
            if !is_policy(&object.value) {
                continue;
            }
            if object.kind() == "ConstraintTemplate" {
                match load_template(object) {
                    Ok(t) => {
                        if let Some(old) = set.templates.iter().position(|o| o.kind == t.kind) {
                            set.templates[old] = t;
                        } else {
                            set.templates.push(t);
                        }
                    }
                    Err(e) => errors.push(e),
                }
            } else {
                constraints.push(object);
            }
        }
        for object in constraints {
            match set.load_constraint(object) {
                Ok(c) => set.constraints.push(c),
                Err(e) => errors.push(e),
            }
        }
        set.with_inventory = vec![None; set.templates.len()];
        (set, errors)
    }

    /// Sets the time budget of each evaluation.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    /// Sets the cluster state that referential templates read as `data.inventory` and that
    /// namespace selectors read Namespace labels from.
    pub fn set_inventory(&mut self, inventory: Inventory) -> Vec<PolicyError> {
        let mut errors = Vec::new();
        let data = (!inventory.is_empty()).then(|| inventory.to_data());
        self.with_inventory = self
            .templates
            .iter()
            .map(|t| {
                let data = data.as_ref().filter(|_| t.rego.uses_inventory)?;
                match t.rego.with_data(data) {
                    Ok(p) => Some(p),
                    Err(message) => {
                        errors.push(PolicyError {
                            file: t.file.clone(),
                            pos: t.pos,
                            kind: PolicyErrorKind::Evaluation,
                            policy: t.name.clone(),
                            message,
                        });
                        None
                    }
                }
            })
            .collect();
        self.inventory = inventory;
        errors
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    fn load_constraint(&self, object: &Object) -> Result<Constraint, PolicyError> {
        let kind = object.kind().to_owned();
        let name = object.name().to_owned();
        let id = format!("{kind}/{name}");
        if name.is_empty() {
            return Err(error(
                object,
                "/metadata",
                PolicyErrorKind::InvalidConstraint,
                &id,
                "the constraint has no name".into(),
            ));
        }
        let Some(template) = self.templates.iter().position(|t| t.kind == kind) else {
            return Err(error(
                object,
                "/kind",
                PolicyErrorKind::MissingTemplate,
                &id,
                format!("no ConstraintTemplate defines kind {kind}"),
            ));
        };
        let spec = object.value.get("spec");
        let matcher = Match::parse(spec.and_then(|s| s.get("match"))).map_err(|m| {
            error(
                object,
                "/spec/match",
                PolicyErrorKind::InvalidConstraint,
                &id,
                m,
            )
        })?;
        let parameters = spec
            .and_then(|s| s.get("parameters"))
            .filter(|p| !p.is_null())
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(schema) = &self.templates[template].schema {
            if !parameters.is_null() {
                let problems = schema::validate(&parameters, schema);
                if !problems.is_empty() {
                    return Err(error(
                        object,
                        "/spec/parameters",
                        PolicyErrorKind::InvalidParameters,
                        &id,
                        problems.join("; "),
                    ));
                }
            }
        }
        Ok(Constraint {
            action: EnforcementAction::parse(str_at(&object.value, &["spec", "enforcementAction"])),
            kind,
            name,
            file: object.source.path.clone(),
            pos: object.locate("/metadata/name"),
            matcher,
            parameters,
            template,
        })
    }

    /// Reviews one object against every constraint whose `spec.match` selects it.
    pub fn review(&self, review: &Review) -> Outcome {
        let mut outcome = Outcome::default();
        if self.constraints.is_empty() {
            return outcome;
        }
        let object = review.object();
        let namespace = review.namespace();
        let target = Target {
            group: review.kind_field("group"),
            kind: review.kind_field("kind"),
            name: review.name(),
            namespace,
            labels: labels_of(object),
            namespace_labels: self.inventory.namespace_labels(namespace).cloned(),
        };
        for constraint in &self.constraints {
            let fail = |kind, message| PolicyError {
                file: constraint.file.clone(),
                pos: constraint.pos,
                kind,
                policy: constraint.id(),
                message,
            };
            match constraint.matcher.matches(&target) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(message) => {
                    outcome
                        .errors
                        .push(fail(PolicyErrorKind::Evaluation, message));
                    continue;
                }
            }
            let template = &self.templates[constraint.template];
            let program = self
                .with_inventory
                .get(constraint.template)
                .and_then(Option::as_ref)
                .unwrap_or(&template.rego);
            let input = json!({"review": review.request(), "parameters": constraint.parameters});
            match program.evaluate(&input, self.budget.per_evaluation) {
                Ok(found) => outcome
                    .violations
                    .extend(found.into_iter().map(|v| Violation {
                        kind: constraint.kind.clone(),
                        name: constraint.name.clone(),
                        message: v.msg,
                        details: v.details,
                        action: constraint.action.clone(),
                    })),
                Err((message, over_budget)) => {
                    let kind = if over_budget {
                        PolicyErrorKind::Budget
                    } else {
                        PolicyErrorKind::Evaluation
                    };
                    outcome.errors.push(fail(kind, message));
                }
            }
        }
        outcome
    }
}

fn load_template(object: &Object) -> Result<Template, PolicyError> {
    let value = &object.value;
    let name = object.name().to_owned();
    let invalid = |pointer: &str, message: &str| {
        error(
            object,
            pointer,
            PolicyErrorKind::InvalidTemplate,
            &name,
            message.to_owned(),
        )
    };
    let kind = str_at(value, &["spec", "crd", "spec", "names", "kind"])
        .filter(|k| !k.is_empty())
        .ok_or_else(|| invalid("/spec", "spec.crd.spec.names.kind is missing"))?
        .to_owned();
    let schema = at(
        value,
        &["spec", "crd", "spec", "validation", "openAPIV3Schema"],
    )
    .filter(|s| s.is_object())
    .cloned();
    let targets = at(value, &["spec", "targets"])
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("/spec", "spec.targets is missing"))?;
    let (index, target) = targets
        .iter()
        .enumerate()
        .find(|(_, t)| t.get("target").and_then(Value::as_str) == Some(ADMISSION_TARGET))
        .ok_or_else(|| invalid("/spec/targets", "no target admission.k8s.gatekeeper.sh"))?;
    let base = format!("/spec/targets/{index}");
    // `rego` and `libs` on the target, or a `code` entry with `engine: Rego`.
    let (pointer, source) = if target.get("rego").is_some() {
        (base, target)
    } else {
        let found = target.get("code").and_then(Value::as_array).and_then(|c| {
            c.iter()
                .enumerate()
                .find(|(_, e)| e.get("engine").and_then(Value::as_str) == Some("Rego"))
        });
        match found {
            Some((i, entry)) => (format!("{base}/code/{i}/source"), &entry["source"]),
            None => return Err(invalid(&base, "the target has no Rego")),
        }
    };
    let rego = source
        .get("rego")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&pointer, "rego is missing"))?;
    let libs: Vec<&str> = source
        .get("libs")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut sources = vec![rego];
    sources.extend(libs.iter().copied());
    let v1 = source.get("version").and_then(Value::as_str) == Some("v1");
    let rego = RegoProgram::compile(&name, &sources, v1).map_err(|e| {
        let field = if e.source == 0 {
            format!("{pointer}/rego")
        } else {
            format!("{pointer}/libs/{}", e.source - 1)
        };
        let mut pos = object.locate_value(&field);
        let text = sources.get(e.source).copied().unwrap_or("");
        if pos.line > 0 && e.line > 0 {
            // The value of a block scalar is located at its first line of content.
            pos = if text.contains('\n') {
                Pos::new(pos.line + e.line - 1, 1)
            } else {
                pos
            };
        }
        PolicyError {
            file: object.source.path.clone(),
            pos,
            kind: PolicyErrorKind::RegoCompile,
            policy: name.clone(),
            message: e.message,
        }
    })?;
    Ok(Template {
        name: name.clone(),
        kind,
        file: object.source.path.clone(),
        pos: object.locate("/metadata/name"),
        schema,
        rego,
    })
}
