use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use palisade_core::rule::{Fix, FixSafety, RuleMeta, Severity};
use palisade_core::views::{ContainerView, PodSpecView};
use palisade_core::{Frozen, Object, ObjectRef, Pos, Source};

use rayon::prelude::*;

use crate::settings::Settings;

/// What a rule reads, with the trait that checks it. Each family of rules reads one of these;
/// a new kind of input (audit events, node files) is a new variant with its own trait and its
/// own runner, declared with [`declare_rule!`] like every other rule.
#[derive(Clone, Copy)]
pub enum Checker<'r> {
    /// One object at a time, as each object arrives ([`ObjectRule`]).
    Object(&'r dyn ObjectRule),
    /// The whole input at once, for rules that relate objects to each other ([`InventoryRule`]).
    Inventory(&'r dyn InventoryRule),
    /// The facts of one node's files, the CIS Kubernetes Benchmark checks ([`NodeRule`]).
    Node(&'r dyn NodeRule),
    /// One Kubernetes audit event at a time, in log order ([`EventRule`]; run by
    /// `rules::event::EventRunner`).
    Event(&'r dyn EventRule),
}

/// What an audit-event rule sees: the event, the settings, and the facts of the analyses that
/// span events (computed once per event by the runner).
pub struct EventCx<'a> {
    pub event: &'a palisade_audit::Event,
    pub request: palisade_audit::Request<'a>,
    pub settings: &'a Settings,
    /// The burst of failed requests this event completes, if any.
    pub failure_spike: Option<&'a palisade_audit::FailureSpike>,
}

/// What a per-object rule sees: the object, and its pod spec and containers, computed once for
/// all the rules that read them.
pub struct ObjectCx<'a> {
    pub object: &'a Object,
    pub settings: &'a Settings,
    /// The object's pod spec, if its kind has one and it is a mapping
    /// ([`palisade_core::views::pod_spec`]).
    pub pod: Option<PodSpecView<'a>>,
    /// The containers of [`ObjectCx::pod`] (init, regular, ephemeral), empty without one.
    pub containers: Vec<ContainerView<'a>>,
    /// Whether the caller wants fixes ([`ObjectCx::fix`]): audit alerts show none.
    pub fixes: bool,
}

impl<'a> ObjectCx<'a> {
    pub fn new(object: &'a Object, settings: &'a Settings) -> Self {
        let pod = palisade_core::views::pod_spec(&object.value);
        ObjectCx {
            object,
            settings,
            pod,
            containers: pod.map(|p| p.containers()).unwrap_or_default(),
            fixes: true,
        }
    }

    /// The same context, for a caller that wants no fixes.
    pub fn without_fixes(self) -> Self {
        ObjectCx {
            fixes: false,
            ..self
        }
    }

    /// The fix `build` makes, when fixes are wanted; `None` without building it otherwise.
    /// Rules build their fixes through it: `.with_fix(cx.fix(|| set_fix(...)))`.
    pub fn fix(&self, build: impl FnOnce() -> Option<Fix>) -> Option<Fix> {
        if self.fixes {
            build()
        } else {
            None
        }
    }
}

/// One shared analysis, built by the first rule that asks for it.
type Slot = OnceLock<Arc<dyn Any + Send + Sync>>;

/// The objects of an inventory, decoded or kept [`Frozen`] ([`crate::Kept`]).
#[derive(Clone, Copy)]
pub enum Objects<'a> {
    Decoded(&'a [Object]),
    Frozen(&'a [Frozen]),
}

impl<'a> Objects<'a> {
    pub fn len(&self) -> usize {
        match self {
            Objects::Decoded(objects) => objects.len(),
            Objects::Frozen(objects) => objects.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, index: usize) -> Option<Entry<'a>> {
        match self {
            Objects::Decoded(objects) => objects.get(index).map(Entry::Decoded),
            Objects::Frozen(objects) => objects.get(index).map(Entry::Frozen),
        }
    }

    /// Every object, in input order.
    pub fn iter(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        let objects = *self;
        (0..objects.len()).filter_map(move |index| objects.get(index))
    }

    /// The objects that `keep` selects with their index, in order, for a reader of their values
    /// alone ([`Entry::object_unlocated`]). Frozen objects are decoded on the pool a batch at a
    /// time: a large analysis built on one thread is not bound by their decoding, and holds one
    /// batch of them at a time.
    pub fn unlocated_where(
        self,
        keep: impl Fn(Entry<'a>) -> bool,
    ) -> impl Iterator<Item = (usize, Cow<'a, Object>)> + 'a {
        const BATCH: usize = 512;
        let indexes: Vec<usize> = (0..self.len())
            .filter(|&index| self.get(index).is_some_and(&keep))
            .collect();
        let count = indexes.len();
        (0..count).step_by(BATCH).flat_map(move |start| {
            indexes[start..count.min(start + BATCH)]
                .par_iter()
                .filter_map(|&index| Some((index, self.get(index)?.object_unlocated())))
                .collect::<Vec<_>>()
        })
    }

    /// The objects of `kinds` with their index, decoded one at a time.
    pub fn of_kinds<'k>(
        &self,
        kinds: &'k [&'k str],
    ) -> impl Iterator<Item = (usize, Cow<'a, Object>)> + 'k
    where
        'a: 'k,
    {
        self.iter()
            .enumerate()
            .filter(move |(_, entry)| kinds.contains(&entry.kind()))
            .map(|(index, entry)| (index, entry.object()))
    }
}

/// One object of an inventory. What identifies it and where its fields are is read without
/// decoding a [`Frozen`] object; [`Entry::object`] decodes it.
#[derive(Clone, Copy)]
pub enum Entry<'a> {
    Decoded(&'a Object),
    Frozen(&'a Frozen),
}

impl<'a> Entry<'a> {
    /// The object, decoded if it was kept [`Frozen`].
    pub fn object(&self) -> Cow<'a, Object> {
        match self {
            Entry::Decoded(object) => Cow::Borrowed(object),
            Entry::Frozen(frozen) => Cow::Owned(frozen.thaw()),
        }
    }

    /// The object for a reader of its values alone: decoded without its positions
    /// ([`Object::locate`] then gives line 0) if it was kept [`Frozen`], which is faster.
    pub fn object_unlocated(&self) -> Cow<'a, Object> {
        match self {
            Entry::Decoded(object) => Cow::Borrowed(object),
            Entry::Frozen(frozen) => Cow::Owned(frozen.thaw_unlocated()),
        }
    }

    pub fn kind(&self) -> &'a str {
        match self {
            Entry::Decoded(object) => object.kind(),
            Entry::Frozen(frozen) => frozen.kind(),
        }
    }

    pub fn api_version(&self) -> &'a str {
        match self {
            Entry::Decoded(object) => object.api_version(),
            Entry::Frozen(frozen) => frozen.api_version(),
        }
    }

    pub fn group(&self) -> &'a str {
        match self {
            Entry::Decoded(object) => object.group(),
            Entry::Frozen(frozen) => frozen.group(),
        }
    }

    pub fn name(&self) -> &'a str {
        match self {
            Entry::Decoded(object) => object.name(),
            Entry::Frozen(frozen) => frozen.name(),
        }
    }

    pub fn namespace(&self) -> Option<&'a str> {
        match self {
            Entry::Decoded(object) => object.namespace(),
            Entry::Frozen(frozen) => frozen.namespace(),
        }
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        match self {
            Entry::Decoded(object) => object.annotation(key),
            Entry::Frozen(frozen) => frozen.annotation(key),
        }
    }

    /// Whether the object has a field at `pointer`.
    pub fn has(&self, pointer: &str) -> bool {
        match self {
            Entry::Decoded(object) => object.value.pointer(pointer).is_some(),
            Entry::Frozen(frozen) => frozen.exists(pointer),
        }
    }

    /// The value at `pointer`.
    pub fn value_at(&self, pointer: &str) -> Option<Cow<'a, serde_json::Value>> {
        match self {
            Entry::Decoded(object) => object.value.pointer(pointer).map(Cow::Borrowed),
            Entry::Frozen(frozen) => frozen.value_at(pointer).map(Cow::Owned),
        }
    }

    pub fn source(&self) -> &'a Source {
        match self {
            Entry::Decoded(object) => &object.source,
            Entry::Frozen(frozen) => frozen.source(),
        }
    }

    pub fn document(&self) -> usize {
        match self {
            Entry::Decoded(object) => object.document,
            Entry::Frozen(frozen) => frozen.document(),
        }
    }

    pub fn item(&self) -> Option<usize> {
        match self {
            Entry::Decoded(object) => object.item,
            Entry::Frozen(frozen) => frozen.item(),
        }
    }

    pub fn reference(&self) -> ObjectRef {
        match self {
            Entry::Decoded(object) => object.reference(),
            Entry::Frozen(frozen) => frozen.reference(),
        }
    }

    /// [`Object::locate`].
    pub fn locate(&self, pointer: &str) -> Pos {
        match self {
            Entry::Decoded(object) => object.locate(pointer),
            Entry::Frozen(frozen) => frozen.locate(pointer),
        }
    }
}

/// Everything the input holds that inventory rules asked for (objects of the kinds they declare).
pub struct Inventory<'a> {
    pub objects: Objects<'a>,
    pub settings: &'a Settings,
    /// The content digest ([`Object::content_digest`]) of each object, taken before it was
    /// reduced to the fields the rules read (`None`: the objects are whole).
    digests: Option<&'a [u64]>,
    /// Analyses computed once per input and shared by the rules that read them: one slot per
    /// type, so rules running in parallel wait only for the analysis they need.
    shared: Mutex<HashMap<TypeId, Arc<Slot>>>,
    /// Whether rule `id` is selected and not suppressed for object `index` (everything is, when
    /// not set): for rules that choose which of several rules reports one problem.
    reports: Option<&'a ReportsFilter<'a>>,
}

/// Whether a rule (by ID) reports on an object (by index): see [`Inventory::reports`].
pub type ReportsFilter<'f> = dyn Fn(&str, usize) -> bool + Sync + 'f;

impl<'a> Inventory<'a> {
    pub fn new(objects: &'a [Object], settings: &'a Settings) -> Self {
        Inventory::of(Objects::Decoded(objects), settings)
    }

    pub fn of(objects: Objects<'a>, settings: &'a Settings) -> Self {
        Inventory {
            objects,
            settings,
            digests: None,
            shared: Mutex::default(),
            reports: None,
        }
    }

    /// The same inventory, whose [`Inventory::reports`] answers with `filter`.
    pub fn with_reports(self, filter: &'a ReportsFilter<'a>) -> Self {
        Inventory {
            reports: Some(filter),
            ..self
        }
    }

    /// The same inventory, whose objects were reduced to the fields the rules read
    /// ([`crate::Kept`]), with the content digest of each whole object.
    pub(crate) fn with_digests(self, digests: &'a [u64]) -> Self {
        Inventory {
            digests: Some(digests),
            ..self
        }
    }

    /// Whether objects `a` and `b` have the same content (as whole objects, even when the
    /// inventory holds them reduced).
    pub fn same_content(&self, a: usize, b: usize) -> bool {
        match self.digests {
            Some(digests) => digests.get(a).is_some_and(|d| Some(d) == digests.get(b)),
            None => match (self.objects.get(a), self.objects.get(b)) {
                (Some(a), Some(b)) => a.object().value == b.object().value,
                _ => false,
            },
        }
    }

    /// Whether a finding of rule `id` on object `index` would be reported: the rule is selected
    /// and not suppressed for the object.
    pub fn reports(&self, id: &str, index: usize) -> bool {
        self.reports.is_none_or(|filter| filter(id, index))
    }

    /// A value derived from the whole input (an engine's analysis), built by the first rule that
    /// asks for it and shared with the other rules that read this inventory (the runner gives
    /// each rule category an inventory of its own). One value per type.
    pub fn shared<T: Any + Send + Sync>(&self, build: impl FnOnce(Objects<'a>) -> T) -> Arc<T> {
        let slot = Arc::clone(
            self.shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(TypeId::of::<T>())
                .or_default(),
        );
        let value = slot.get_or_init(|| Arc::new(build(self.objects)));
        Arc::clone(value)
            .downcast::<T>()
            .expect("each slot holds a value of its own type")
    }
}

/// A finding before it is located: the rule fills in the pointer and message; the runner adds
/// the rule, object and position.
#[derive(Debug, Clone)]
pub struct Emit {
    /// JSON Pointer of the offending field, or of the nearest existing parent when it is missing.
    pub pointer: String,
    pub message: String,
    pub fix: Option<Fix>,
    /// A severity for this finding other than the rule's (e.g. a hostPath of the runtime socket).
    pub severity: Option<Severity>,
    /// Credentials the finding is about (decoded, and as written when that differs): reports
    /// mask them wherever they appear unless secrets are shown.
    pub secrets: Vec<String>,
}

impl Emit {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Emit {
            pointer: pointer.into(),
            message: message.into(),
            fix: None,
            severity: None,
            secrets: Vec::new(),
        }
    }

    /// Marks a credential the finding is about, so that no report prints it.
    pub fn with_secret(mut self, value: impl Into<String>) -> Self {
        self.secrets.push(value.into());
        self
    }

    /// Marks credentials the finding is about (none, for an empty iterator or `None`).
    pub fn with_secrets<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(values.into_iter().map(Into::into));
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }
}

/// A rule of any family: its metadata and what it reads. Implemented by [`declare_rule!`]
/// only; the rule's check is an [`ObjectRule`] or an [`InventoryRule`].
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Which kind the rule's fixes are and why (`None` for rules without fixes).
    fn fix_safety(&self) -> Option<FixSafety>;

    /// Whether the rule attaches credentials to its findings ([`Emit::with_secret`]). Such
    /// per-object rules also run, for masking only, where the selection or a suppression leaves
    /// them out, so that no output shows a credential another finding's context reveals.
    fn finds_credentials(&self) -> bool;

    /// What the rule reads, and its check.
    fn checker(&self) -> Checker<'_>;
}

/// A rule over one object at a time.
pub trait ObjectRule: Rule {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>);

    /// Whether the rule can report the object an audit event carries, judged before the object
    /// is decoded ([`RequestObject`]). The audit runner decodes no request object that no
    /// selected rule can report. `true` unless the rule declares otherwise.
    fn may_report_request_object(&self, _object: &RequestObject<'_>) -> bool {
        true
    }
}

/// What is known of an audit event's request object before it is decoded: its kind, and the
/// event it is in. Such an object comes from JSON, so it never has duplicate keys.
pub struct RequestObject<'a> {
    pub kind: &'a str,
    pub event: &'a palisade_audit::Event,
}

impl RequestObject<'_> {
    /// Whether the object has `metadata.annotations`.
    pub fn has_annotations(&self) -> bool {
        self.event
            .has_path(&["requestObject", "metadata", "annotations"])
    }
}

/// A rule over Kubernetes audit events. Each finding's pointer points into the event.
pub trait EventRule: Rule {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>);
}

/// A rule over the whole input: the objects of the kinds it declares, and the analyses that
/// several rules share ([`Inventory::shared`]).
pub trait InventoryRule: Rule {
    /// Each finding names the index of its object in `inventory.objects`.
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>);
}

/// What a node rule sees: the audit of one node's files (`palisade node`).
pub struct NodeCx<'a> {
    pub audit: &'a palisade_node::NodeAudit,
    pub settings: &'a Settings,
}

/// A finding of a node rule before it is reported: where it is (the file, and the line of the
/// flag or field, or of where it belongs) and what it says.
#[derive(Debug, Clone)]
pub struct NodeEmit {
    pub location: palisade_node::Location,
    pub message: String,
    /// A severity for this finding other than the rule's (a check that could not be tested).
    pub severity: Option<Severity>,
}

/// A rule over the facts of one node's files ([`palisade_node::audit`]).
pub trait NodeRule: Rule {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>);
}

/// Declares a rule: a unit struct, its [`RuleMeta`] and its [`Rule`] implementation. The rule
/// file then implements the trait its `checks:` names ([`ObjectRule`] for `Object`,
/// [`InventoryRule`] for `Inventory`, [`NodeRule`] for `Node`, [`EventRule`] for `Event`). `fix:`
/// is the rule's [`FixSafety`], `None` for a rule
/// without fixes; `credentials: true` marks rules whose findings carry credentials. The
/// metadata records the file that declares the rule, which the rule pages link to.
///
/// ```ignore
/// declare_rule! {
///     /// Containers that unmask `/proc`.
///     pub struct ProcMount;
///     checks: Object,
///     id: "POD013",
///     slug: "unmasked-proc-mount",
///     title: "Container unmasks /proc",
///     severity: Severity::High,
///     category: "workload",
///     kinds: WORKLOAD_KINDS,
///     summary: "…",
///     rationale: "…",
///     remediation: "…",
///     references: &[],
///     fix: None,
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident;
        checks: $checker:ident,
        id: $id:literal,
        slug: $slug:literal,
        title: $title:expr,
        severity: $severity:expr,
        category: $category:literal,
        kinds: $kinds:expr,
        summary: $summary:expr,
        rationale: $rationale:expr,
        remediation: $remediation:expr,
        references: $references:expr,
        fix: $fix:expr,
        $(credentials: $credentials:literal,)?
    ) => {
        $(#[$attr])*
        $vis struct $name;

        impl $crate::Rule for $name {
            fn meta(&self) -> &'static $crate::RuleMeta {
                static META: $crate::RuleMeta = $crate::RuleMeta {
                    id: $id,
                    slug: $slug,
                    title: $title,
                    severity: $severity,
                    category: $category,
                    kinds: $kinds,
                    summary: $summary,
                    rationale: $rationale,
                    remediation: $remediation,
                    references: $references,
                    fixable: {
                        let fix: Option<$crate::FixSafety> = $fix;
                        fix.is_some()
                    },
                    source: file!(),
                };
                &META
            }

            fn fix_safety(&self) -> Option<$crate::FixSafety> {
                $fix
            }

            fn finds_credentials(&self) -> bool {
                false $(|| $credentials)?
            }

            fn checker(&self) -> $crate::Checker<'_> {
                $crate::Checker::$checker(self)
            }
        }
    };
}

/// Every rule, in ID order.
pub fn registry() -> &'static [&'static dyn Rule] {
    crate::rules::ALL
}

/// The rule a name designates: its ID in any case (`POD001`, `pod001`) or its slug
/// (`privileged-container`). The one lookup by name, used by selectors, the configuration, the
/// ignore annotation, the webhook settings and `explain`.
pub fn find(name: &str) -> Option<&'static dyn Rule> {
    registry()
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(name) || r.meta().slug == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_found_by_id_in_any_case_or_by_slug() {
        let id = |name: &str| find(name).map(|r| r.meta().id);
        assert_eq!(id("POD001"), Some("POD001"));
        assert_eq!(id("pod001"), Some("POD001"));
        assert_eq!(id("privileged-container"), Some("POD001"));
        // Slugs and categories are lower case names, matched exactly; categories name no rule.
        assert_eq!(id("Privileged-Container"), None);
        assert_eq!(id("workload"), None);
        assert_eq!(id("POD999"), None);
    }

    #[test]
    fn shared_values_are_built_once_per_input() {
        let settings = Settings::default();
        let builds = std::sync::atomic::AtomicUsize::new(0);
        let count = |objects: Objects<'_>| {
            builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            objects.len()
        };
        let inventory = Inventory::new(&[], &settings);
        assert_eq!(*inventory.shared(count), 0);
        assert_eq!(*inventory.shared(count), 0);
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
        let other = Inventory::new(&[], &settings);
        other.shared(count);
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
