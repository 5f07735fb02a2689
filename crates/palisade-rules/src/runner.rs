//! Runs the selected rules over objects and turns their output into located findings, applying
//! severity overrides, in-manifest ignores and configured suppressions.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use globset::{Glob, GlobMatcher};
use palisade_core::rule::{Finding, Severity};
use palisade_core::views::WORKLOADS;
use palisade_core::{Fields, Frozen, LoadError, NodeBudget, Object, ObjectRef, Pos};
use rayon::prelude::*;

use crate::config::{parse_date, today, Config};
use crate::registry::{Checker, Emit, Entry, Inventory, NodeCx, ObjectCx, Objects, Rule};
use crate::selection::{select_rules, SelectorError};
use crate::settings::Settings;
use palisade_core::nearest;

/// Why an engine could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Selector(#[from] SelectorError),
    #[error("suppression path glob {glob:?} is invalid: {message}")]
    Glob { glob: String, message: String },
}

/// The annotation that suppresses rules for one object: `palisade.dev/ignore: "POD001,host-path"`.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
/// The reason that goes with [`IGNORE_ANNOTATION`].
pub const IGNORE_REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

struct ActiveSuppression {
    rule: &'static str,
    path: Option<GlobMatcher>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

impl ActiveSuppression {
    /// Whether it accepts the findings of rule `id` on the object or file named.
    fn applies(
        &self,
        id: &str,
        path: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        self.rule == id
            && self.path.as_ref().is_none_or(|g| g.is_match(path))
            && self.kind.as_deref().is_none_or(|k| k == kind)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| Some(n) == namespace)
            && self.name.as_deref().is_none_or(|n| n == name)
    }
}

/// The categories whose rules build the largest analyses of a run (the NetworkPolicy model and
/// the RBAC analysis of the 100k stream take 57 and 48 MB while they are built). Their rules run
/// in one task, one category after the other, so that no two of these analyses are held at
/// once, while the other categories run beside them; a build decodes the objects it reads on
/// the pool ([`Objects::unlocated_where`](crate::registry::Objects::unlocated_where)).
const LARGE_CATEGORIES: [&str; 2] = ["network", "rbac"];

/// The configured rule set, ready to check objects. Cheap to share between threads.
pub struct Engine {
    rules: Vec<&'static dyn Rule>,
    /// The selected per-object rules, in ID order (each object goes through them).
    object_rules: Vec<&'static dyn Rule>,
    settings: Settings,
    severity: HashMap<&'static str, Severity>,
    suppressions: Vec<ActiveSuppression>,
    inventory_kinds: BTreeSet<&'static str>,
    /// The fields the selected inventory rules read of each kind they read only in part (other
    /// kinds are kept whole): see [`Kept`].
    kept_fields: HashMap<&'static str, Fields>,
    /// Whether a selected inventory rule compares the content of whole objects
    /// ([`Inventory::same_content`]): kept objects then carry their digest.
    compares_content: bool,
    /// The per-object rules that find credentials, each with whether it is selected.
    credential_rules: Vec<(&'static dyn Rule, bool)>,
    /// Warnings about the configuration (expired suppressions).
    pub warnings: Vec<String>,
}

impl Engine {
    /// Builds the engine from a configuration plus command-line selections (which add to the
    /// configuration's).
    pub fn new(
        config: &Config,
        select: &[String],
        ignore: &[String],
    ) -> Result<Engine, EngineError> {
        let select: Vec<String> = if select.is_empty() {
            config.select.clone()
        } else {
            select.to_vec()
        };
        let ignore: Vec<String> = config.ignore.iter().chain(ignore).cloned().collect();
        let rules = select_rules(&select, &ignore)?;
        let by_name = |name: &str| crate::find(name).map(|r| r.meta().id);
        let severity = config
            .severity
            .iter()
            .filter_map(|(name, sev)| Some((by_name(name)?, *sev)))
            .collect();
        let now = today();
        let mut warnings = Vec::new();
        let mut suppressions = Vec::new();
        for s in &config.suppressions {
            let Some(rule) = by_name(&s.rule) else {
                continue;
            };
            if let Some(expires) = s.expires.as_deref() {
                if parse_date(expires).is_some_and(|day| day < now) {
                    warnings.push(format!(
                        "suppression of {} ({}) expired on {expires}; it no longer applies",
                        s.rule, s.reason
                    ));
                    continue;
                }
            }
            // A glob that does not parse is an error, never "no path filter" (which would
            // suppress the rule everywhere).
            let path = match s.path.as_deref() {
                Some(glob) => Some(
                    Glob::new(glob)
                        .map_err(|err| EngineError::Glob {
                            glob: glob.to_owned(),
                            message: err.kind().to_string(),
                        })?
                        .compile_matcher(),
                ),
                None => None,
            };
            suppressions.push(ActiveSuppression {
                rule,
                path,
                kind: s.kind.clone(),
                namespace: s.namespace.clone(),
                name: s.name.clone(),
            });
        }
        let inventory_kinds = rules
            .iter()
            .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
            .flat_map(|r| r.meta().kinds.iter().copied())
            .collect();
        let credential_rules = crate::registry()
            .iter()
            .filter(|r| r.finds_credentials() && matches!(r.checker(), Checker::Object(_)))
            .map(|r| {
                let selected = rules.iter().any(|s| s.meta().id == r.meta().id);
                (*r, selected)
            })
            .collect();
        let object_rules = rules
            .iter()
            .filter(|r| matches!(r.checker(), Checker::Object(_)))
            .copied()
            .collect();
        Ok(Engine {
            kept_fields: kept_fields(&rules),
            compares_content: rules.iter().any(|r| compares_content(*r)),
            rules,
            object_rules,
            credential_rules,
            settings: config.rules.clone(),
            severity,
            suppressions,
            inventory_kinds,
            warnings,
        })
    }

    /// The selected rules, in ID order.
    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    /// The configuration's severity for rule `id`, when it overrides the rule's own.
    pub fn severity_override(&self, id: &str) -> Option<Severity> {
        self.severity.get(id).copied()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs the per-object rules on one object.
    pub fn check_object(&self, object: &Object) -> Vec<Finding> {
        let cx = ObjectCx::new(object, &self.settings);
        let mut findings = Vec::new();
        let suppressible = self.suppressible(object);
        let reference = OnceCell::new();
        self.run_object_rules(&cx, |rule, emits| {
            for emit in emits.drain(..) {
                let pos = object.locate(&emit.pointer);
                let found = self.finding(
                    rule,
                    Entry::Decoded(object),
                    emit,
                    pos,
                    suppressible,
                    || Arc::clone(reference.get_or_init(|| Arc::new(object.reference()))),
                );
                if let Some(finding) = found {
                    findings.push(finding);
                }
            }
        });
        findings
    }

    /// Runs the per-object rules that read the kind of `cx`'s object, in order, and hands
    /// the emits of each rule that found something to `found` (which takes them).
    fn run_object_rules(
        &self,
        cx: &ObjectCx<'_>,
        mut found: impl FnMut(&'static dyn Rule, &mut Vec<Emit>),
    ) {
        let mut emits = Vec::new();
        let kind = cx.object.kind();
        for rule in &self.object_rules {
            let Checker::Object(check) = rule.checker() else {
                continue;
            };
            if !reads_kind(*rule, kind) {
                continue;
            }
            check.check(cx, &mut emits);
            if !emits.is_empty() {
                found(*rule, &mut emits);
                emits.clear();
            }
        }
    }

    /// Runs the per-object rules on one object for a caller that shows neither fixes nor
    /// positions (audit alerts): the rules build no fixes ([`ObjectCx::fix`]) and each finding
    /// is its rule, severity and emit (pointer, message, credentials), with no position, file or
    /// object reference. Otherwise the same findings as [`Engine::check_object`], in its order.
    pub fn check_object_for_alerts(
        &self,
        object: &Object,
    ) -> Vec<(&'static palisade_core::rule::RuleMeta, Severity, Emit)> {
        let cx = ObjectCx::new(object, &self.settings).without_fixes();
        let mut findings = Vec::new();
        self.run_object_rules(&cx, |rule, emits| {
            let meta = rule.meta();
            if self.suppressed(meta.id, object) {
                return;
            }
            let overridden = self.severity.get(meta.id).copied();
            for emit in emits.drain(..) {
                let severity = overridden.or(emit.severity).unwrap_or(meta.severity);
                findings.push((meta, severity, emit));
            }
        });
        findings
    }

    /// The credentials in one object that its findings do not carry: those found by the rules
    /// that find credentials ([`Rule::finds_credentials`]) but are not selected, or are
    /// suppressed for this object. Output masks them too.
    pub fn unreported_credentials(&self, object: &Object) -> Vec<String> {
        let mut cx = None;
        let mut credentials = Vec::new();
        let mut emits = Vec::new();
        let suppressible = self.suppressible(object);
        for (rule, selected) in &self.credential_rules {
            let meta = rule.meta();
            let Checker::Object(check) = rule.checker() else {
                continue;
            };
            if !reads_kind(*rule, object.kind())
                || (*selected && !(suppressible && self.suppressed(meta.id, object)))
            {
                continue;
            }
            let cx = cx.get_or_insert_with(|| ObjectCx::new(object, &self.settings));
            check.check(cx, &mut emits);
            credentials.extend(emits.drain(..).flat_map(|e| e.secrets));
        }
        credentials
    }

    /// Whether an inventory rule needs this object.
    pub fn keep_for_inventory(&self, object: &Object) -> bool {
        self.inventory_kinds.contains("*") || self.inventory_kinds.contains(object.kind())
    }

    /// Keeps `object` in `kept` if an inventory rule needs it, reduced to the fields the
    /// inventory rules read (see [`Kept`]).
    pub fn keep(&self, object: Object, kept: &mut Kept) {
        if !self.keep_for_inventory(&object) {
            return;
        }
        // Only YAML002 compares contents: without it, the digest (a hash of every node) is not
        // worth its time.
        kept.digests.push(if self.compares_content {
            object.content_digest()
        } else {
            0
        });
        let frozen = match self.kept_fields.get(object.kind()) {
            Some(fields) if !kept.whole => Frozen::of(&object, fields),
            _ => Frozen::new(&object),
        };
        kept.frozen.push(frozen);
    }

    /// [`Engine::check_inventory`] over the objects kept by [`Engine::keep`].
    pub fn check_kept(&self, kept: &Kept) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.check_kept_into(kept, &mut findings);
        findings
    }

    /// [`Engine::check_kept`], appending the findings to `out`, one rule's at a time: on a
    /// large input, they are then not held in a vector of their own as well.
    pub fn check_kept_into(&self, kept: &Kept, out: &mut Vec<Finding>) {
        self.run_inventory(kept.objects(), Some(kept), out);
    }

    /// Whether any selected rule reads the whole input.
    pub fn has_inventory_rules(&self) -> bool {
        !self.inventory_kinds.is_empty()
    }

    /// Runs the inventory rules over the objects kept for them, in parallel; findings come out
    /// in rule order.
    pub fn check_inventory(&self, objects: &[Object]) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.run_inventory(Objects::Decoded(objects), None, &mut findings);
        findings
    }

    /// `kept`: what [`Engine::keep`] kept with `objects` (their content digests). The findings
    /// are appended to `out`.
    fn run_inventory(&self, objects: Objects<'_>, kept: Option<&Kept>, out: &mut Vec<Finding>) {
        // Rules ask this for every fact they could report (RBAC rules for every fact of the
        // shared analysis): the selected IDs are hashed, and only the objects with an ignore
        // annotation (found once, on the first question) are asked again when no suppression
        // is configured.
        let selected: HashSet<&str> = self.rules.iter().map(|r| r.meta().id).collect();
        let annotated: OnceLock<Vec<bool>> = OnceLock::new();
        let suppressible = |index: usize| {
            !self.suppressions.is_empty()
                || annotated.get_or_init(|| {
                    objects
                        .iter()
                        .map(|o| o.annotation(IGNORE_ANNOTATION).is_some())
                        .collect()
                })[index]
        };
        let reports = |id: &str, index: usize| {
            let Some(object) = objects.get(index) else {
                return false;
            };
            selected.contains(id) && !(suppressible(index) && self.suppressed_entry(id, object))
        };
        // The rules of one category share their analyses ([`Inventory::shared`]) through an
        // inventory of their own, dropped with its analyses when the last of them has run. They
        // run one after the other in one task, in rule order. The categories that build large
        // analyses ([`LARGE_CATEGORIES`]) run one after the other in one task, building them
        // one at a time; the other categories run in parallel beside them.
        let inventory = || {
            let inventory = Inventory::of(objects, &self.settings).with_reports(&reports);
            match kept {
                Some(kept) => inventory.with_digests(&kept.digests),
                None => inventory,
            }
        };
        // One reference to each object, shared by its findings.
        let references: Vec<OnceLock<Arc<ObjectRef>>> = std::iter::repeat_with(OnceLock::new)
            .take(objects.len())
            .collect();
        let mut categories: Vec<Vec<usize>> = Vec::new();
        for (order, rule) in self.rules.iter().enumerate() {
            if !matches!(rule.checker(), Checker::Inventory(_)) {
                continue;
            }
            let category = rule.meta().category;
            match categories
                .iter_mut()
                .find(|c| self.rules[c[0]].meta().category == category)
            {
                Some(group) => group.push(order),
                None => categories.push(vec![order]),
            }
        }
        let run = |inventory: &Inventory<'_>, order: usize| -> Vec<Finding> {
            let rule = self.rules[order];
            let Checker::Inventory(check) = rule.checker() else {
                return Vec::new();
            };
            let mut emits = Vec::new();
            check.check_inventory(inventory, &mut emits);
            emits
                .into_iter()
                .filter_map(|(index, emit)| {
                    let object = objects.get(index)?;
                    let pos = object.locate(&emit.pointer);
                    let reference = references.get(index)?;
                    let reference =
                        || Arc::clone(reference.get_or_init(|| Arc::new(object.reference())));
                    self.finding(rule, object, emit, pos, suppressible(index), reference)
                })
                .collect()
        };
        let run_category = |group: &Vec<usize>| {
            let inventory = inventory();
            group
                .iter()
                .map(|&order| (order, run(&inventory, order)))
                .collect::<Vec<_>>()
        };
        let (large, small): (Vec<&Vec<usize>>, Vec<&Vec<usize>>) = categories
            .iter()
            .partition(|group| LARGE_CATEGORIES.contains(&self.rules[group[0]].meta().category));
        let (mut per_rule, mut others) = rayon::join(
            || {
                large
                    .iter()
                    .flat_map(|group| run_category(group))
                    .collect::<Vec<_>>()
            },
            || {
                small
                    .par_iter()
                    .flat_map_iter(|group| run_category(group))
                    .collect::<Vec<_>>()
            },
        );
        per_rule.append(&mut others);
        per_rule.sort_unstable_by_key(|(order, _)| *order);
        // Moved once, each rule's vector freed as the next is moved: a collected `flatten`
        // grows by doubling, next to the per-rule vectors.
        out.reserve_exact(per_rule.iter().map(|(_, f)| f.len()).sum());
        for (_, mut found) in per_rule {
            out.append(&mut found);
        }
    }

    /// Runs the node rules on the audit of one node's files (`palisade node`). Each finding is
    /// located in the file its fact points into; configured suppressions apply by rule and path
    /// (the object of a node finding is the file, kind `NodeFile`).
    pub fn check_node(&self, audit: &palisade_node::NodeAudit) -> Vec<Finding> {
        let cx = NodeCx {
            audit,
            settings: &self.settings,
        };
        let mut findings = Vec::new();
        let mut emits = Vec::new();
        for rule in &self.rules {
            let Checker::Node(check) = rule.checker() else {
                continue;
            };
            check.check_node(&cx, &mut emits);
            let meta = rule.meta();
            for emit in emits.drain(..) {
                let file = emit.location.file;
                let object = palisade_core::ObjectRef {
                    api_version: String::new(),
                    kind: "NodeFile".to_owned(),
                    namespace: None,
                    name: file.clone(),
                    uid: None,
                };
                let suppressed = self
                    .suppressions
                    .iter()
                    .any(|s| s.applies(meta.id, &file, &object.kind, None, &object.name));
                if suppressed {
                    continue;
                }
                findings.push(Finding {
                    rule: meta,
                    severity: self
                        .severity
                        .get(meta.id)
                        .copied()
                        .or(emit.severity)
                        .unwrap_or(meta.severity),
                    message: emit.message,
                    file,
                    pos: emit.location.pos,
                    pointer: String::new(),
                    object: Arc::new(object),
                    document: 0,
                    item: None,
                    fix: None,
                    related: Vec::new(),
                    secrets: Vec::new(),
                    policy: None,
                });
            }
        }
        findings
    }

    /// Reports each problem that a hardening rule and a Pod Security rule both find at the same
    /// field of an object once: the hardening rule's finding (with its fix) names the Pod
    /// Security rules in `related`, adds their messages to its own and takes the higher
    /// severity. Run it on all the findings of a run, object and inventory findings together.
    /// A suppressed rule has no finding left to merge, so suppressing either rule leaves the
    /// other reported alone.
    pub fn merge_same_control(&self, findings: Vec<Finding>) -> Vec<Finding> {
        if !findings.iter().any(|f| f.rule.category == "pss") {
            return findings;
        }
        // Where a finding is: its object, and the position of its field (or, in objects
        // without positions, its pointer). The keys borrow from the findings.
        fn place(f: &Finding) -> (&str, usize, Option<usize>, Place<'_>) {
            let at = if f.pos.line > 0 {
                Place::Pos(f.pos)
            } else {
                Place::Pointer(f.pointer.as_str())
            };
            (f.file.as_str(), f.document, f.item, at)
        }
        fn object(f: &Finding) -> (&str, usize, Option<usize>) {
            (f.file.as_str(), f.document, f.item)
        }
        // The findings of other rules, by place and by object (in index order among equals):
        // two vectors of indexes, where maps of every place would take tens of megabytes on
        // a large input.
        let others: Vec<usize> = (0..findings.len())
            .filter(|&i| findings[i].rule.category != "pss")
            .collect();
        let mut at_place = others.clone();
        at_place.sort_by(|&a, &b| place(&findings[a]).cmp(&place(&findings[b])));
        let mut in_object = others;
        in_object.sort_by(|&a, &b| object(&findings[a]).cmp(&object(&findings[b])));
        // The indexes in `sorted` whose finding has `key`.
        fn equal<'f, K: Ord>(
            sorted: &'f [usize],
            findings: &'f [Finding],
            key_of: impl Fn(&'f Finding) -> K,
            key: &K,
        ) -> &'f [usize] {
            let start = sorted.partition_point(|&c| key_of(&findings[c]) < *key);
            let len = sorted[start..].partition_point(|&c| key_of(&findings[c]) == *key);
            &sorted[start..start + len]
        }
        let mut into: Vec<Option<usize>> = vec![None; findings.len()];
        for (index, f) in findings.iter().enumerate() {
            let partners = crate::rules::pss::same_control(f.rule.id);
            if f.rule.category != "pss" || partners.is_empty() {
                continue;
            }
            let same_field = equal(&at_place, &findings, place, &place(f))
                .iter()
                .copied()
                .find(|&c| partners.contains(&findings[c].rule.id));
            // A container's finding of the check, and the hardening rule's finding for the
            // whole pod.
            let pod_wide = || {
                equal(&in_object, &findings, object, &object(f))
                    .iter()
                    .copied()
                    .find(|&c| {
                        crate::rules::pss::pod_wide(f.rule.id, findings[c].rule.id)
                            && !in_container(&findings[c].pointer)
                    })
            };
            into[index] = same_field.or_else(pod_wide);
        }
        drop((at_place, in_object));
        // Each merged finding goes into a finding of another rule (never merged itself): the
        // findings are merged in place, and the merged ones then taken out.
        let mut findings = findings;
        let mut gone = vec![false; findings.len()];
        for (index, target) in into.into_iter().enumerate() {
            let Some(target) = target else { continue };
            let other = &mut findings[index];
            let (rule, severity) = (other.rule, other.severity);
            let message = std::mem::take(&mut other.message);
            let fix = other.fix.take();
            let secrets = std::mem::take(&mut other.secrets);
            gone[index] = true;
            let primary = &mut findings[target];
            primary.severity = primary.severity.max(severity);
            // A pod-wide finding stands for every container the check reports: once is enough.
            if !primary.related.iter().any(|r| r.id == rule.id) {
                primary.message = format!("{}; {}: {}", primary.message, rule.id, message);
                primary.related.push(rule);
                primary.related.sort_by_key(|r| r.id);
            }
            primary.fix = primary.fix.take().or(fix);
            primary.secrets.extend(secrets);
        }
        let mut index = 0;
        findings.retain(|_| {
            index += 1;
            !gone[index - 1]
        });
        findings
    }

    /// The finding of `emit`, unless suppressed (which only a `suppressible` object can be:
    /// see [`Engine::suppressible`]).
    fn finding(
        &self,
        rule: &'static dyn Rule,
        object: Entry<'_>,
        emit: Emit,
        pos: Pos,
        suppressible: bool,
        reference: impl FnOnce() -> Arc<ObjectRef>,
    ) -> Option<Finding> {
        let meta = rule.meta();
        if suppressible && self.suppressed_entry(meta.id, object) {
            return None;
        }
        Some(Finding {
            rule: meta,
            severity: self
                .severity
                .get(meta.id)
                .copied()
                .or(emit.severity)
                .unwrap_or(meta.severity),
            message: emit.message,
            file: object.source().path.clone(),
            pos,
            pointer: emit.pointer,
            object: reference(),
            document: object.document(),
            item: object.item(),
            fix: emit.fix,
            related: Vec::new(),
            secrets: emit.secrets,
            policy: None,
        })
    }

    /// Warnings about the ignore annotation of one object: each name in it that is neither a
    /// rule ID, a slug nor `all`, once, at the annotation, with the nearest rule name when one
    /// is close.
    pub fn ignore_warnings(&self, object: &Object) -> Vec<String> {
        let Some(list) = object.annotation(IGNORE_ANNOTATION) else {
            return Vec::new();
        };
        let mut unknown: Vec<&str> = Vec::new();
        for name in list.split(',').map(str::trim) {
            if !name.is_empty()
                && !name.eq_ignore_ascii_case("all")
                && crate::find(name).is_none()
                && !unknown.contains(&name)
            {
                unknown.push(name);
            }
        }
        if unknown.is_empty() {
            return Vec::new();
        }
        let pos = object.locate(&format!(
            "/metadata/annotations/{}",
            IGNORE_ANNOTATION.replace('/', "~1")
        ));
        let names = || {
            crate::registry()
                .iter()
                .flat_map(|r| [r.meta().id, r.meta().slug])
        };
        unknown
            .into_iter()
            .map(|name| {
                let suggestion = nearest(name, names())
                    .map(|s| format!("; did you mean {s:?}?"))
                    .unwrap_or_default();
                format!(
                    "{}:{pos}: {IGNORE_ANNOTATION} names an unknown rule {name:?}{suggestion}",
                    object.source.path
                )
            })
            .collect()
    }

    /// Whether some rule's findings on `object` may be suppressed: by a configured suppression,
    /// or by the object's ignore annotation. When not, [`Engine::suppressed`] is `false`.
    fn suppressible(&self, object: &Object) -> bool {
        !self.suppressions.is_empty() || object.annotation(IGNORE_ANNOTATION).is_some()
    }

    /// Whether the findings of rule `id` on `object` are suppressed: by the object's
    /// [`IGNORE_ANNOTATION`] or by a configured suppression. For findings made outside the
    /// engine (POL001's policy violations).
    pub fn suppressed(&self, id: &str, object: &Object) -> bool {
        self.suppressed_entry(id, Entry::Decoded(object))
    }

    fn suppressed_entry(&self, id: &str, object: Entry<'_>) -> bool {
        if let Some(list) = object.annotation(IGNORE_ANNOTATION) {
            if list.split(',').map(str::trim).any(|r| {
                r.eq_ignore_ascii_case("all") || crate::find(r).is_some_and(|f| f.meta().id == id)
            }) {
                return true;
            }
        }
        self.suppressions.iter().any(|s| {
            s.applies(
                id,
                &object.source().path,
                object.kind(),
                object.namespace(),
                object.name(),
            )
        })
    }
}

/// The objects the inventory rules keep until the end of a run ([`Engine::keep`]), in input
/// order, [`Frozen`]: in a compact encoding that the inventory reads what identifies an object
/// and the positions of its fields from, and decodes one object at a time when a rule reads
/// more ([`crate::Entry::object`]). Objects of the kinds with a pod spec, most of what a large
/// input holds, are reduced to the fields the inventory engines and rules read (what identifies
/// and suppresses an object, and the fields of [`palisade_pss::POD_SPEC_READS`],
/// [`palisade_netpol::POD_SPEC_READS`] and the service-account rules), with their positions;
/// objects of the kinds that only YAML002 reads among the selected rules (Services and
/// Ingresses, with the default selection) are reduced to what identifies and suppresses them.
/// The others are small and kept whole. The digest of each whole object stands in for its content where
/// rules compare objects. A set made with [`Kept::whole`] keeps every object whole.
#[derive(Debug, Default)]
pub struct Kept {
    frozen: Vec<Frozen>,
    digests: Vec<u64>,
    /// Keep every object whole (for readers of any field of the objects findings point at).
    whole: bool,
}

impl Kept {
    /// An empty set whose objects will be kept whole, not reduced.
    pub fn whole() -> Kept {
        Kept {
            whole: true,
            ..Kept::default()
        }
    }

    pub fn objects(&self) -> Objects<'_> {
        Objects::Frozen(&self.frozen)
    }

    pub fn len(&self) -> usize {
        self.frozen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `offset` to the number of every object's document (objects decoded in parts of one
    /// file; the number of an object's document never decides what is kept of it).
    pub fn renumber(&mut self, offset: usize) {
        for frozen in &mut self.frozen {
            frozen.set_document(frozen.document() + offset);
        }
    }

    /// Charges the nodes of the kept objects to `run` ([`NodeBudget::hold`]).
    pub fn hold(&self, run: &NodeBudget) -> Result<(), LoadError> {
        let Some(first) = self.frozen.first() else {
            return Ok(());
        };
        let nodes = self
            .frozen
            .iter()
            .fold(0usize, |sum, f| sum.saturating_add(f.nodes()));
        run.hold_nodes(nodes, &first.source().path, first.locate(""))
    }

    /// Makes room for `additional` more objects (before appending several sets).
    pub fn reserve(&mut self, additional: usize) {
        self.frozen.reserve_exact(additional);
        self.digests.reserve_exact(additional);
    }

    /// Adds the objects of `other` (kept the same way) after these.
    pub fn append(&mut self, other: &mut Kept) {
        self.frozen.append(&mut other.frozen);
        self.digests.append(&mut other.digests);
    }

    pub fn clear(&mut self) {
        self.frozen.clear();
        self.digests.clear();
    }
}

/// What identifies and suppresses any object.
const IDENTITY: &[&str] = &[
    "/apiVersion",
    "/kind",
    "/metadata/name",
    "/metadata/generateName",
    "/metadata/namespace",
    "/metadata/uid",
    "/metadata/annotations/palisade.dev~1ignore",
];

/// Whether a rule compares whole objects ([`Inventory::same_content`]) and reads nothing else
/// of them than what identifies and suppresses them ([`IDENTITY`]), with positions: YAML002.
fn compares_content(rule: &dyn Rule) -> bool {
    rule.meta().id
        == crate::rules::input::duplicate_object::DuplicateObject
            .meta()
            .id
}

/// The fields the selected inventory rules read of each kind they do not read whole: the kinds
/// with a pod spec ([`workload_fields`]) and the kinds that only YAML002 reads, which needs of
/// them [`IDENTITY`] alone (and the digest of the whole object).
fn kept_fields(rules: &[&'static dyn Rule]) -> HashMap<&'static str, Fields> {
    let inventory: Vec<&dyn Rule> = rules
        .iter()
        .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
        .map(|r| *r as &dyn Rule)
        .collect();
    let mut kept = workload_fields();
    let kinds: BTreeSet<&'static str> = inventory
        .iter()
        .flat_map(|r| r.meta().kinds.iter().copied())
        .filter(|kind| *kind != "*")
        .collect();
    for kind in kinds {
        if inventory
            .iter()
            .filter(|r| reads_kind(**r, kind))
            .all(|r| compares_content(*r))
        {
            kept.insert(kind, Fields::of(IDENTITY.iter().copied()));
        }
    }
    kept
}

/// The fields the inventory engines and rules read of each kind with a pod spec.
fn workload_fields() -> HashMap<&'static str, Fields> {
    use crate::rules::workload::service_account;
    WORKLOADS
        .iter()
        .map(|w| {
            let mut fields = Fields::of(IDENTITY.iter().copied());
            for read in palisade_netpol::WORKLOAD_READS {
                fields.add(read);
            }
            let spec_reads = palisade_pss::POD_SPEC_READS
                .iter()
                .chain(palisade_netpol::POD_SPEC_READS)
                .chain(service_account::POD_SPEC_READS);
            for read in spec_reads {
                fields.add(&format!("{}{read}", w.pod_spec));
            }
            let metadata_reads = palisade_pss::POD_METADATA_READS
                .iter()
                .chain(palisade_netpol::POD_METADATA_READS);
            for read in metadata_reads {
                fields.add(&format!("{}{read}", w.pod_metadata));
            }
            (w.kind, fields)
        })
        .collect()
}

/// Whether a pointer is inside one container of a pod spec.
fn in_container(pointer: &str) -> bool {
    ["/containers/", "/initContainers/", "/ephemeralContainers/"]
        .iter()
        .any(|list| pointer.contains(list))
}

/// Where in its object a finding is, for [`Engine::merge_same_control`]: the position of its
/// field, or its pointer in an object without positions.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Place<'a> {
    Pos(palisade_core::Pos),
    Pointer(&'a str),
}

fn reads_kind(rule: &dyn Rule, kind: &str) -> bool {
    let kinds = rule.meta().kinds;
    kinds.contains(&"*") || kinds.contains(&kind)
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default(), &[], &[]).expect("the default selection names every rule")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Suppression;

    /// A namespace that enforces baseline and audits restricted, and a deployment in it with a
    /// privileged container and two containers without a seccomp profile.
    const LABELLED: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/audit: restricted
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
        securityContext:
          privileged: true
      - name: sidecar
        image: sidecar:1.0
";

    /// The findings of a run over [`LABELLED`] with these rules ignored, as (line, rule and
    /// related rules, severity).
    fn run(ignore: &[&str]) -> Vec<(u32, String, Severity)> {
        let ignore: Vec<String> = ignore.iter().map(|r| (*r).to_owned()).collect();
        let select = ["POD001", "POD011", "PSS007", "PSS019"].map(str::to_owned);
        let engine = Engine::new(&Config::default(), &select, &ignore).expect("rules exist");
        let loaded = palisade_core::load_str(LABELLED, "apps.yaml", &Default::default());
        let mut findings: Vec<Finding> = loaded
            .objects
            .iter()
            .flat_map(|o| engine.check_object(o))
            .collect();
        findings.extend(engine.check_inventory(&loaded.objects));
        let mut found: Vec<_> = engine
            .merge_same_control(findings)
            .into_iter()
            .map(|f| {
                let ids: Vec<&str> = std::iter::once(f.rule.id)
                    .chain(f.related.iter().map(|r| r.id))
                    .collect();
                (f.pos.line, ids.join("+"), f.severity)
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_pod_security_check_and_a_hardening_rule_on_one_field_are_one_finding() {
        assert_eq!(
            run(&[]),
            [
                (16, "POD011+PSS019".to_owned(), Severity::Medium),
                (21, "POD001+PSS007".to_owned(), Severity::Critical),
            ]
        );
    }

    #[test]
    fn suppressing_either_rule_of_a_pair_leaves_the_other_alone() {
        assert_eq!(
            run(&["PSS007", "PSS019"]),
            [
                (16, "POD011".to_owned(), Severity::Medium),
                (21, "POD001".to_owned(), Severity::Critical),
            ]
        );
        let alone = run(&["POD001", "POD011"]);
        assert_eq!(
            alone,
            [
                (20, "PSS019".to_owned(), Severity::Low),
                (21, "PSS007".to_owned(), Severity::High),
                (22, "PSS019".to_owned(), Severity::Low),
            ]
        );
    }

    /// A ClusterRole bound cluster-wide whose one rule entry reads and patches everything:
    /// `*` resources imply reading secrets (RBAC001), changing workloads (RBAC002), `pods/exec`
    /// (RBAC003), the kubelet API through `nodes/proxy` (RBAC007) and webhook writes (RBAC009).
    fn wildcard_entry(annotations: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: server
  annotations: {{{annotations}}}
rules:
- apiGroups: [\"*\"]
  resources: [\"*\"]
  verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: server}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: server}}
subjects:
- {{kind: ServiceAccount, name: server, namespace: apps}}
"
        )
    }

    /// The rule IDs reported at the wildcard entry, with these rules ignored.
    fn wildcard_rules(annotations: &str, ignore: &[&str]) -> Vec<&'static str> {
        let ignore: Vec<String> = ignore.iter().map(|r| (*r).to_owned()).collect();
        let engine =
            Engine::new(&Config::default(), &["rbac".to_owned()], &ignore).expect("rules exist");
        let loaded = palisade_core::load_str(
            &wildcard_entry(annotations),
            "rbac.yaml",
            &Default::default(),
        );
        engine
            .check_inventory(&loaded.objects)
            .into_iter()
            .filter(|f| f.pointer == "/rules/0")
            .map(|f| f.rule.id)
            .collect()
    }

    #[test]
    fn a_wildcard_entry_moves_to_the_next_rule_when_its_rule_is_ignored_or_suppressed() {
        assert_eq!(wildcard_rules("", &[]), ["RBAC007"]);
        assert_eq!(wildcard_rules("", &["RBAC007"]), ["RBAC001"]);
        assert_eq!(
            wildcard_rules("palisade.dev/ignore: \"RBAC007,RBAC001\"", &[]),
            ["RBAC002"]
        );
        assert_eq!(
            wildcard_rules("", &["RBAC001", "RBAC002", "RBAC003", "RBAC007", "RBAC009"]),
            ["RBAC010"]
        );
        assert!(wildcard_rules("palisade.dev/ignore: all", &[]).is_empty());
    }

    #[test]
    fn unknown_names_in_the_ignore_annotation_are_warned_about_once_with_the_nearest_rule() {
        let warnings = |annotations: &str| {
            let loaded = palisade_core::load_str(
                &wildcard_entry(annotations),
                "rbac.yaml",
                &Default::default(),
            );
            Engine::default().ignore_warnings(&loaded.objects[0])
        };
        assert_eq!(
            warnings("palisade.dev/ignore: \"RBAC07, rbac-wildcrd, RBAC07, zzz\""),
            [
                "rbac.yaml:5:17: palisade.dev/ignore names an unknown rule \"RBAC07\"; did you mean \"RBAC007\"?",
                "rbac.yaml:5:17: palisade.dev/ignore names an unknown rule \"rbac-wildcrd\"; did you mean \"rbac-wildcard\"?",
                "rbac.yaml:5:17: palisade.dev/ignore names an unknown rule \"zzz\"",
            ]
        );
        assert!(warnings("palisade.dev/ignore: \"RBAC007, rbac007, All,\"").is_empty());
        assert!(warnings("").is_empty());
    }

    #[test]
    fn an_invalid_suppression_glob_is_an_error_not_a_suppression_everywhere() {
        let suppression = |path: &str| Config {
            suppressions: vec![Suppression {
                rule: "POD001".to_owned(),
                path: Some(path.to_owned()),
                reason: "test".to_owned(),
                ..Suppression::default()
            }],
            ..Config::default()
        };
        assert!(Engine::new(&suppression("deploy/**"), &[], &[]).is_ok());
        let err = Engine::new(&suppression("deploy/[a"), &[], &[])
            .err()
            .expect("the glob is refused");
        assert!(
            matches!(&err, EngineError::Glob { glob, .. } if glob == "deploy/[a"),
            "{err}"
        );
        assert!(err.to_string().contains("deploy/[a"), "{err}");
    }
}
