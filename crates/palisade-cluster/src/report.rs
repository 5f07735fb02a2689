//! Findings as `wgpolicyk8s.io/v1alpha2` PolicyReports (one per namespace) and a
//! ClusterPolicyReport (cluster-scoped objects), the format Kyverno and trivy-operator write
//! and Policy Reporter displays, and their publication.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::rule::Finding;
use palisade_core::Redactor;
use serde_json::{json, Value};

use crate::connect::Connection;
use crate::lease::{code, request};

/// The name of every report palisade writes.
pub const REPORT_NAME: &str = "palisade";

fn result(f: &Finding, redactor: &Redactor, seconds: i64) -> Value {
    let mut resource = json!({
        "apiVersion": f.object.api_version,
        "kind": f.object.kind,
        "name": f.object.name,
    });
    if let Some(ns) = &f.object.namespace {
        resource["namespace"] = json!(ns);
    }
    if let Some(uid) = &f.object.uid {
        resource["uid"] = json!(uid);
    }
    json!({
        "source": "palisade",
        "policy": f.rule.id,
        "rule": f.rule.slug,
        "category": f.rule.category,
        "severity": f.severity.as_str(),
        "result": "fail",
        "scored": true,
        "message": redactor.redact(&f.message),
        "timestamp": {"seconds": seconds, "nanos": 0},
        "resources": [resource],
        "properties": {"pointer": f.pointer},
    })
}

/// The reports for `findings`: a PolicyReport for each namespace in `namespaces` or with a
/// finding (one without findings reports none), and the ClusterPolicyReport. Messages pass
/// through `redactor`.
pub fn policy_reports(
    findings: &[Finding],
    namespaces: &BTreeSet<String>,
    redactor: &Redactor,
) -> Vec<Value> {
    let mut by_namespace: BTreeMap<Option<&str>, Vec<&Finding>> = namespaces
        .iter()
        .map(|ns| (Some(ns.as_str()), Vec::new()))
        .collect();
    by_namespace.entry(None).or_default();
    for f in findings {
        by_namespace
            .entry(f.object.namespace.as_deref())
            .or_default()
            .push(f);
    }
    by_namespace
        .into_iter()
        .map(|(namespace, findings)| policy_report(namespace, findings, redactor))
        .collect()
}

/// The report of one namespace (`None`: the ClusterPolicyReport), holding `findings` (those of
/// its objects), messages passed through `redactor`.
pub fn policy_report<'f>(
    namespace: Option<&str>,
    findings: impl IntoIterator<Item = &'f Finding>,
    redactor: &Redactor,
) -> Value {
    let seconds = jiff::Timestamp::now().as_second();
    let results: Vec<Value> = findings
        .into_iter()
        .map(|f| result(f, redactor, seconds))
        .collect();
    let mut metadata = json!({
        "name": REPORT_NAME,
        "labels": {"app.kubernetes.io/managed-by": "palisade"},
    });
    let kind = match namespace {
        Some(ns) => {
            metadata["namespace"] = json!(ns);
            "PolicyReport"
        }
        None => "ClusterPolicyReport",
    };
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": kind,
        "metadata": metadata,
        "summary": {"pass": 0, "fail": results.len(), "warn": 0, "error": 0, "skip": 0},
        "results": results,
    })
}

/// The report without what changes on every evaluation (timestamps), to tell whether a new
/// report says anything new.
fn content(report: &Value) -> Value {
    let mut report = report.clone();
    if let Some(results) = report.get_mut("results").and_then(Value::as_array_mut) {
        for result in results {
            if let Some(map) = result.as_object_mut() {
                map.remove("timestamp");
            }
        }
    }
    report
}

/// Writes reports, each only when it says something new since it was last written.
#[derive(Default)]
pub struct Publisher {
    written: BTreeMap<(String, String), Value>,
    /// The resource version of each report as this publisher last wrote it: the next write
    /// replaces it at once, without reading it first (a `409` means someone else changed it).
    versions: BTreeMap<(String, String), String>,
}

impl Publisher {
    /// The namespaces that have a report, so that one whose findings are gone is emptied.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.written
            .keys()
            .filter(|(ns, _)| !ns.is_empty())
            .map(|(ns, _)| ns.clone())
            .collect()
    }

    /// Forgets what was written (a new leader writes everything again).
    pub fn reset(&mut self) {
        self.written.clear();
        self.versions.clear();
    }

    /// Creates or replaces each report that changed. Returns how many were written.
    pub async fn publish(
        &mut self,
        connection: &Connection,
        reports: Vec<Value>,
    ) -> Result<usize, String> {
        let mut written = 0;
        for report in reports {
            let namespace = report
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let kind = report["kind"].as_str().unwrap_or("").to_owned();
            let key = (namespace.clone(), kind.clone());
            let new = content(&report);
            if self.written.get(&key) == Some(&new) {
                continue;
            }
            let collection = if namespace.is_empty() {
                "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports".to_owned()
            } else {
                format!("/apis/wgpolicyk8s.io/v1alpha2/namespaces/{namespace}/policyreports")
            };
            let url = format!("{collection}/{REPORT_NAME}");
            let mut report = report;
            if let Some(version) = self.versions.get(&key) {
                report["metadata"]["resourceVersion"] = Value::String(version.clone());
                let replaced = connection
                    .client
                    .request::<Value>(request(http::Method::PUT, &url, Some(&report))?)
                    .await;
                match replaced {
                    Ok(stored) => {
                        self.remember(&key, &stored);
                        self.written.insert(key, new);
                        written += 1;
                        continue;
                    }
                    // Changed or deleted by someone else: read it again below.
                    Err(err) if matches!(code(&err), Some(404 | 409)) => {
                        self.versions.remove(&key);
                        if let Some(metadata) =
                            report.get_mut("metadata").and_then(Value::as_object_mut)
                        {
                            metadata.remove("resourceVersion");
                        }
                    }
                    Err(err) => {
                        return Err(format!("cannot write the {kind} of {namespace:?}: {err}"))
                    }
                }
            }
            let existing = connection
                .client
                .request::<Value>(request(http::Method::GET, &url, None)?)
                .await;
            let result = match existing {
                Ok(existing) => {
                    report["metadata"]["resourceVersion"] =
                        existing["metadata"]["resourceVersion"].clone();
                    connection
                        .client
                        .request::<Value>(request(http::Method::PUT, &url, Some(&report))?)
                        .await
                }
                Err(err) if code(&err) == Some(404) => {
                    connection
                        .client
                        .request::<Value>(request(http::Method::POST, &collection, Some(&report))?)
                        .await
                }
                Err(err) => Err(err),
            };
            let stored =
                result.map_err(|err| format!("cannot write the {kind} of {namespace:?}: {err}"))?;
            self.remember(&key, &stored);
            self.written.insert(key, new);
            written += 1;
        }
        Ok(written)
    }

    fn remember(&mut self, key: &(String, String), stored: &Value) {
        match stored
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            Some(version) => {
                self.versions.insert(key.clone(), version.to_owned());
            }
            None => {
                self.versions.remove(key);
            }
        }
    }
}
