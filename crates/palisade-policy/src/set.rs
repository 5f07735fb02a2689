//! Loading templates and constraints, and reviewing objects against them.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use palisade_core::{Object, Pos};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::cel::{to_cel, Bindings, CelProgram, Evaluation};
use crate::error::{at, str_at, PolicyError, PolicyErrorKind};
use crate::guard::KindGuard;
use crate::inventory::Inventory;
use crate::matching::{labels_of, Match, Target};
use crate::rego::RegoProgram;
use crate::review::Review;
use crate::vap::{Binding, FailurePolicy, Vap, VapTarget, VAP_GROUP};
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

/// Which engine evaluates templates that carry both Rego and CEL (`K8sNativeValidation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// Rego when the template has it, else CEL.
    #[default]
    Auto,
    /// Rego only: templates without Rego are not run.
    Rego,
    /// CEL only: templates without `K8sNativeValidation` are not run.
    Cel,
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
    rego: Option<RegoProgram>,
    cel: Option<Arc<CelProgram>>,
    /// Whether its CEL names `namespaceObject` (the Namespace of the object under review).
    cel_reads_namespace: bool,
}

impl Template {
    pub fn has_rego(&self) -> bool {
        self.rego.is_some()
    }

    /// Whether the template carries a `K8sNativeValidation` (CEL) engine.
    pub fn has_cel(&self) -> bool {
        self.cel.is_some()
    }
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
    /// `parameters` as Rego reads them, converted once.
    rego_parameters: regorus::Value,
    /// The whole constraint (which CEL reads as `params`) and its parameters, converted once.
    cel_object: cel::Value,
    cel_parameters: cel::Value,
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

/// The result of one review: the violations, the evaluations that failed, and the audit
/// annotations of the ValidatingAdmissionPolicies that apply.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    pub errors: Vec<PolicyError>,
    /// The `auditAnnotations` of the ValidatingAdmissionPolicies evaluated, as the API server
    /// adds them to the request's audit event: `<policy name>/<key>` and the value (a value
    /// that is null or empty is left out; one over 10 KiB is cut). When several bindings of a
    /// policy give different values, the distinct values are joined, sorted, with `", "`.
    pub audit_annotations: BTreeMap<String, String>,
}

/// JSON as Rego reads it, converted without copying the JSON first (as
/// `regorus::Value::from(serde_json::Value)` does, a value that cannot be converted is
/// undefined).
fn to_rego(value: &Value) -> regorus::Value {
    regorus::Value::deserialize(value).unwrap_or(regorus::Value::Undefined)
}

/// One review as each engine reads it, converted on first use and then shared by every policy
/// that evaluates it (the converted values share their contents, so a copy is cheap).
struct Converted<'r> {
    review: &'r Review,
    namespace_object: Option<&'r Value>,
    rego: OnceCell<regorus::Value>,
    cel: OnceCell<Bindings>,
}

impl<'r> Converted<'r> {
    fn new(review: &'r Review, namespace_object: Option<&'r Value>) -> Self {
        Converted {
            review,
            namespace_object,
            rego: OnceCell::new(),
            cel: OnceCell::new(),
        }
    }

    /// `input.review`.
    fn rego(&self) -> regorus::Value {
        self.rego
            .get_or_init(|| to_rego(self.review.request()))
            .clone()
    }

    /// `object`, `oldObject`, `request` and `namespaceObject`; no `params` and no variables.
    fn cel(&self) -> Bindings {
        self.cel
            .get_or_init(|| Bindings {
                object: to_cel(self.review.object()),
                old_object: self.review.old_object().map_or(cel::Value::Null, to_cel),
                request: to_cel(self.review.request()),
                params: cel::Value::Null,
                namespace_object: self.namespace_object.map_or(cel::Value::Null, to_cel),
                predefined: Vec::new(),
            })
            .clone()
    }
}

/// What reviewing one object needs, as [`PolicySet::needs`] tells from the object's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    /// No policy selects the object: its review finds nothing.
    Nothing,
    /// Some policies select it, and they read nothing but the object.
    Review,
    /// A policy that may select it reads other objects (`data.inventory`, the object's
    /// Namespace, parameter objects) or needs its Namespace to decide: review it once the
    /// cluster state is set.
    State,
}

/// A loaded ValidatingAdmissionPolicy, with what its evaluation reads besides the object.
#[derive(Debug, Clone)]
struct LoadedVap {
    vap: Vap,
    /// `matchConstraints.namespaceSelector` is set.
    namespace_selector: bool,
    /// Its CEL names `namespaceObject`.
    namespace_object: bool,
}

/// A loaded ValidatingAdmissionPolicyBinding with the index of its policy and where it was
/// written.
#[derive(Debug, Clone)]
struct LoadedBinding {
    binding: Binding,
    vap: usize,
    file: String,
    pos: Pos,
    /// `matchResources.namespaceSelector` is set.
    namespace_selector: bool,
    /// `paramRef.name`: the one name its parameter objects can have.
    param_name: Option<String>,
}

/// Whether `value` is a mapping with `field` set (not null).
fn has_field(value: Option<&Value>, field: &str) -> bool {
    value
        .and_then(|v| v.get(field))
        .is_some_and(|v| !v.is_null())
}

/// Whether some string in `value` (a policy's CEL) names `namespaceObject`.
fn names_namespace_object(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("namespaceObject"),
        Value::Array(items) => items.iter().any(names_namespace_object),
        Value::Object(map) => map.values().any(names_namespace_object),
        _ => false,
    }
}

/// The fields of an object that `spec.match` and `matchConstraints` read: its apiVersion, kind
/// and metadata.
fn identity_of(object: &Value) -> Value {
    let mut identity = serde_json::Map::new();
    for field in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = object.get(field) {
            identity.insert(field.into(), v.clone());
        }
    }
    Value::Object(identity)
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
    engine: EngineChoice,
    vaps: Vec<LoadedVap>,
    bindings: Vec<LoadedBinding>,
    /// Objects of the kinds that policies name as `paramKind`.
    params: Vec<Value>,
    /// What the loaded policies can select, by group and kind (built by [`PolicySet::load`]).
    kinds: KindFilter,
}

/// The groups and kinds that some loaded policy can select, so that [`PolicySet::needs`]
/// passes over an object that no policy selects without building its review.
///
/// It answers "maybe" for every object that a constraint's `spec.match.kinds` or a policy's
/// `matchConstraints.resourceRules` (groups and resources) lets through, whatever the other
/// parts of the match say; [`PolicySet::needs`] then decides as before.
#[derive(Debug, Clone, Default)]
struct KindFilter {
    /// Some constraint matches every group and kind.
    every_kind: bool,
    /// Groups in which some constraint matches every kind.
    every_kind_in: Vec<String>,
    /// By kind (`*` included), the groups in which some constraint matches it (`None`: every
    /// group).
    by_kind: HashMap<String, Option<Vec<String>>>,
    /// The policies that some binding uses (indexes into `PolicySet::vaps`).
    vaps: Vec<usize>,
}

impl KindFilter {
    fn build(set: &PolicySet) -> KindFilter {
        let mut filter = KindFilter::default();
        let wild = |list: &[String]| list.is_empty() || list.iter().any(|x| x == "*");
        for constraint in &set.constraints {
            if constraint.matcher.kinds.is_empty() {
                // A constraint that matches every kind reports only those its template's
                // guard admits.
                let template = &set.templates[constraint.template];
                match set.guard_of(template).and_then(KindGuard::kinds) {
                    Some(kinds) => {
                        for (group, kind) in kinds {
                            filter.add(kind, group.map(|g| vec![g.to_owned()]));
                        }
                    }
                    None => filter.every_kind = true,
                }
            }
            for k in &constraint.matcher.kinds {
                let groups = (!wild(&k.api_groups)).then(|| k.api_groups.clone());
                if wild(&k.kinds) {
                    match groups {
                        None => filter.every_kind = true,
                        Some(groups) => filter.every_kind_in.extend(groups),
                    }
                    continue;
                }
                for kind in &k.kinds {
                    filter.add(kind, groups.clone());
                }
            }
        }
        for b in &set.bindings {
            if !filter.vaps.contains(&b.vap) {
                filter.vaps.push(b.vap);
            }
        }
        filter
    }

    /// Adds a kind that some constraint matches in these groups (`None`: every group).
    fn add(&mut self, kind: &str, groups: Option<Vec<String>>) {
        let entry = self
            .by_kind
            .entry(kind.to_owned())
            .or_insert_with(|| Some(Vec::new()));
        match (&mut *entry, groups) {
            (Some(known), Some(groups)) => known.extend(groups),
            _ => *entry = None,
        }
    }

    /// Whether some loaded policy may select this object.
    fn may_select(&self, set: &PolicySet, object: &Value) -> bool {
        if self.every_kind {
            return true;
        }
        let field = |f: &str| object.get(f).and_then(Value::as_str).unwrap_or("");
        let (kind, api_version) = (field("kind"), field("apiVersion"));
        // As `Review::from_object` splits it.
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        if self.every_kind_in.iter().any(|g| g == group) {
            return true;
        }
        let in_groups = |groups: &Option<Vec<String>>| {
            groups.as_ref().is_none_or(|g| g.iter().any(|g| g == group))
        };
        if self.by_kind.get(kind).is_some_and(in_groups)
            || self.by_kind.get("*").is_some_and(in_groups)
        {
            return true;
        }
        if self.vaps.is_empty() {
            return false;
        }
        let resource = crate::vap::resource_of(kind);
        self.vaps
            .iter()
            .any(|&v| set.vaps[v].vap.may_match(group, &resource))
    }
}

/// Whether an object is a policy this crate loads (a ConstraintTemplate or a Constraint).
pub fn is_policy(value: &Value) -> bool {
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    (group == TEMPLATES_GROUP && kind == "ConstraintTemplate")
        || group == CONSTRAINTS_GROUP
        || (group == VAP_GROUP
            && matches!(
                kind,
                "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            ))
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
        pointer: pointer.to_owned(),
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
        let mut bindings = Vec::new();
        let mut others = Vec::new();
        for object in objects {
            if !is_policy(&object.value) {
                others.push(object);
                continue;
            }
            if object.kind() == "ValidatingAdmissionPolicy" {
                match Vap::parse(&object.value) {
                    Ok(vap) => {
                        let spec = object.value.get("spec");
                        set.vaps.retain(|v| v.vap.name != vap.name);
                        set.vaps.push(LoadedVap {
                            vap,
                            namespace_selector: has_field(
                                spec.and_then(|s| s.get("matchConstraints")),
                                "namespaceSelector",
                            ),
                            namespace_object: spec.is_some_and(names_namespace_object),
                        });
                    }
                    Err((at, message)) => errors.push(error(
                        object,
                        &at,
                        PolicyErrorKind::CelCompile,
                        object.name(),
                        message,
                    )),
                }
            } else if object.kind() == "ValidatingAdmissionPolicyBinding" {
                bindings.push(object);
            } else if object.kind() == "ConstraintTemplate" {
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
        for object in bindings {
            let id = format!("ValidatingAdmissionPolicyBinding/{}", object.name());
            match Binding::parse(&object.value) {
                Ok(b) => match set.vaps.iter().position(|v| v.vap.name == b.policy) {
                    Some(i) => set.bindings.push(LoadedBinding {
                        binding: b,
                        vap: i,
                        file: object.source.path.clone(),
                        pos: object.locate("/metadata/name"),
                        namespace_selector: has_field(
                            object
                                .value
                                .get("spec")
                                .and_then(|s| s.get("matchResources")),
                            "namespaceSelector",
                        ),
                        param_name: str_at(&object.value, &["spec", "paramRef", "name"])
                            .map(str::to_owned),
                    }),
                    None => errors.push(error(
                        object,
                        "/spec/policyName",
                        PolicyErrorKind::MissingTemplate,
                        &id,
                        format!("no ValidatingAdmissionPolicy named {}", b.policy),
                    )),
                },
                Err((at, message)) => errors.push(error(
                    object,
                    &at,
                    PolicyErrorKind::InvalidConstraint,
                    &id,
                    message,
                )),
            }
        }
        set.with_inventory = vec![None; set.templates.len()];
        set.add_params(others.into_iter().map(|o| &o.value));
        set.kinds = KindFilter::build(&set);
        (set, errors)
    }

    /// Adds parameter objects: those of `objects` that a binding may read as its parameters
    /// ([`PolicySet::is_param`]; the others are ignored), after those already known.
    pub fn add_params<'a>(&mut self, objects: impl IntoIterator<Item = &'a Value>) {
        let found: Vec<Value> = objects
            .into_iter()
            .filter(|o| self.is_param(o))
            .cloned()
            .collect();
        self.params.extend(found);
    }

    /// Whether a binding may read this object as its parameters: it is of its policy's
    /// `paramKind`, and has the name of its `paramRef`, if the `paramRef` names one.
    pub fn is_param(&self, object: &Value) -> bool {
        let field = |f: &str| object.get(f).and_then(Value::as_str).unwrap_or("");
        let name = str_at(object, &["metadata", "name"]);
        self.bindings.iter().any(|b| {
            self.vaps[b.vap]
                .vap
                .param_kind
                .as_ref()
                .is_some_and(|(api, kind)| field("apiVersion") == api && field("kind") == kind)
                && b.param_name.as_deref().is_none_or(|n| name == Some(n))
        })
    }

    /// Whether a template is evaluated with CEL (else with Rego), given the engine choice.
    fn uses_cel(&self, template: &Template) -> bool {
        match self.engine {
            EngineChoice::Auto => template.rego.is_none(),
            EngineChoice::Rego => false,
            EngineChoice::Cel => true,
        }
    }

    /// The guard of a template evaluated with Rego: the kinds its `violation` can report.
    fn guard_of<'t>(&self, template: &'t Template) -> Option<&'t KindGuard> {
        if self.uses_cel(template) {
            return None;
        }
        template.rego.as_ref()?.guard.as_ref()
    }

    /// Whether a template may report the object under review: `false` only when its guard
    /// rules the review's kind out, so that evaluating it would give nothing.
    fn may_report(&self, template: &Template, review: &Review) -> bool {
        self.guard_of(template).is_none_or(|guard| {
            guard.admits(
                review.kind_field("group"),
                review.kind_field("version"),
                review.kind_field("kind"),
            )
        })
    }

    /// Whether evaluating a template reads `data.inventory`.
    fn template_reads_inventory(&self, template: &Template) -> bool {
        !self.uses_cel(template) && template.rego.as_ref().is_some_and(|r| r.uses_inventory)
    }

    /// Whether evaluating a template reads the Namespace of a namespaced object.
    fn template_reads_namespace(&self, template: &Template) -> bool {
        self.uses_cel(template) && template.cel.is_some() && template.cel_reads_namespace
    }

    /// Whether some constraint is evaluated by a template whose Rego reads `data.inventory`:
    /// only then does [`PolicySet::set_inventory`] need more than the Namespaces.
    pub fn reads_inventory(&self) -> bool {
        self.constraints
            .iter()
            .any(|c| self.template_reads_inventory(&self.templates[c.template]))
    }

    /// Whether some policy reads the Namespaces of the inventory: a namespace selector, or CEL
    /// that reads `namespaceObject`.
    pub fn reads_namespaces(&self) -> bool {
        self.constraints.iter().any(|c| {
            c.matcher.namespace_selector.is_some()
                || self.template_reads_namespace(&self.templates[c.template])
        }) || self.bindings.iter().any(|b| {
            let vap = &self.vaps[b.vap];
            b.namespace_selector || vap.namespace_selector || vap.namespace_object
        })
    }

    /// What reviewing this plain object (as [`Review::from_object`] builds it) needs, decided
    /// from its apiVersion, kind and metadata alone. [`Needs::Nothing`] and [`Needs::Review`]
    /// do not depend on the cluster state: reviewing such an object before
    /// [`PolicySet::set_inventory`] and [`PolicySet::add_params`] gives what it gives after.
    pub fn needs(&self, object: &Value) -> Needs {
        if self.is_empty() || !self.kinds.may_select(self, object) {
            return Needs::Nothing;
        }
        self.needs_reviewed(object)
    }

    /// [`PolicySet::needs`] decided on the object's review, every policy in turn.
    fn needs_reviewed(&self, object: &Value) -> Needs {
        let review = Review::from_owned(identity_of(object));
        let namespace = review.namespace();
        let namespaced = !namespace.is_empty();
        let mut needs = Needs::Nothing;
        if !self.bindings.is_empty() {
            let target = VapTarget::new(&review, None);
            for b in &self.bindings {
                let vap = &self.vaps[b.vap];
                // A policy whose resource rules cannot select the object does not need its
                // Namespace to say so.
                if !vap.vap.may_select(&target) {
                    continue;
                }
                if namespaced && (b.namespace_selector || vap.namespace_selector) {
                    return Needs::State;
                }
                if !vap.vap.matches(&target) || !b.binding.matches(&target) {
                    continue;
                }
                if vap.vap.param_kind.is_some() || (namespaced && vap.namespace_object) {
                    return Needs::State;
                }
                needs = Needs::Review;
            }
        }
        let target = target_of(&review, None);
        for constraint in &self.constraints {
            match constraint.matcher.matches(&target) {
                Ok(false) => continue,
                Ok(true) => {}
                // The namespace selector needs the Namespace.
                Err(_) => return Needs::State,
            }
            let template = &self.templates[constraint.template];
            if !self.may_report(template, &review) {
                continue;
            }
            if self.template_reads_inventory(template)
                || (namespaced && self.template_reads_namespace(template))
            {
                return Needs::State;
            }
            needs = Needs::Review;
        }
        needs
    }

    /// Chooses the engine of templates that carry both Rego and CEL.
    pub fn set_engine(&mut self, engine: EngineChoice) {
        self.engine = engine;
        // The guards of Rego templates do not apply to their CEL.
        self.kinds = KindFilter::build(self);
    }

    /// Sets the time budget of each evaluation.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    /// Sets the cluster state that referential templates read as `data.inventory` and that
    /// namespace selectors read Namespace labels from.
    pub fn set_inventory(&mut self, inventory: Inventory) -> Vec<PolicyError> {
        let mut errors = Vec::new();
        // Only the templates that some constraint uses are given the inventory: it is
        // converted to Rego once, and only when one of them reads it.
        let used: Vec<bool> = (0..self.templates.len())
            .map(|i| self.constraints.iter().any(|c| c.template == i))
            .collect();
        let reads =
            |i: usize, t: &Template| used[i] && t.rego.as_ref().is_some_and(|r| r.uses_inventory);
        let converted = OnceCell::new();
        let data = |inventory: &Inventory| {
            converted
                .get_or_init(|| (!inventory.is_empty()).then(|| inventory.to_rego()))
                .clone()
        };
        self.with_inventory = self
            .templates
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let rego = t.rego.as_ref().filter(|_| reads(i, t))?;
                match rego.with_data(&data(&inventory)?) {
                    Ok(p) => Some(p),
                    Err(message) => {
                        errors.push(PolicyError {
                            file: t.file.clone(),
                            pos: t.pos,
                            pointer: "/metadata/name".into(),
                            kind: PolicyErrorKind::Evaluation,
                            policy: t.name.clone(),
                            message,
                        });
                        None
                    }
                }
            })
            .collect();
        // Reviews read only its Namespaces from here on: the objects are in the Rego data.
        let mut inventory = inventory;
        inventory.keep_namespaces_only();
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
        self.constraints.is_empty() && self.bindings.is_empty()
    }

    /// The loaded ValidatingAdmissionPolicyBindings (those whose policy exists).
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().map(|b| &b.binding)
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
            rego_parameters: to_rego(&parameters),
            cel_object: to_cel(&object.value),
            cel_parameters: to_cel(&parameters),
            parameters,
            template,
        })
    }

    /// Reviews one object against every constraint whose `spec.match` selects it.
    pub fn review(&self, review: &Review) -> Outcome {
        let mut outcome = Outcome::default();
        if self.is_empty() {
            return outcome;
        }
        let namespace = review.namespace();
        let converted = Converted::new(review, self.inventory.namespace_object(namespace));
        self.review_bindings(&converted, &mut outcome);
        let target = target_of(review, self.inventory.namespace_labels(namespace).cloned());
        for constraint in &self.constraints {
            let fail = |kind, message| PolicyError {
                file: constraint.file.clone(),
                pos: constraint.pos,
                pointer: "/metadata/name".into(),
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
            if !self.may_report(template, review) {
                continue;
            }
            let use_cel = self.uses_cel(template);
            let found = if use_cel {
                let Some(cel) = &template.cel else { continue };
                self.evaluate_cel(cel, constraint, &converted).map(|found| {
                    found
                        .messages
                        .into_iter()
                        .map(|msg| (msg, Value::Null))
                        .collect::<Vec<_>>()
                })
            } else {
                let Some(rego) = &template.rego else { continue };
                let program = self
                    .with_inventory
                    .get(constraint.template)
                    .and_then(Option::as_ref)
                    .unwrap_or(rego);
                let mut input = regorus::Value::new_object();
                if let Ok(map) = input.as_object_mut() {
                    map.insert("review".into(), converted.rego());
                    map.insert("parameters".into(), constraint.rego_parameters.clone());
                }
                program
                    .evaluate(input, self.budget.per_evaluation)
                    .map(|found| found.into_iter().map(|v| (v.msg, v.details)).collect())
            };
            match found {
                Ok(found) => {
                    outcome
                        .violations
                        .extend(found.into_iter().map(|(message, details)| Violation {
                            kind: constraint.kind.clone(),
                            name: constraint.name.clone(),
                            message,
                            details,
                            action: constraint.action.clone(),
                        }))
                }
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

    /// Runs every ValidatingAdmissionPolicyBinding that selects the object.
    fn review_bindings(&self, converted: &Converted<'_>, outcome: &mut Outcome) {
        if self.bindings.is_empty() {
            return;
        }
        let review = converted.review;
        let mut annotations: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let namespace = review.namespace();
        let target = VapTarget::new(review, self.inventory.namespace_labels(namespace));
        for LoadedBinding {
            binding,
            vap,
            file,
            pos,
            ..
        } in &self.bindings
        {
            let vap = &self.vaps[*vap].vap;
            if !vap.matches(&target) || !binding.matches(&target) {
                continue;
            }
            let action = if binding.actions.iter().any(|a| a == "Deny") {
                EnforcementAction::Deny
            } else if binding.actions.iter().any(|a| a == "Warn") {
                EnforcementAction::Warn
            } else {
                EnforcementAction::Dryrun
            };
            let violation = |message: String| Violation {
                kind: "ValidatingAdmissionPolicyBinding".into(),
                name: binding.name.clone(),
                message,
                details: Value::Null,
                action: action.clone(),
            };
            let params: Vec<cel::Value> = if vap.param_kind.is_some() {
                match binding.params(&self.params, namespace) {
                    Ok(found) => found.into_iter().map(to_cel).collect(),
                    Err(None) => continue,
                    Err(Some(message)) => {
                        outcome.violations.push(violation(message));
                        continue;
                    }
                }
            } else {
                vec![cel::Value::Null]
            };
            for param in params {
                let bindings = Bindings {
                    params: param,
                    ..converted.cel()
                };
                let result = if vap.program.needs_watchdog() {
                    watched(vap.program.clone(), bindings, self.budget.per_evaluation)
                } else {
                    vap.program
                        .evaluate(&bindings)
                        .map(Option::unwrap_or_default)
                        .map_err(|m| (m, false))
                };
                match result {
                    Ok(found) => {
                        outcome
                            .violations
                            .extend(found.messages.into_iter().map(&violation));
                        for (key, value) in found.annotations {
                            annotations
                                .entry(format!("{}/{key}", vap.name))
                                .or_default()
                                .insert(value);
                        }
                    }
                    Err((message, over_budget)) => {
                        let text = format!(
                            "ValidatingAdmissionPolicy '{}' with binding '{}': {message}",
                            vap.name, binding.name
                        );
                        // `Fail` denies with the error (one violation); `Ignore` admits,
                        // and the error is only reported.
                        match vap.failure_policy {
                            FailurePolicy::Fail => outcome.violations.push(violation(text)),
                            FailurePolicy::Ignore => outcome.errors.push(PolicyError {
                                file: file.clone(),
                                pos: *pos,
                                pointer: "/metadata/name".into(),
                                kind: if over_budget {
                                    PolicyErrorKind::Budget
                                } else {
                                    PolicyErrorKind::Evaluation
                                },
                                policy: format!(
                                    "ValidatingAdmissionPolicyBinding/{}",
                                    binding.name
                                ),
                                message: text,
                            }),
                        }
                    }
                }
            }
        }
        for (key, values) in annotations {
            let values: Vec<String> = values.into_iter().collect();
            outcome.audit_annotations.insert(key, values.join(", "));
        }
    }

    /// Gatekeeper's K8sNativeValidation: `params` is the constraint, `variables.params` its
    /// parameters and `variables.anyObject` the object (the old object of a DELETE).
    fn evaluate_cel(
        &self,
        cel: &Arc<CelProgram>,
        constraint: &Constraint,
        converted: &Converted<'_>,
    ) -> Result<Evaluation, (String, bool)> {
        let base = converted.cel();
        let any_object = if converted.review.operation() == crate::Operation::Delete {
            base.old_object.clone()
        } else {
            base.object.clone()
        };
        let bindings = Bindings {
            params: constraint.cel_object.clone(),
            predefined: vec![
                ("params".into(), constraint.cel_parameters.clone()),
                ("anyObject".into(), any_object),
            ],
            ..base
        };
        if !cel.needs_watchdog() {
            return Ok(cel
                .evaluate(&bindings)
                .map_err(|m| (m, false))?
                .unwrap_or_default());
        }
        watched(cel.clone(), bindings, self.budget.per_evaluation)
    }
}

/// Evaluations over budget whose threads still run.
static RUNAWAY: AtomicUsize = AtomicUsize::new(0);
/// The most runaway evaluations tolerated before CEL programs that need a watchdog are refused.
const MAX_RUNAWAY: usize = 4;

/// Runs a CEL program on a thread of its own and gives up after `budget`; the thread finishes
/// on its own (CEL always ends), and while too many such threads run, watched programs are
/// refused instead of started.
fn watched(
    cel: Arc<CelProgram>,
    bindings: Bindings,
    budget: Duration,
) -> Result<Evaluation, (String, bool)> {
    if RUNAWAY.load(Ordering::Relaxed) >= MAX_RUNAWAY {
        return Err((
            "too many evaluations over budget are still running".into(),
            true,
        ));
    }
    let (tx, rx) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    std::thread::Builder::new()
        .name("palisade-cel".into())
        .spawn(move || {
            let result = cel.evaluate(&bindings);
            if finished.swap(true, Ordering::AcqRel) {
                // The caller gave up and counted this thread as a runaway.
                RUNAWAY.fetch_sub(1, Ordering::Relaxed);
            }
            let _ = tx.send(result);
        })
        .map_err(|e| (e.to_string(), false))?;
    match rx.recv_timeout(budget) {
        Ok(result) => Ok(result.map_err(|m| (m, false))?.unwrap_or_default()),
        Err(_) => {
            if !done.swap(true, Ordering::AcqRel) {
                RUNAWAY.fetch_add(1, Ordering::Relaxed);
            }
            Err((format!("CEL evaluation ran longer than {budget:?}"), true))
        }
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
    let code = target.get("code").and_then(Value::as_array);
    let engine_entry = |engine: &str| {
        code.and_then(|c| {
            c.iter()
                .enumerate()
                .find(|(_, e)| e.get("engine").and_then(Value::as_str) == Some(engine))
        })
    };
    // `rego` and `libs` on the target, or a `code` entry with `engine: Rego`.
    let rego_source = if target.get("rego").is_some() {
        Some((base.clone(), target))
    } else {
        engine_entry("Rego").map(|(i, e)| (format!("{base}/code/{i}/source"), &e["source"]))
    };
    let cel_reads_namespace =
        engine_entry("K8sNativeValidation").is_some_and(|(_, e)| names_namespace_object(e));
    let cel = match engine_entry("K8sNativeValidation") {
        Some((i, entry)) => {
            let pointer = format!("{base}/code/{i}/source");
            let program = CelProgram::compile(&entry["source"]).map_err(|(at, message)| {
                error(
                    object,
                    &format!("{pointer}{at}"),
                    PolicyErrorKind::CelCompile,
                    &name,
                    message,
                )
            })?;
            Some(Arc::new(program))
        }
        None => None,
    };
    let rego = match rego_source {
        Some((pointer, source)) => Some(compile_rego(object, &name, &pointer, source)?),
        None => None,
    };
    if rego.is_none() && cel.is_none() {
        return Err(invalid(
            &base,
            "the target has neither Rego nor K8sNativeValidation",
        ));
    }
    Ok(Template {
        name: name.clone(),
        kind,
        file: object.source.path.clone(),
        pos: object.locate("/metadata/name"),
        schema,
        rego,
        cel,
        cel_reads_namespace,
    })
}

fn compile_rego(
    object: &Object,
    name: &str,
    pointer: &str,
    source: &Value,
) -> Result<RegoProgram, PolicyError> {
    let rego = source.get("rego").and_then(Value::as_str).ok_or_else(|| {
        error(
            object,
            pointer,
            PolicyErrorKind::InvalidTemplate,
            name,
            "rego is missing".into(),
        )
    })?;
    let libs: Vec<&str> = source
        .get("libs")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut sources = vec![rego];
    sources.extend(libs.iter().copied());
    let v1 = source.get("version").and_then(Value::as_str) == Some("v1");
    RegoProgram::compile(name, &sources, v1).map_err(|e| {
        let field = if e.source == 0 {
            format!("{pointer}/rego")
        } else {
            format!("{pointer}/libs/{}", e.source - 1)
        };
        let mut pos = object.locate_value(&field);
        let text = sources.get(e.source).copied().unwrap_or("");
        if pos.line > 0 && e.line > 0 && text.contains('\n') {
            // The value of a block scalar is located at its first line of content.
            pos = Pos::new(pos.line + e.line - 1, 1);
        }
        PolicyError {
            file: object.source.path.clone(),
            pos,
            pointer: field,
            kind: PolicyErrorKind::RegoCompile,
            policy: name.to_owned(),
            message: e.message,
        }
    })
}

/// What the matcher reads of a review, with the labels of its Namespace when they are known.
fn target_of(review: &Review, namespace_labels: Option<BTreeMap<String, String>>) -> Target<'_> {
    Target {
        group: review.kind_field("group"),
        kind: review.kind_field("kind"),
        name: review.name(),
        namespace: review.namespace(),
        labels: labels_of(review.object()),
        namespace_labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite;
    use palisade_core::{load_str, Limits};

    fn template(kind: &str, rego: &str) -> String {
        let indented: String = rego.lines().map(|l| format!("        {l}\n")).collect();
        format!(
            "apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: {}
spec:
  crd:
    spec:
      names:
        kind: {kind}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
{indented}---
",
            kind.to_ascii_lowercase()
        )
    }

    fn set(text: &str) -> PolicySet {
        let loaded = load_str(text, "p.yaml", &Limits::default());
        let (set, errors) = PolicySet::load(&loaded.objects);
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    fn object(api_version: &str, kind: &str, namespace: Option<&str>) -> Value {
        let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}});
        if let Some(ns) = namespace {
            o["metadata"]["namespace"] = json!(ns);
        }
        o
    }

    const PLAIN: &str = "package plain\nviolation[{\"msg\": \"m\"}] { input.review.object.x }\n";
    const REFERENTIAL: &str = "package refs\nviolation[{\"msg\": \"m\"}] {\n  \
        data.inventory.cluster[\"v1\"][\"Namespace\"][_]\n}\n";

    #[test]
    fn an_object_no_policy_selects_needs_nothing_and_one_read_alone_needs_its_review() {
        let s = set(&format!(
            "{}apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPlain
metadata: {{name: pods}}
spec:
  match:
    kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]
    excludedNamespaces: [kube-system]
",
            template("K8sPlain", PLAIN)
        ));
        assert!(!s.reads_inventory() && !s.reads_namespaces());
        assert_eq!(s.needs(&object("v1", "Pod", Some("a"))), Needs::Review);
        assert_eq!(s.needs(&object("v1", "Pod", None)), Needs::Review);
        assert_eq!(
            s.needs(&object("v1", "Pod", Some("kube-system"))),
            Needs::Nothing
        );
        assert_eq!(s.needs(&object("v1", "Service", Some("a"))), Needs::Nothing);
        assert_eq!(
            PolicySet::default().needs(&object("v1", "Pod", None)),
            Needs::Nothing
        );
    }

    #[test]
    fn the_inventory_and_namespace_selectors_make_a_review_wait_for_the_cluster_state() {
        let s = set(&format!(
            "{}{}apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRefs
metadata: {{name: services}}
spec:
  match:
    kinds: [{{apiGroups: [\"\"], kinds: [Service]}}]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPlain
metadata: {{name: prod-pods}}
spec:
  match:
    kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]
    namespaceSelector: {{matchLabels: {{env: prod}}}}
",
            template("K8sRefs", REFERENTIAL),
            template("K8sPlain", PLAIN)
        ));
        assert!(s.reads_inventory() && s.reads_namespaces());
        assert_eq!(s.needs(&object("v1", "Service", Some("a"))), Needs::State);
        assert_eq!(s.needs(&object("v1", "Pod", Some("a"))), Needs::State);
        // A cluster-scoped object has no Namespace to select.
        assert_eq!(s.needs(&object("v1", "Pod", None)), Needs::Review);
        assert_eq!(
            s.needs(&object("v1", "ConfigMap", Some("a"))),
            Needs::Nothing
        );
        // With the CEL engine chosen, the Rego that reads the inventory is not run.
        let mut cel = s.clone();
        cel.set_engine(EngineChoice::Cel);
        assert!(!cel.reads_inventory());
    }

    #[test]
    fn parameter_objects_make_a_binding_wait_and_are_added_in_order() {
        let mut s = set("apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: limits}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
    - expression: \"object.spec.replicas <= int(params.data.max)\"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: limits}
spec:
  policyName: limits
  paramRef: {name: limits, namespace: a}
");
        let mut params = object("v1", "ConfigMap", Some("a"));
        params["metadata"]["name"] = json!("limits");
        assert!(s.is_param(&params));
        assert!(!s.is_param(&object("v1", "ConfigMap", Some("a"))));
        assert!(!s.is_param(&object("v1", "Secret", Some("a"))));
        assert!(!s.reads_namespaces());
        assert_eq!(
            s.needs(&object("apps/v1", "Deployment", Some("a"))),
            Needs::State
        );
        assert_eq!(s.needs(&object("v1", "Pod", Some("a"))), Needs::Nothing);
        let mut deployment = object("apps/v1", "Deployment", Some("a"));
        deployment["spec"] = json!({"replicas": 5});
        let review = Review::from_object(&deployment);
        // Without its parameters the binding denies (parameterNotFoundAction: Deny).
        assert_eq!(s.review(&review).violations.len(), 1);
        params["data"] = json!({"max": "9"});
        s.add_params([&object("v1", "ConfigMap", Some("a")), &params]);
        assert_eq!(s.params.len(), 1);
        assert!(s.review(&review).violations.is_empty());
    }

    /// Every YAML and JSON file under `dir`, in a stable order.
    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                files_under(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(path);
            }
        }
    }

    fn objects_under(dir: &std::path::Path) -> Vec<Object> {
        let mut files = Vec::new();
        files_under(dir, &mut files);
        files
            .iter()
            .flat_map(|f| {
                palisade_core::load_path(f, &f.display().to_string(), &Limits::default()).objects
            })
            .collect()
    }

    /// The Gatekeeper library's directory, the objects of the corpus and of the library, and
    /// those of the library alone; `None` (said loudly) without `../shared`.
    fn corpus_and_library(test: &str) -> Option<(std::path::PathBuf, Vec<Object>, Vec<Object>)> {
        let corpus = palisade_testdata::shared("corpus", test)?;
        let library = palisade_testdata::shared("conformance/gatekeeper-library/library", test)?;
        let mut objects = objects_under(&corpus);
        let library_objects = objects_under(&library);
        objects.extend(library_objects.iter().cloned());
        Some((library, objects, library_objects))
    }

    /// Checks that the decision from group and kind gives what the review gives, on every
    /// object, and counts the objects it passes over.
    fn same_needs(set: &PolicySet, objects: &[Object], what: &str) -> usize {
        let mut skipped = 0;
        for o in objects {
            let full = if set.is_empty() {
                Needs::Nothing
            } else {
                set.needs_reviewed(&o.value)
            };
            assert_eq!(
                set.needs(&o.value),
                full,
                "{what}: {} {}/{}",
                o.source.path,
                o.kind(),
                o.name()
            );
            skipped += usize::from(!set.kinds.may_select(set, &o.value));
        }
        skipped
    }

    /// `needs` decided from group and kind is what the review decides, for the policies of the
    /// corpus, of the whole Gatekeeper library and of each of its templates with each of its
    /// sample constraints, over the objects of the corpus and of the library.
    #[test]
    fn needs_from_kinds_is_the_decision_of_the_review() {
        let Some((library, objects, library_objects)) = corpus_and_library("needs_from_kinds")
        else {
            return;
        };
        assert!(objects.len() > 4_000, "{} objects", objects.len());

        let (set, _) = PolicySet::load(&objects);
        assert!(!set.bindings.is_empty() && !set.constraints.is_empty());
        same_needs(&set, &objects, "corpus and library");
        let (set, _) = PolicySet::load(&library_objects);
        same_needs(&set, &objects, "library");

        let mut templates = Vec::new();
        files_under(&library, &mut templates);
        templates.retain(|t| t.ends_with("template.yaml"));
        let mut skipped = 0;
        let mut checked = 0;
        for template in &templates {
            let dir = template.parent().unwrap();
            let mut constraints = Vec::new();
            files_under(&dir.join("samples"), &mut constraints);
            constraints.retain(|c| c.ends_with("constraint.yaml"));
            for constraint in constraints {
                let Ok(mut policies) = suite::load_objects(template) else {
                    continue;
                };
                policies.extend(suite::load_objects(&constraint).unwrap_or_default());
                let (set, _) = PolicySet::load(&policies);
                skipped += same_needs(&set, &objects, &constraint.display().to_string());
                checked += objects.len();
            }
        }
        // Most objects are of kinds that a sample constraint does not select.
        assert!(skipped * 2 > checked, "{skipped} of {checked} passed over");
    }

    /// A template's guard rules out only reviews its evaluation reports nothing for: every
    /// library constraint whose template has a guard is evaluated, guard or not, on every
    /// object of the corpus and of the library that the guard rules out, with the inventory
    /// of all of them, and gives no violation and no error.
    #[test]
    fn a_guard_rules_out_only_reviews_the_evaluation_reports_nothing_for() {
        let Some((_, objects, library_objects)) = corpus_and_library("guards") else {
            return;
        };
        let (mut set, _) = PolicySet::load(&library_objects);
        let mut inventory = Inventory::new();
        for o in &objects {
            inventory.add(&o.value);
        }
        assert!(set.set_inventory(inventory).is_empty());
        let mut guarded = BTreeSet::new();
        let mut ruled_out = 0;
        for (i, constraint) in set.constraints.iter().enumerate() {
            let template = &set.templates[constraint.template];
            let Some(rego) = &template.rego else { continue };
            if rego.guard.is_none() {
                continue;
            }
            guarded.insert(template.name.clone());
            let program = set.with_inventory[constraint.template]
                .as_ref()
                .unwrap_or(rego);
            for o in &objects {
                let review = Review::from_object(&o.value);
                if set.may_report(template, &review) {
                    continue;
                }
                ruled_out += 1;
                let mut input = regorus::Value::new_object();
                let map = input.as_object_mut().unwrap();
                map.insert("review".into(), to_rego(review.request()));
                map.insert("parameters".into(), constraint.rego_parameters.clone());
                let found = program
                    .evaluate(input, Duration::from_secs(10))
                    .map_err(|e| e.0);
                assert!(
                    found.as_ref().is_ok_and(Vec::is_empty),
                    "constraint {i} ({}) on {} {}/{}: {:?}",
                    constraint.id(),
                    o.source.path,
                    o.kind(),
                    o.name(),
                    found.map(|v| v.into_iter().map(|v| v.msg).collect::<Vec<_>>())
                );
            }
        }
        assert!(
            guarded.contains("k8suniqueserviceselector"),
            "guarded templates: {guarded:?}"
        );
        assert!(ruled_out > 3_000, "{ruled_out} reviews ruled out");
    }

    /// The same for bindings and policies whose `resourceRules` name groups and resources, or
    /// every resource, with and without namespace selectors.
    #[test]
    fn needs_from_resources_is_the_decision_of_the_review() {
        let vap = |name: &str, rules: &str, selector: &str| {
            format!(
                "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  matchConstraints:
    resourceRules: {rules}
{selector}  validations: [{{expression: 'true'}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec: {{policyName: {name}, validationActions: [Deny]}}
---
"
            )
        };
        let objects: Vec<Value> = [
            ("apps/v1", "Deployment", Some("a")),
            ("apps/v1", "Deployment", None),
            ("v1", "Pod", Some("a")),
            ("v1", "Endpoints", Some("a")),
            ("networking.k8s.io/v1", "NetworkPolicy", Some("a")),
            ("policy/v1", "PodDisruptionBudget", None),
            ("v1", "Namespace", None),
            ("", "", None),
        ]
        .iter()
        .map(|&(api, kind, ns)| object(api, kind, ns))
        .collect();
        let deployments = "[{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], \
                           resources: [deployments]}]";
        let cases = [
            vap("d", deployments, ""),
            vap("ns-pods", "[{apiGroups: [''], apiVersions: ['*'], operations: ['*'], resources: [pods], scope: Namespaced}]", ""),
            vap("everything", "[{apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*/*']}]", ""),
            vap("any-group", "[{apiGroups: ['*'], apiVersions: ['*'], operations: [UPDATE], resources: [endpoints, poddisruptionbudgets]}]", ""),
            vap("selected", deployments, "    namespaceSelector: {matchLabels: {a: b}}\n"),
            vap("none", "[]", ""),
        ];
        let mut sets = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            sets.push(case.clone());
            sets.push(format!("{case}{}", cases[(i + 1) % cases.len()]));
        }
        for text in sets {
            let loaded = load_str(&text, "vap.yaml", &Limits::default());
            let (set, errors) = PolicySet::load(&loaded.objects);
            assert!(errors.is_empty(), "{errors:?}");
            for o in &objects {
                assert_eq!(set.needs(o), set.needs_reviewed(o), "{text}\n{o}");
            }
        }
        // A namespace selector makes wait only the objects whose resource the policy selects.
        let loaded = load_str(&cases[4], "vap.yaml", &Limits::default());
        let (set, _) = PolicySet::load(&loaded.objects);
        assert_eq!(set.needs(&objects[0]), Needs::State);
        assert_eq!(set.needs(&objects[1]), Needs::Review);
        assert_eq!(set.needs(&objects[2]), Needs::Nothing);
        assert_eq!(set.needs_reviewed(&objects[2]), Needs::Nothing);
    }
}
