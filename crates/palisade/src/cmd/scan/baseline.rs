//! The baseline of `palisade scan`: `--write-baseline FILE` records the findings of today,
//! `--baseline FILE` reports only the findings that are not in it.
//!
//! A finding is recorded by its fingerprint, a hash that does not depend on where the finding
//! is in its file: moving lines, reindenting, flow or block style, key order and comments leave
//! it as it is; changing the offending value makes a new finding. The fingerprint is FNV-1a 64
//! over these fields, each preceded by its length in bytes as 8 little-endian bytes:
//!
//! 1. the rule ID;
//! 2. the file, as printed;
//! 3. the object's API group (not its version), kind, namespace and name;
//! 4. the JSON pointer of the offending field;
//! 5. the digest of the value at that pointer: FNV-1a 64 of its canonical JSON (map keys
//!    sorted, no spaces), or of the byte `0` when the field does not exist. A mapping with a
//!    string `name` (a container, a volume, an environment variable) stands for its name: a
//!    finding about a container as a whole (its resources, say) stays the same finding when
//!    its image changes.
//!
//! The baseline file holds fingerprints and descriptive fields only (rule, file, object, line
//! when written), never a value: a credential is only ever part of a hash.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use palisade_core::rule::Finding;
use palisade_core::Redactor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version of the baseline file.
const VERSION: u32 = 1;
const TOOL: &str = "palisade";

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A field of a fingerprint: its length first, so that fields cannot run into each other.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }
}

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The digest of the value at a finding's pointer (`None`: the field does not exist).
pub fn value_digest(value: Option<&Value>) -> u64 {
    let mut hash = Fnv::new();
    match value {
        Some(Value::Object(map)) if map.get("name").is_some_and(Value::is_string) => {
            hash.bytes(b"name:");
            canonical(&map["name"], &mut hash);
        }
        Some(value) => canonical(value, &mut hash),
        None => hash.bytes(&[0]),
    }
    hash.0
}

/// Writes `value` as JSON with the keys of every map sorted (maps keep the order of the
/// manifest otherwise).
fn canonical(value: &Value, out: &mut Fnv) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.bytes(b"{");
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.bytes(b",");
                }
                write_scalar(&Value::String(key.clone()), out);
                out.bytes(b":");
                canonical(value, out);
            }
            out.bytes(b"}");
        }
        Value::Array(items) => {
            out.bytes(b"[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.bytes(b",");
                }
                canonical(item, out);
            }
            out.bytes(b"]");
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Fnv) {
    serde_json::to_writer(out, value).expect("hashing does not fail");
}

/// The fingerprint of a finding whose offending value has the digest `value`.
pub fn fingerprint(finding: &Finding, value: u64) -> u64 {
    let object = &finding.object;
    let group = object
        .api_version
        .rsplit_once('/')
        .map_or("", |(group, _)| group);
    let mut hash = Fnv::new();
    hash.field(finding.rule.id.as_bytes());
    hash.field(finding.file.as_bytes());
    hash.field(group.as_bytes());
    hash.field(object.kind.as_bytes());
    hash.field(object.namespace.as_deref().unwrap_or("").as_bytes());
    hash.field(object.name.as_bytes());
    hash.field(finding.pointer.as_bytes());
    hash.field(&value.to_le_bytes());
    hash.0
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    tool: String,
    findings: Vec<Entry>,
}

/// One finding of the baseline: its fingerprint, and what it was, for people reading the file.
#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    fingerprint: String,
    rule: String,
    file: String,
    object: String,
    line: u32,
}

/// The fingerprints of a baseline, with how many findings have each.
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<u64, usize>,
}

/// What applying a baseline hid and what it no longer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub hidden: usize,
    pub gone: usize,
}

impl Baseline {
    /// The baseline of these fingerprints.
    pub fn of(fingerprints: &[u64]) -> Baseline {
        let mut counts = HashMap::new();
        for &fingerprint in fingerprints {
            *counts.entry(fingerprint).or_insert(0) += 1;
        }
        Baseline { counts }
    }

    /// Reads a baseline file; any problem is an error that names the file.
    pub fn read(path: &str) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the baseline {path}"))?;
        let file: File = serde_json::from_str(&text)
            .with_context(|| format!("{path} is not a palisade baseline"))?;
        if file.tool != TOOL || file.version != VERSION {
            anyhow::bail!(
                "{path} is not a palisade baseline of version {VERSION} (tool {:?}, version {})",
                file.tool,
                file.version
            );
        }
        let mut counts = HashMap::new();
        for entry in &file.findings {
            let fingerprint = parse_fingerprint(&entry.fingerprint).with_context(|| {
                format!(
                    "{path} is not a palisade baseline: invalid fingerprint {:?}",
                    entry.fingerprint
                )
            })?;
            *counts.entry(fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    /// Keeps the findings that are not in the baseline. A fingerprint recorded `n` times hides
    /// at most `n` findings: a second copy of a problem is new.
    pub fn apply(
        mut self,
        findings: Vec<Finding>,
        fingerprints: &[u64],
    ) -> (Vec<Finding>, Applied) {
        debug_assert_eq!(findings.len(), fingerprints.len());
        let mut hidden = 0;
        let kept = findings
            .into_iter()
            .zip(fingerprints)
            .filter_map(
                |(finding, fingerprint)| match self.counts.get_mut(fingerprint) {
                    Some(count) if *count > 0 => {
                        *count -= 1;
                        hidden += 1;
                        None
                    }
                    _ => Some(finding),
                },
            )
            .collect();
        let gone = self.counts.values().sum();
        (kept, Applied { hidden, gone })
    }
}

fn parse_fingerprint(text: &str) -> Option<u64> {
    (text.len() == 16)
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
}

/// The baseline file of these findings, sorted by file, object, rule and fingerprint so that
/// it changes little from one run to the next. The descriptive fields go through the run's
/// masking of credentials.
pub fn render(findings: &[Finding], fingerprints: &[u64], redactor: &Redactor) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fingerprint)| Entry {
            fingerprint: format!("{fingerprint:016x}"),
            rule: f.rule.id.to_owned(),
            file: redactor.redact(&f.file).into_owned(),
            object: redactor.redact(&f.object.to_string()).into_owned(),
            line: f.pos.line,
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.file, &a.object, &a.rule, &a.fingerprint, a.line).cmp(&(
            &b.file,
            &b.object,
            &b.rule,
            &b.fingerprint,
            b.line,
        ))
    });
    let file = File {
        version: VERSION,
        tool: TOOL.to_owned(),
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a baseline serializes");
    text.push('\n');
    text
}

/// Writes `text` to `path` through a synced temporary file in the same directory, renamed
/// over it: the baseline is never left half-written.
pub fn write_atomically(path: &str, text: &str) -> anyhow::Result<()> {
    let target = Path::new(path);
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .with_context(|| format!("cannot write the baseline {path}: not a file name"))?
        .to_string_lossy();
    let temp = dir.join(format!(".{name}.{}.palisade-tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.with_context(|| format!("cannot write the baseline {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_does_not_change_the_digest() {
        let a: Value =
            serde_json::from_str(r#"{"a": 1, "b": {"x": [true, "s"], "y": null}}"#).expect("json");
        let b: Value =
            serde_json::from_str(r#"{"b": {"y": null, "x": [true, "s"]}, "a": 1}"#).expect("json");
        assert_eq!(value_digest(Some(&a)), value_digest(Some(&b)));
        let c: Value =
            serde_json::from_str(r#"{"b": {"y": null, "x": ["s", true]}, "a": 1}"#).expect("json");
        assert_ne!(value_digest(Some(&a)), value_digest(Some(&c)));
    }

    #[test]
    fn a_mapping_with_a_name_stands_for_its_name() {
        let latest: Value =
            serde_json::from_str(r#"{"name": "api", "image": "api:latest"}"#).expect("json");
        let edge: Value =
            serde_json::from_str(r#"{"name": "api", "image": "api:edge"}"#).expect("json");
        let other: Value =
            serde_json::from_str(r#"{"name": "web", "image": "api:edge"}"#).expect("json");
        assert_eq!(value_digest(Some(&latest)), value_digest(Some(&edge)));
        assert_ne!(value_digest(Some(&edge)), value_digest(Some(&other)));
    }

    #[test]
    fn a_missing_field_is_not_a_null_or_empty_value() {
        let missing = value_digest(None);
        assert_ne!(missing, value_digest(Some(&Value::Null)));
        assert_ne!(missing, value_digest(Some(&Value::String(String::new()))));
    }

    #[test]
    fn fnv_1a_64_matches_the_reference_values() {
        let mut hash = Fnv::new();
        assert_eq!(hash.0, 0xcbf2_9ce4_8422_2325);
        hash.bytes(b"a");
        assert_eq!(hash.0, 0xaf63_dc4c_8601_ec8c);
        let mut hash = Fnv::new();
        hash.bytes(b"foobar");
        assert_eq!(hash.0, 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_are_counted_and_parsed() {
        let baseline = Baseline::of(&[7, 7, 9]);
        assert_eq!(baseline.counts.get(&7), Some(&2));
        assert_eq!(parse_fingerprint("00000000000000ff"), Some(255));
        assert_eq!(parse_fingerprint("ff"), None);
        assert_eq!(parse_fingerprint("zz000000000000ff"), None);
    }
}
