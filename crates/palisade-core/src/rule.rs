//! Rule metadata and findings, shared by the rule registry, the reports and the webhook.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::object::ObjectRef;
use crate::patch::PatchOp;
use crate::pos::Pos;

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard or catalogue a reference points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// CIS Kubernetes Benchmark control, e.g. `5.2.2`.
    Cis,
    /// NSA/CISA Kubernetes Hardening Guide section.
    NsaCisa,
    /// MITRE ATT&CK technique (containers matrix), e.g. `T1611`.
    Mitre,
    /// Pod Security Standards control, e.g. `baseline/privileged`.
    Pss,
    /// A CVE.
    Cve,
    /// Kubernetes documentation page.
    Docs,
}

impl Framework {
    pub fn label(self) -> &'static str {
        match self {
            Framework::Cis => "CIS Kubernetes Benchmark",
            Framework::NsaCisa => "NSA/CISA Kubernetes Hardening Guide",
            Framework::Mitre => "MITRE ATT&CK",
            Framework::Pss => "Pod Security Standards",
            Framework::Cve => "CVE",
            Framework::Docs => "Kubernetes documentation",
        }
    }
}

/// A reference to an external control or document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub framework: Framework,
    /// The control id, technique id, section title or CVE id.
    pub id: &'static str,
    /// A URL, when the reference has a stable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'static str>,
}

impl Reference {
    pub const fn new(framework: Framework, id: &'static str) -> Self {
        Reference {
            framework,
            id,
            url: None,
        }
    }

    pub const fn url(framework: Framework, id: &'static str, url: &'static str) -> Self {
        Reference {
            framework,
            id,
            url: Some(url),
        }
    }
}

/// Everything that describes a rule. Declared once per rule; feeds `palisade rules`,
/// `palisade explain`, `docs/rules/` and SARIF rule metadata.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Stable identifier, e.g. `POD001`.
    pub id: &'static str,
    /// Stable kebab-case name, e.g. `privileged-container`.
    pub slug: &'static str,
    /// One line, imperative or descriptive, without a final period.
    pub title: &'static str,
    pub severity: Severity,
    /// Area, e.g. `workload`, `image`, `secrets`, `exposure`, `rbac`, `network`, `pss`.
    pub category: &'static str,
    /// Kinds the rule reads (`*` for every kind).
    pub kinds: &'static [&'static str],
    /// What the rule detects.
    pub summary: &'static str,
    /// Why it matters: the attack or failure it enables.
    pub rationale: &'static str,
    /// How to fix it, with an example where useful (Markdown).
    pub remediation: &'static str,
    pub references: &'static [Reference],
    /// Whether findings carry an automatic fix.
    pub fixable: bool,
    /// The file that declares the rule, relative to the repository root.
    pub source: &'static str,
}

/// Whether a fix can be applied without looking, as in ruff: a **safe** fix cannot change what
/// the workload can do at run time in a way that breaks it; an **unsafe** fix may (running as
/// non-root, a read-only root file system, removing host namespaces or privileges, limits).
/// `palisade fix` applies safe fixes; `--unsafe-fixes` applies the others too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

impl std::fmt::Display for Applicability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind a rule's fixes are, and why: what `palisade explain` and the rule pages say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FixSafety {
    /// The kind of every fix of the rule, or `None` when it depends on the object (the reason
    /// says on what).
    pub applicability: Option<Applicability>,
    /// Why, in a sentence or two (Markdown).
    pub reason: &'static str,
}

/// An automatic fix: JSON Patch operations on the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub description: String,
    pub patch: Vec<PatchOp>,
    /// Whether the fix is applied without `--unsafe-fixes`.
    pub applicability: Applicability,
}

/// A finding, located in its file.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    #[serde(skip)]
    pub rule: &'static RuleMeta,
    /// Effective severity (after configuration overrides).
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub pos: Pos,
    /// JSON Pointer of the offending field inside the object.
    pub pointer: String,
    /// The object: one reference shared by the findings of an object.
    pub object: Arc<ObjectRef>,
    /// Index of the YAML document in the file, and of the item in a `List`.
    pub document: usize,
    pub item: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Other rules that found the same problem at the same field (a Pod Security check and the
    /// hardening rule that judges the same control), reported as this one finding.
    #[serde(skip)]
    pub related: Vec<&'static RuleMeta>,
    /// The credentials the finding is about, as the rule read them (decoded and as written).
    /// Never serialized: reports mask them with a [`crate::Redactor`].
    #[serde(skip)]
    pub secrets: Vec<String>,
    /// For a policy-as-code finding (one rule for all of them): the policy that found it,
    /// `Kind/name` of a Gatekeeper constraint or `ValidatingAdmissionPolicyBinding/name`.
    /// Reports show it as the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Finding {
    /// The order reports use: file, line, column, rule.
    pub fn sort_key(&self) -> (&str, Pos, &str, &str) {
        (&self.file, self.pos, self.rule.id, &self.message)
    }
}
