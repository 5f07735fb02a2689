//! Helpers shared by the rules.

use palisade_core::patch::{set_ops, PatchOp};
use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, Fix};
use palisade_core::views::{pod_spec, ContainerView, PodSpecView};
use palisade_core::Object;
use serde_json::Value;

/// The pod spec of a workload object, if it has one.
pub fn pod(object: &Object) -> Option<PodSpecView<'_>> {
    pod_spec(&object.value)
}

/// A fix that sets one field of the object.
pub fn set_fix(
    object: &Object,
    pointer: &str,
    value: Value,
    description: String,
    applicability: Applicability,
) -> Option<Fix> {
    let patch = set_ops(&object.value, pointer, value);
    (!patch.is_empty()).then_some(Fix {
        description,
        patch,
        applicability,
    })
}

/// A fix that sets several fields of the object (each operation computed on the object as
/// the ones before it left it, so that they apply in order) and then removes fields.
pub fn set_fields_fix(
    object: &Object,
    fields: Vec<(String, Value)>,
    removals: Vec<String>,
    description: String,
    applicability: Applicability,
) -> Option<Fix> {
    // The operations are computed on a copy of the deepest collection that holds every field
    // (most fixes set fields of one container), not of the whole object: they all apply inside
    // it, and their paths are the same once `base` is put back in front.
    let (base, holder) = fields_base(&object.value, &fields);
    let mut scratch = holder.clone();
    let mut patch = Vec::new();
    for (pointer, value) in fields {
        let ops = set_ops(&scratch, &pointer[base.len()..], value);
        palisade_core::patch::apply(&mut scratch, &ops).ok()?;
        patch.extend(ops.into_iter().map(|op| rebased(&base, op)));
    }
    patch.extend(removals.into_iter().map(|path| PatchOp::Remove { path }));
    (!patch.is_empty()).then_some(Fix {
        description,
        patch,
        applicability,
    })
}

/// The deepest existing collection of `document` above every field of `fields` (whose pointer
/// is a prefix of theirs, written without escapes or non-canonical indexes), with its pointer.
fn fields_base<'d>(document: &'d Value, fields: &[(String, Value)]) -> (String, &'d Value) {
    fn parent(pointer: &str) -> &str {
        pointer.rfind('/').map_or("", |i| &pointer[..i])
    }
    let mut common: Option<Vec<&str>> = None;
    for (pointer, _) in fields {
        if !pointer.starts_with('/') {
            return (String::new(), document);
        }
        let tokens = parent(pointer).split('/').skip(1);
        common = Some(match common {
            None => tokens.collect(),
            Some(mut common) => {
                let same = common
                    .iter()
                    .zip(tokens)
                    .take_while(|(a, b)| *a == b)
                    .count();
                common.truncate(same);
                common
            }
        });
    }
    let mut base = String::new();
    let mut node = document;
    for token in common.unwrap_or_default() {
        let child = match node {
            Value::Object(map) if !token.contains('~') => map.get(token),
            Value::Array(items) if is_canonical_index(token) => {
                token.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match child {
            Some(child) if child.is_object() || child.is_array() => {
                base.push('/');
                base.push_str(token);
                node = child;
            }
            _ => break,
        }
    }
    (base, node)
}

/// Digits without a leading zero: read the same way by every pointer lookup.
fn is_canonical_index(token: &str) -> bool {
    !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token.len() == 1 || !token.starts_with('0'))
}

/// An operation computed inside the collection at `base`, with its path in the whole object.
fn rebased(base: &str, op: PatchOp) -> PatchOp {
    if base.is_empty() {
        return op;
    }
    let full = |path: String| format!("{base}{path}");
    match op {
        PatchOp::Add { path, value } => PatchOp::Add {
            path: full(path),
            value,
        },
        PatchOp::Replace { path, value } => PatchOp::Replace {
            path: full(path),
            value,
        },
        PatchOp::Remove { path } => PatchOp::Remove { path: full(path) },
    }
}

/// A fix that appends `value` to the list at `pointer`, creating the list when it is missing.
pub fn append_fix(
    object: &Object,
    pointer: &str,
    value: Value,
    description: String,
    applicability: Applicability,
) -> Option<Fix> {
    let patch = match object.value.at(pointer) {
        Some(Value::Array(_)) => vec![PatchOp::Add {
            path: format!("{pointer}/-"),
            value,
        }],
        _ => set_ops(&object.value, pointer, Value::Array(vec![value])),
    };
    (!patch.is_empty()).then_some(Fix {
        description,
        patch,
        applicability,
    })
}

/// `container "name"` (or `init container "name"`) for messages.
pub fn describe(container: &ContainerView<'_>) -> String {
    let kind = match container.kind {
        palisade_core::views::ContainerKind::Init => "init container",
        palisade_core::views::ContainerKind::Regular => "container",
        palisade_core::views::ContainerKind::Ephemeral => "ephemeral container",
    };
    format!("{kind} \"{}\"", container.name())
}

/// Whether the pod runs on Windows nodes (`spec.os.name`, or the OS node selector older
/// manifests use), where the Linux-only security fields do not apply.
pub fn is_windows(spec: &PodSpecView<'_>) -> bool {
    let os = spec.spec.at("/os/name").and_then(Value::as_str);
    let selector = ["kubernetes.io/os", "beta.kubernetes.io/os"]
        .iter()
        .find_map(|k| spec.spec.get("nodeSelector")?.get(*k)?.as_str());
    os.or(selector)
        .is_some_and(|os| os.eq_ignore_ascii_case("windows"))
}

/// A security-context field as it applies to a container: the container's own value, else the
/// pod's. Returns the value and its pointer.
pub fn effective<'a>(
    spec: &PodSpecView<'a>,
    container: &ContainerView<'a>,
    field: &str,
) -> Option<(&'a Value, String)> {
    let own = container
        .container
        .get("securityContext")
        .and_then(|sc| sc.get(field))
        .filter(|v| !v.is_null());
    if let Some(value) = own {
        return Some((value, container.field(&format!("securityContext/{field}"))));
    }
    spec.spec
        .get("securityContext")
        .and_then(|sc| sc.get(field))
        .filter(|v| !v.is_null())
        .map(|value| (value, spec.field(&format!("securityContext/{field}"))))
}

/// Whether the object sits in one of the configured system namespaces (`kube-system`…), where
/// the cluster's own node agents (CNI plugins, kube-proxy, CSI drivers) legitimately use the
/// host's network and file system.
pub fn in_system_namespace(object: &Object, settings: &crate::Settings) -> bool {
    object
        .namespace()
        .is_some_and(|ns| settings.system_namespaces.iter().any(|s| s == ns))
}

/// A capability name without the `CAP_` prefix, upper-cased.
pub fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map(str::to_owned)
        .unwrap_or(upper)
}

/// A capability a container adds: the container, the pointer of its `capabilities.add` entry and
/// its name as the runtime reads it ([`capability`]).
pub struct AddedCapability<'o> {
    pub container: ContainerView<'o>,
    pub pointer: String,
    pub name: String,
}

/// Every capability that the containers of a workload object add, in order.
pub fn added_capabilities(object: &Object) -> Vec<AddedCapability<'_>> {
    let Some(spec) = pod(object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for container in spec.containers() {
        let pointer = container.field("securityContext/capabilities/add");
        let Some(Value::Array(items)) = object.value.at(&pointer) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            if let Some(name) = item.as_str() {
                out.push(AddedCapability {
                    container: container.clone(),
                    pointer: format!("{pointer}/{index}"),
                    name: capability(name),
                });
            }
        }
    }
    out
}

/// Whether a literal value is a placeholder rather than a real secret: empty, a variable
/// reference, a template, an obvious example word, or a run of one repeated character.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 4 {
        return true;
    }
    if v.contains("${") || v.contains("$(") || v.contains("{{") || v.starts_with('$') {
        return true;
    }
    if (v.starts_with('<') && v.ends_with('>')) || (v.starts_with('[') && v.ends_with(']')) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "changeit",
        "replace",
        "example",
        "placeholder",
        "dummy",
        "redacted",
        "your-",
        "your_",
        "yourpassword",
        "insert",
        "todo",
        "fixme",
        "notsecret",
        "not-a-secret",
        "not-secret",
        "fake",
        "xxxx",
        "****",
        "secret-value",
        "test123",
        "password",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    // A constant-like name (`GOOGLE_API_KEY_VAL`) that a script replaces.
    if v.contains('_')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return true;
    }
    let first = v.chars().next().unwrap_or(' ');
    v.chars().all(|c| c == first) || has_ascending_run(&lower, 4)
}

/// Whether the text holds `len` consecutive ascending characters (`1234`, `abcd`), the mark of
/// a made-up value.
fn has_ascending_run(text: &str, len: usize) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(len)
        .any(|w| w.iter().all(u8::is_ascii_alphanumeric) && w.windows(2).all(|p| p[1] == p[0] + 1))
}

/// Whether the object comes from a test-data folder (`test/`, `tests/`, `testdata/`,
/// `fixtures/`), whose keys and passwords are throwaway values made for tests.
pub fn is_test_data(object: &Object) -> bool {
    object.source.path.split(['/', '\\']).any(|part| {
        matches!(
            part,
            "test" | "tests" | "testdata" | "fixtures" | "__fixtures__"
        )
    })
}

/// Decodes standard base64 (with or without padding); `None` if the text is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    let mut padding = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (padding <= 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode("<base64-encoded>").is_none());
        assert!(base64_decode("aGV=sbG8").is_none());
    }

    #[test]
    fn recognises_placeholders() {
        for p in [
            "",
            "changeme",
            "${DB_PASSWORD}",
            "<password>",
            "xxxxxxxx",
            "{{ .pw }}",
            "GOOGLE_API_KEY_VAL",
            "8312341g-5678-abcd-4a2b2c",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in ["s3cr3t-Hx9!q", "AKIA2E0A8F3B244C9986"] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn normalises_capabilities() {
        assert_eq!(capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(capability("NET_RAW"), "NET_RAW");
    }

    /// [`set_fields_fix`] as it was: the operations computed on a copy of the whole object.
    fn set_fields_on_whole(object: &Object, fields: Vec<(String, Value)>) -> Option<Vec<PatchOp>> {
        let mut scratch = object.value.clone();
        let mut patch = Vec::new();
        for (pointer, value) in fields {
            let ops = set_ops(&scratch, &pointer, value);
            palisade_core::patch::apply(&mut scratch, &ops).ok()?;
            patch.extend(ops);
        }
        (!patch.is_empty()).then_some(patch)
    }

    #[test]
    fn fields_set_inside_their_common_collection_give_the_whole_objects_operations() {
        let text = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {a~b: x, c/d: y}}
spec:
  replicas: 1
  template:
    spec:
      securityContext: null
      containers:
        - name: a
          resources: {limits: {cpu: 1}}
        - name: b
          securityContext: {runAsNonRoot: false}
          ports: [{containerPort: 80}]
";
        let object = palisade_core::load_str(text, "t.yaml", &Default::default())
            .objects
            .remove(0);
        let c = |rest: &str| format!("/spec/template/spec/containers{rest}");
        let cases: Vec<Vec<String>> = vec![
            vec![],
            vec!["/spec/replicas".into()],
            vec!["/spec/template/spec/securityContext/runAsNonRoot".into()],
            vec![
                c("/0/resources/limits/memory"),
                c("/0/resources/requests/cpu"),
                c("/0/resources/requests/memory"),
            ],
            vec![
                c("/1/securityContext/runAsNonRoot"),
                c("/1/securityContext/runAsUser"),
            ],
            vec![c("/1/ports/0/hostPort")],
            vec![c("/01/name"), c("/1/name")],
            vec![c("/2/name")],
            vec![c("/0/name"), c("/1/name")],
            vec![
                "/metadata/annotations/a~0b".into(),
                "/metadata/annotations/c~1d".into(),
            ],
            vec![
                "/metadata/annotations/new".into(),
                "/metadata/labels/new".into(),
            ],
            vec!["/spec/replicas/x/y".into()],
            vec!["/nothing/here".into(), "/spec/template/spec/nothing".into()],
            vec![String::new(), "/spec/replicas".into()],
            vec!["relative".into()],
        ];
        for fields in cases {
            let values: Vec<(String, Value)> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.clone(), Value::from(i)))
                .collect();
            let fix = set_fields_fix(
                &object,
                values.clone(),
                Vec::new(),
                String::new(),
                Applicability::Safe,
            );
            assert_eq!(
                fix.map(|f| f.patch),
                set_fields_on_whole(&object, values),
                "{fields:?}"
            );
        }
    }
}
