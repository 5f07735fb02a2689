//! The fields of Falco's `k8s_audit` source: every `ka.*` field of the k8saudit plugin and the
//! `json.*`/`jevt.*` fields of the json plugin, with the plugins' extraction semantics.
//!
//! Extraction borrows strings from the event wherever the value is a JSON string; other values
//! are rendered as compact JSON, as the plugin does. A field that is "not available" (absent
//! path, or a list that came out empty) is `None`, and every comparison on it is false.

use std::borrow::Cow;

use serde_json::Value;
use smallvec::{smallvec, SmallVec};

use crate::event::Event;

/// What a field accepts between brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    None,
    /// An optional numeric index (`ka.req.pod.containers.image[0]`).
    Index,
    /// A required key (`ka.uri.param[command]`, `jevt.value[/stage]`).
    Key,
}

/// A container list of a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containers {
    Containers,
    Init,
    Ephemeral,
}

impl Containers {
    fn key(self) -> &'static str {
        match self {
            Containers::Containers => "containers",
            Containers::Init => "initContainers",
            Containers::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A per-container field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerContainer {
    Args,
    Command,
    Name,
    Image,
    ImageRepository,
    HostPort,
    Privileged,
    AllowPrivilegeEscalation,
    ReadOnlyFs,
    RunAsUser,
    EffRunAsUser,
    RunAsGroup,
    EffRunAsGroup,
    ProcMount,
    AddCapabilities,
}

/// One field of the source, resolved from its name once at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string at a fixed path of the event.
    Path(&'static [&'static str]),
    /// A list of strings at a fixed path (the path must hold an array).
    PathList(&'static [&'static str]),
    UriParam,
    TargetPodName,
    SubjectNames(&'static str),
    SubjectHasName,
    ContainerImage,
    ContainerImageRepository,
    ContainerPrivileged,
    Container(Containers, PerContainer),
    /// `ka.req.role.rules.<key>` and friends: arrays under each element of `requestObject.rules`.
    RulesField(&'static str),
    ServicePorts,
    VolumeHostpathPrefix,
    VolumesHostpath,
    VolumesFlexDriver,
    VolumesType,
    SourceIps,
    JsonValue,
    JsonObj,
    JsonRawtime,
}

/// A field's definition: name, whether it yields a list, and its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub list: bool,
    pub arg: ArgKind,
    pub kind: Kind,
}

const fn def(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        list: false,
        arg: ArgKind::None,
        kind,
    }
}

const fn list(name: &'static str, kind: Kind, arg: ArgKind) -> FieldDef {
    FieldDef {
        name,
        list: true,
        arg,
        kind,
    }
}

const fn keyed(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        list: false,
        arg: ArgKind::Key,
        kind,
    }
}

const fn per(name: &'static str, c: Containers, f: PerContainer) -> FieldDef {
    list(name, Kind::Container(c, f), ArgKind::Index)
}

use Containers::{Containers as C, Ephemeral as E, Init as I};
use PerContainer as P;

/// Every field, in the order of the plugins' tables.
pub static FIELDS: &[FieldDef] = &[
    def("ka.auditid", Kind::Path(&["auditID"])),
    def("ka.stage", Kind::Path(&["stage"])),
    def(
        "ka.auth.decision",
        Kind::Path(&["annotations", "authorization.k8s.io/decision"]),
    ),
    def(
        "ka.auth.reason",
        Kind::Path(&["annotations", "authorization.k8s.io/reason"]),
    ),
    def(
        "ka.auth.openshift.decision",
        Kind::Path(&["annotations", "authentication.openshift.io/decision"]),
    ),
    def(
        "ka.validations.admission.policy.failure",
        Kind::Path(&[
            "annotations",
            "validation.policy.admission.k8s.io/validation_failure",
        ]),
    ),
    def(
        "ka.security.pod.violations",
        Kind::Path(&["annotations", "pod-security.kubernetes.io/audit-violations"]),
    ),
    def(
        "ka.auth.openshift.username",
        Kind::Path(&["annotations", "authentication.openshift.io/username"]),
    ),
    def("ka.user.name", Kind::Path(&["user", "username"])),
    list(
        "ka.user.groups",
        Kind::PathList(&["user", "groups"]),
        ArgKind::None,
    ),
    def(
        "ka.impuser.name",
        Kind::Path(&["impersonatedUser", "username"]),
    ),
    def("ka.verb", Kind::Path(&["verb"])),
    def("ka.uri", Kind::Path(&["requestURI"])),
    keyed("ka.uri.param", Kind::UriParam),
    def("ka.target.name", Kind::Path(&["objectRef", "name"])),
    def(
        "ka.target.namespace",
        Kind::Path(&["objectRef", "namespace"]),
    ),
    def("ka.target.resource", Kind::Path(&["objectRef", "resource"])),
    def(
        "ka.target.subresource",
        Kind::Path(&["objectRef", "subresource"]),
    ),
    def("ka.target.pod.name", Kind::TargetPodName),
    list(
        "ka.req.binding.subjects",
        Kind::PathList(&["requestObject", "subjects"]),
        ArgKind::None,
    ),
    list(
        "ka.req.binding.subjects.user_names",
        Kind::SubjectNames("User"),
        ArgKind::None,
    ),
    list(
        "ka.req.binding.subjects.serviceaccount_names",
        Kind::SubjectNames("ServiceAccount"),
        ArgKind::None,
    ),
    list(
        "ka.req.binding.subjects.serviceaccount_ns_names",
        Kind::SubjectNames("NamespacedServiceAccount"),
        ArgKind::None,
    ),
    list(
        "ka.req.binding.subjects.group_names",
        Kind::SubjectNames("Group"),
        ArgKind::None,
    ),
    def(
        "ka.req.binding.role",
        Kind::Path(&["requestObject", "roleRef", "name"]),
    ),
    keyed("ka.req.binding.subject.has_name", Kind::SubjectHasName),
    def("ka.req.configmap.name", Kind::Path(&["objectRef", "name"])),
    def(
        "ka.req.configmap.obj",
        Kind::Path(&["requestObject", "data"]),
    ),
    per("ka.req.pod.containers.args", C, P::Args),
    per("ka.req.pod.containers.command", C, P::Command),
    per("ka.req.pod.containers.name", C, P::Name),
    per("ka.req.pod.containers.image", C, P::Image),
    def("ka.req.container.image", Kind::ContainerImage),
    per(
        "ka.req.pod.containers.image.repository",
        C,
        P::ImageRepository,
    ),
    def(
        "ka.req.container.image.repository",
        Kind::ContainerImageRepository,
    ),
    def(
        "ka.req.pod.host_ipc",
        Kind::Path(&["requestObject", "spec", "hostIPC"]),
    ),
    def(
        "ka.req.pod.host_network",
        Kind::Path(&["requestObject", "spec", "hostNetwork"]),
    ),
    def(
        "ka.req.container.host_network",
        Kind::Path(&["requestObject", "spec", "hostNetwork"]),
    ),
    def(
        "ka.req.pod.host_pid",
        Kind::Path(&["requestObject", "spec", "hostPID"]),
    ),
    per("ka.req.pod.containers.host_port", C, P::HostPort),
    per("ka.req.pod.containers.privileged", C, P::Privileged),
    def("ka.req.container.privileged", Kind::ContainerPrivileged),
    per(
        "ka.req.pod.containers.allow_privilege_escalation",
        C,
        P::AllowPrivilegeEscalation,
    ),
    per("ka.req.pod.containers.read_only_fs", C, P::ReadOnlyFs),
    def(
        "ka.req.pod.run_as_user",
        Kind::Path(&["requestObject", "spec", "securityContext", "runAsUser"]),
    ),
    per("ka.req.pod.containers.run_as_user", C, P::RunAsUser),
    per("ka.req.pod.containers.eff_run_as_user", C, P::EffRunAsUser),
    def(
        "ka.req.pod.run_as_group",
        Kind::Path(&["requestObject", "spec", "securityContext", "runAsGroup"]),
    ),
    per("ka.req.pod.containers.run_as_group", C, P::RunAsGroup),
    per(
        "ka.req.pod.containers.eff_run_as_group",
        C,
        P::EffRunAsGroup,
    ),
    per("ka.req.pod.containers.proc_mount", C, P::ProcMount),
    list(
        "ka.req.role.rules",
        Kind::PathList(&["requestObject", "rules"]),
        ArgKind::None,
    ),
    list(
        "ka.req.role.rules.apiGroups",
        Kind::RulesField("apiGroups"),
        ArgKind::Index,
    ),
    list(
        "ka.req.role.rules.nonResourceURLs",
        Kind::RulesField("nonResourceURLs"),
        ArgKind::Index,
    ),
    list(
        "ka.req.role.rules.verbs",
        Kind::RulesField("verbs"),
        ArgKind::Index,
    ),
    list(
        "ka.req.role.rules.resources",
        Kind::RulesField("resources"),
        ArgKind::Index,
    ),
    def(
        "ka.req.pod.fs_group",
        Kind::Path(&["requestObject", "spec", "securityContext", "fsGroup"]),
    ),
    list(
        "ka.req.pod.supplemental_groups",
        Kind::PathList(&[
            "requestObject",
            "spec",
            "securityContext",
            "supplementalGroups",
        ]),
        ArgKind::None,
    ),
    per(
        "ka.req.pod.containers.add_capabilities",
        C,
        P::AddCapabilities,
    ),
    def(
        "ka.req.service.type",
        Kind::Path(&["requestObject", "spec", "type"]),
    ),
    list("ka.req.service.ports", Kind::ServicePorts, ArgKind::Index),
    list(
        "ka.req.pod.volumes.hostpath",
        Kind::VolumesHostpath,
        ArgKind::Index,
    ),
    keyed("ka.req.volume.hostpath", Kind::VolumeHostpathPrefix),
    list(
        "ka.req.pod.volumes.flexvolume_driver",
        Kind::VolumesFlexDriver,
        ArgKind::Index,
    ),
    list(
        "ka.req.pod.volumes.volume_type",
        Kind::VolumesType,
        ArgKind::Index,
    ),
    def(
        "ka.resp.name",
        Kind::Path(&["responseObject", "metadata", "name"]),
    ),
    def("ka.response.code", Kind::Path(&["responseStatus", "code"])),
    def(
        "ka.response.reason",
        Kind::Path(&["responseStatus", "reason"]),
    ),
    def("ka.useragent", Kind::Path(&["userAgent"])),
    list("ka.sourceips", Kind::SourceIps, ArgKind::Index),
    def(
        "ka.cluster.name",
        Kind::Path(&["annotations", "cluster_name"]),
    ),
    per("ka.req.pod.initContainers.name", I, P::Name),
    per("ka.req.pod.initContainers.image", I, P::Image),
    per(
        "ka.req.pod.initContainers.image.repository",
        I,
        P::ImageRepository,
    ),
    per("ka.req.pod.initContainers.command", I, P::Command),
    per("ka.req.pod.initContainers.args", I, P::Args),
    per("ka.req.pod.initContainers.privileged", I, P::Privileged),
    per(
        "ka.req.pod.initContainers.allow_privilege_escalation",
        I,
        P::AllowPrivilegeEscalation,
    ),
    per("ka.req.pod.initContainers.read_only_fs", I, P::ReadOnlyFs),
    per("ka.req.pod.initContainers.run_as_user", I, P::RunAsUser),
    per(
        "ka.req.pod.initContainers.eff_run_as_user",
        I,
        P::EffRunAsUser,
    ),
    per("ka.req.pod.initContainers.run_as_group", I, P::RunAsGroup),
    per(
        "ka.req.pod.initContainers.eff_run_as_group",
        I,
        P::EffRunAsGroup,
    ),
    per("ka.req.pod.initContainers.proc_mount", I, P::ProcMount),
    per(
        "ka.req.pod.initContainers.add_capabilities",
        I,
        P::AddCapabilities,
    ),
    per("ka.req.pod.initContainers.host_port", I, P::HostPort),
    per("ka.req.pod.ephemeralContainers.name", E, P::Name),
    per("ka.req.pod.ephemeralContainers.image", E, P::Image),
    per(
        "ka.req.pod.ephemeralContainers.image.repository",
        E,
        P::ImageRepository,
    ),
    per("ka.req.pod.ephemeralContainers.command", E, P::Command),
    per("ka.req.pod.ephemeralContainers.args", E, P::Args),
    per(
        "ka.req.pod.ephemeralContainers.privileged",
        E,
        P::Privileged,
    ),
    per(
        "ka.req.pod.ephemeralContainers.allow_privilege_escalation",
        E,
        P::AllowPrivilegeEscalation,
    ),
    per(
        "ka.req.pod.ephemeralContainers.read_only_fs",
        E,
        P::ReadOnlyFs,
    ),
    per(
        "ka.req.pod.ephemeralContainers.run_as_user",
        E,
        P::RunAsUser,
    ),
    per(
        "ka.req.pod.ephemeralContainers.eff_run_as_user",
        E,
        P::EffRunAsUser,
    ),
    per(
        "ka.req.pod.ephemeralContainers.run_as_group",
        E,
        P::RunAsGroup,
    ),
    per(
        "ka.req.pod.ephemeralContainers.eff_run_as_group",
        E,
        P::EffRunAsGroup,
    ),
    per("ka.req.pod.ephemeralContainers.proc_mount", E, P::ProcMount),
    per(
        "ka.req.pod.ephemeralContainers.add_capabilities",
        E,
        P::AddCapabilities,
    ),
    keyed("json.value", Kind::JsonValue),
    def("json.obj", Kind::JsonObj),
    def("json.rawtime", Kind::JsonRawtime),
    keyed("jevt.value", Kind::JsonValue),
    def("jevt.obj", Kind::JsonObj),
    def("jevt.rawtime", Kind::JsonRawtime),
];

/// The definition of a field by its exact name.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
}

/// The longest field name that `text` starts with, as Falco reads `%field` in outputs.
pub fn longest_prefix(text: &str) -> Option<&'static FieldDef> {
    FIELDS
        .iter()
        .filter(|f| {
            text.starts_with(f.name)
                && !text[f.name.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .max_by_key(|f| f.name.len())
}

/// A field with its argument, ready to extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub def: &'static FieldDef,
    pub arg: Arg,
}

/// A parsed field argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    None,
    Index(usize),
    Key(String),
}

impl Field {
    /// Resolves `name` with its optional bracket argument; the error says what is wrong.
    pub fn new(name: &str, arg: Option<&str>) -> Result<Field, String> {
        let def = lookup(name).ok_or_else(|| format!("unknown field '{name}'"))?;
        let arg = match (def.arg, arg) {
            (ArgKind::None, None) | (ArgKind::Index, None) => Arg::None,
            (ArgKind::None, Some(_)) => {
                return Err(format!("field '{name}' does not take an argument"))
            }
            (ArgKind::Index, Some(a)) => Arg::Index(
                a.trim()
                    .parse()
                    .map_err(|_| format!("field '{name}' takes a numeric index, not '{a}'"))?,
            ),
            (ArgKind::Key, Some(a)) => Arg::Key(a.to_owned()),
            (ArgKind::Key, None) => {
                return Err(format!("field '{name}' requires an argument in brackets"))
            }
        };
        Ok(Field { def, arg })
    }

    /// The field as written in a rule (`name[arg]`).
    pub fn display(&self) -> String {
        match &self.arg {
            Arg::None => self.def.name.to_owned(),
            Arg::Index(i) => format!("{}[{i}]", self.def.name),
            Arg::Key(k) => format!("{}[{k}]", self.def.name),
        }
    }

    fn index(&self) -> Option<usize> {
        match self.arg {
            Arg::Index(i) => Some(i),
            _ => None,
        }
    }
}

/// Extracted values: one string, or the values of a list field (one string without an
/// allocation: this is every field every rule reads).
pub type Values<'a> = SmallVec<[Cow<'a, str>; 1]>;

/// The plugin's `jsonValueAsString`: strings as they are, anything else as compact JSON.
pub fn as_string(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        other => Cow::Owned(other.to_string()),
    }
}

/// fastjson's `Get`: an object member, or an array element by decimal index.
fn get_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

/// The plugin's `getValuesRecursive`: walks `keys`, fanning out over every array met before a
/// key (or picking element `index` of it). `None` is "not available"; missing leaves under a
/// fanned-out array are `None` entries.
fn values_recursive<'a>(
    mut v: &'a Value,
    index: Option<usize>,
    keys: &[&str],
) -> Option<Vec<Option<&'a Value>>> {
    for (i, k) in keys.iter().enumerate() {
        if let Value::Array(items) = v {
            match index {
                None => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        match values_recursive(item, index, &keys[i..]) {
                            Some(vals) => out.extend(vals),
                            None => out.push(None),
                        }
                    }
                    return Some(out);
                }
                Some(n) => v = items.get(n)?,
            }
        }
        if !k.is_empty() {
            v = get_key(v, k)?;
        }
    }
    Some(vec![Some(v)])
}

fn strings_skip_nil<'a>(vals: Vec<Option<&'a Value>>) -> Values<'a> {
    vals.into_iter().flatten().map(as_string).collect()
}

fn strings_strict<'a>(vals: Vec<Option<&'a Value>>) -> Option<Values<'a>> {
    vals.into_iter().map(|v| v.map(as_string)).collect()
}

fn repository(image: &str) -> &str {
    let base = image.split(':').next().unwrap_or(image);
    base.split('@').next().unwrap_or(base)
}

fn non_empty(v: Values<'_>) -> Option<Values<'_>> {
    (!v.is_empty()).then_some(v)
}

fn one(v: Cow<'_, str>) -> Option<Values<'_>> {
    Some(smallvec![v])
}

/// The values at a path of the event, as [`values_recursive`] walks it from the event's root
/// (an object, so its first key is a top-level member).
fn event_values<'a>(
    event: &'a Event,
    index: Option<usize>,
    keys: &[&str],
) -> Option<Vec<Option<&'a Value>>> {
    // Through objects without decoding them; the walk over arrays on the decoded rest.
    let (v, used) = event.walk(keys)?;
    values_recursive(v, index, &keys[used..])
}

/// Extracts `field` from `event`: `None` when the field is not available.
pub fn extract<'a>(field: &Field, event: &'a Event) -> Option<Values<'a>> {
    // The plugin ignores JSON that is not an audit event.
    if !matches!(
        field.def.kind,
        Kind::JsonValue | Kind::JsonObj | Kind::JsonRawtime
    ) && !event.has("auditID")
    {
        return None;
    }
    match field.def.kind {
        Kind::Path(keys) => one(event.string_path(keys)?),
        Kind::PathList(keys) => match event.at(keys)? {
            Value::Array(items) => non_empty(items.iter().map(as_string).collect()),
            _ => None,
        },
        Kind::UriParam => {
            let uri = event.string("requestURI")?;
            let Arg::Key(key) = &field.arg else {
                return None;
            };
            let query = uri.split_once('?').map(|(_, q)| q)?;
            let query = query.split('#').next().unwrap_or(query);
            query
                .split(['&', ';'])
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k)? == *key).then(|| percent_decode(v))?
                })
                .next()
                .map(|v| smallvec![Cow::Owned(v)])
        }
        Kind::TargetPodName => {
            let resource = event.str_path(&["objectRef", "resource"]);
            let sub = event.str_path(&["objectRef", "subresource"]);
            if resource == Some("pods") && sub.unwrap_or("").is_empty() {
                one(as_string(event.at(&[
                    "responseObject",
                    "metadata",
                    "name",
                ])?))
            } else {
                None
            }
        }
        Kind::SubjectNames(kind) => {
            let subjects = event.at(&["requestObject", "subjects"])?.as_array()?;
            let (kind, namespaced) = match kind {
                "NamespacedServiceAccount" => ("ServiceAccount", true),
                k => (k, false),
            };
            let mut out = Values::new();
            for s in subjects {
                let (Some(k), Some(n)) = (get_key(s, "kind"), get_key(s, "name")) else {
                    continue;
                };
                if as_string(k) != kind {
                    continue;
                }
                if namespaced {
                    let Some(ns) = get_key(s, "namespace") else {
                        continue;
                    };
                    out.push(Cow::Owned(format!("{}:{}", as_string(ns), as_string(n))));
                } else {
                    out.push(as_string(n));
                }
            }
            non_empty(out)
        }
        Kind::SubjectHasName => one(Cow::Borrowed("true")),
        Kind::ContainerImage => {
            let images = container_values(event, Containers::Containers, Some(0), &["image"])?;
            strings_strict(images)?
                .into_iter()
                .next()
                .map(|v| smallvec![v])
        }
        Kind::ContainerImageRepository => {
            let images = container_values(event, Containers::Containers, Some(0), &["image"])?;
            let first = strings_strict(images)?.into_iter().next()?;
            one(repo_of(first))
        }
        Kind::ContainerPrivileged => {
            let vals = container_values(
                event,
                Containers::Containers,
                None,
                &["securityContext", "privileged"],
            )?;
            let any = vals.iter().flatten().any(|v| v.as_bool() == Some(true));
            one(Cow::Borrowed(if any { "true" } else { "false" }))
        }
        Kind::Container(list, f) => container_field(event, list, f, field.index()),
        Kind::RulesField(key) => {
            let vals = event_values(event, field.index(), &["requestObject", "rules", key])?;
            let mut out = Values::new();
            for v in vals.into_iter().flatten() {
                if let Value::Array(items) = v {
                    out.extend(items.iter().map(as_string));
                }
            }
            non_empty(out)
        }
        Kind::ServicePorts => non_empty(strings_skip_nil(event_values(
            event,
            field.index(),
            &["requestObject", "spec", "ports"],
        )?)),
        Kind::VolumeHostpathPrefix => {
            let vals = event_values(
                event,
                None,
                &["requestObject", "spec", "volumes", "hostPath", "path"],
            )?;
            let Arg::Key(arg) = &field.arg else {
                return None;
            };
            let prefix = arg.strip_suffix('*');
            let hit = strings_skip_nil(vals).iter().any(|v| match prefix {
                Some(p) => v.starts_with(p),
                None => v == arg,
            });
            one(Cow::Borrowed(if hit { "true" } else { "false" }))
        }
        Kind::VolumesHostpath => non_empty(strings_skip_nil(event_values(
            event,
            field.index(),
            &["requestObject", "spec", "volumes", "hostPath", "path"],
        )?)),
        Kind::VolumesFlexDriver => non_empty(strings_skip_nil(event_values(
            event,
            field.index(),
            &["requestObject", "spec", "volumes", "flexVolume", "driver"],
        )?)),
        Kind::VolumesType => {
            let vals = event_values(
                event,
                field.index(),
                &["requestObject", "spec", "volumes", ""],
            )?;
            let mut out = Values::new();
            for v in vals.into_iter().flatten() {
                if let Value::Object(map) = v {
                    out.extend(
                        map.keys()
                            .filter(|k| k.as_str() != "name")
                            .map(|k| Cow::Borrowed(k.as_str())),
                    );
                }
            }
            non_empty(out)
        }
        Kind::SourceIps => {
            // The documented meaning (the client's addresses, `sourceIPs`); see the crate docs.
            let vals = event_values(event, field.index(), &["sourceIPs"])?;
            let mut out = Values::new();
            for v in vals.into_iter().flatten() {
                match v {
                    Value::Array(items) => out.extend(items.iter().map(as_string)),
                    other => out.push(as_string(other)),
                }
            }
            non_empty(out)
        }
        Kind::JsonValue => {
            let Arg::Key(arg) = &field.arg else {
                return None;
            };
            if arg.is_empty() {
                return one(Cow::Owned(event.to_value().to_string()));
            }
            let path = arg.strip_prefix('/').unwrap_or(arg);
            let tokens = path.split('/').map(|t| {
                if t.contains('~') {
                    Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
                } else {
                    Cow::Borrowed(t)
                }
            });
            // Read straight from the event where it can be (`jevt.value[/stage]` runs on every
            // event through Falco's `kevt` macro).
            let tokens: Vec<Cow<'_, str>> = tokens.collect();
            let keys: Vec<&str> = tokens.iter().map(|t| t.as_ref()).collect();
            one(event.string_path(&keys)?)
        }
        Kind::JsonObj => one(Cow::Owned(
            serde_json::to_string_pretty(&event.to_value()).unwrap_or_default(),
        )),
        Kind::JsonRawtime => one(Cow::Owned(event.time_ns.to_string())),
    }
}

fn repo_of(image: Cow<'_, str>) -> Cow<'_, str> {
    match image {
        Cow::Borrowed(s) => Cow::Borrowed(repository(s)),
        Cow::Owned(s) => Cow::Owned(repository(&s).to_owned()),
    }
}

fn container_values<'a>(
    event: &'a Event,
    list: Containers,
    index: Option<usize>,
    sub: &[&str],
) -> Option<Vec<Option<&'a Value>>> {
    let mut keys = vec!["requestObject", "spec", list.key()];
    keys.extend_from_slice(sub);
    event_values(event, index, &keys)
}

fn joined_string_arrays<'a>(vals: Vec<Option<&'a Value>>) -> Option<Values<'a>> {
    let mut out = Values::new();
    for v in vals.into_iter().flatten() {
        let items = v.as_array()?;
        let words: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
        out.push(Cow::Owned(words?.join(" ")));
    }
    non_empty(out)
}

fn container_field<'a>(
    ev: &'a Event,
    list: Containers,
    f: PerContainer,
    index: Option<usize>,
) -> Option<Values<'a>> {
    let at = |sub: &[&str]| container_values(ev, list, index, sub);
    match f {
        PerContainer::Args => joined_string_arrays(at(&["args"])?),
        PerContainer::Command => joined_string_arrays(at(&["command"])?),
        PerContainer::Name => non_empty(strings_strict(at(&["name"])?)?),
        PerContainer::Image => non_empty(strings_strict(at(&["image"])?)?),
        PerContainer::ImageRepository => non_empty(
            strings_strict(at(&["image"])?)?
                .into_iter()
                .map(repo_of)
                .collect(),
        ),
        PerContainer::HostPort => {
            let mut out = Values::new();
            for ports in at(&["ports"])?.into_iter().flatten() {
                for port in ports.as_array()? {
                    if let Some(p) =
                        get_key(port, "hostPort").or_else(|| get_key(port, "containerPort"))
                    {
                        out.push(as_string(p));
                    }
                }
            }
            non_empty(out)
        }
        PerContainer::Privileged => {
            non_empty(strings_skip_nil(at(&["securityContext", "privileged"])?))
        }
        PerContainer::AllowPrivilegeEscalation => non_empty(strings_skip_nil(at(&[
            "securityContext",
            "allowPrivilegeEscalation",
        ])?)),
        PerContainer::ReadOnlyFs => non_empty(strings_skip_nil(at(&[
            "securityContext",
            "readOnlyRootFilesystem",
        ])?)),
        PerContainer::RunAsUser => {
            non_empty(strings_skip_nil(at(&["securityContext", "runAsUser"])?))
        }
        PerContainer::RunAsGroup => {
            non_empty(strings_skip_nil(at(&["securityContext", "runAsGroup"])?))
        }
        PerContainer::EffRunAsUser => effective(ev, list, index, "runAsUser"),
        PerContainer::EffRunAsGroup => effective(ev, list, index, "runAsGroup"),
        PerContainer::ProcMount => {
            non_empty(strings_skip_nil(at(&["securityContext", "procMount"])?))
        }
        PerContainer::AddCapabilities => non_empty(strings_skip_nil(at(&[
            "securityContext",
            "capabilities",
            "add",
        ])?)),
    }
}

/// The uid or gid each container starts with: its own security context, else the pod's, else 0.
fn effective<'a>(
    ev: &'a Event,
    list: Containers,
    index: Option<usize>,
    key: &str,
) -> Option<Values<'a>> {
    let pod = ev
        .at(&["requestObject", "spec", "securityContext", key])
        .map(as_string)
        .unwrap_or(Cow::Borrowed("0"));
    let vals = container_values(ev, list, index, &["securityContext", key])?;
    non_empty(
        vals.into_iter()
            .map(|v| v.map(as_string).unwrap_or_else(|| pod.clone()))
            .collect(),
    )
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(v: Value) -> Event {
        Event::for_test(v)
    }

    fn ex(name: &str, arg: Option<&str>, e: &Event) -> Option<Vec<String>> {
        let f = Field::new(name, arg).unwrap();
        extract(&f, e).map(|v| v.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn per_container_lists_and_indexes() {
        let e = ev(json!({"auditID": "a", "requestObject": {"spec": {
            "securityContext": {"runAsUser": 7},
            "containers": [
                {"name": "a", "image": "nginx:1.2", "securityContext": {"privileged": true}},
                {"name": "b", "image": "reg.io/x/y@sha256:00", "securityContext": {"runAsUser": 3},
                 "ports": [{"containerPort": 80}, {"hostPort": 8080, "containerPort": 81}]}
            ],
            "volumes": [{"name": "v", "hostPath": {"path": "/etc"}}, {"name": "w", "emptyDir": {}}]
        }}}));
        assert_eq!(
            ex("ka.req.pod.containers.image", None, &e).unwrap(),
            ["nginx:1.2", "reg.io/x/y@sha256:00"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.image.repository", Some("1"), &e).unwrap(),
            ["reg.io/x/y"]
        );
        assert_eq!(ex("ka.req.pod.containers.image", Some("2"), &e), None);
        assert_eq!(
            ex("ka.req.pod.containers.privileged", None, &e).unwrap(),
            ["true"]
        );
        assert_eq!(
            ex("ka.req.container.privileged", None, &e).unwrap(),
            ["true"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.eff_run_as_user", None, &e).unwrap(),
            ["7", "3"]
        );
        assert_eq!(
            ex("ka.req.pod.containers.host_port", None, &e).unwrap(),
            ["80", "8080"]
        );
        assert_eq!(ex("ka.req.pod.initContainers.image", None, &e), None);
        assert_eq!(
            ex("ka.req.pod.volumes.hostpath", None, &e).unwrap(),
            ["/etc"]
        );
        assert_eq!(
            ex("ka.req.pod.volumes.volume_type", None, &e).unwrap(),
            ["hostPath", "emptyDir"]
        );
        assert_eq!(
            ex("ka.req.volume.hostpath", Some("/et*"), &e).unwrap(),
            ["true"]
        );
        assert_eq!(
            ex("ka.req.volume.hostpath", Some("/et"), &e).unwrap(),
            ["false"]
        );
    }

    #[test]
    fn scalar_fields_uri_params_and_pointers() {
        let e = ev(json!({"auditID": "a", "stage": "ResponseComplete",
            "requestURI": "/api/v1/namespaces/d/pods/p/exec?command=ls&command=-l&container=c%20x",
            "responseStatus": {"code": 201},
            "annotations": {"authorization.k8s.io/decision": "allow"},
            "requestObject": {"subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"},
                                           {"kind": "User", "name": "u"}]}}));
        assert_eq!(ex("ka.response.code", None, &e).unwrap(), ["201"]);
        assert_eq!(ex("ka.uri.param", Some("command"), &e).unwrap(), ["ls"]);
        assert_eq!(ex("ka.uri.param", Some("container"), &e).unwrap(), ["c x"]);
        assert_eq!(ex("ka.uri.param", Some("nope"), &e), None);
        assert_eq!(
            ex(
                "jevt.value",
                Some("/annotations/authorization.k8s.io~1decision"),
                &e
            )
            .unwrap(),
            ["allow"]
        );
        assert_eq!(
            ex("jevt.value", Some("/responseStatus"), &e).unwrap(),
            [r#"{"code":201}"#]
        );
        assert_eq!(
            ex("ka.req.binding.subjects.serviceaccount_ns_names", None, &e).unwrap(),
            ["n:s"]
        );
        assert_eq!(
            ex("ka.req.binding.subjects.user_names", None, &e).unwrap(),
            ["u"]
        );
        assert_eq!(ex("ka.req.binding.subjects.group_names", None, &e), None);
        assert_eq!(ex("ka.target.name", None, &e), None);
        let not_audit = ev(json!({"kind": 0}));
        assert_eq!(ex("ka.verb", None, &not_audit), None);
    }

    #[test]
    fn field_arguments_are_checked() {
        assert!(Field::new("ka.nope", None).is_err());
        assert!(Field::new("ka.verb", Some("x")).is_err());
        assert!(Field::new("ka.req.pod.containers.image", Some("x")).is_err());
        assert!(Field::new("jevt.value", None).is_err());
        assert!(Field::new("ka.uri.param", Some("command")).is_ok());
    }
}
