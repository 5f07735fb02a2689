//! gator `Suite` files (`test.gatekeeper.sh/v1alpha1`): every test loads a template and a
//! constraint, and every case reviews an object (with optional inventory) and checks its
//! assertions, as `gator verify` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_core::{load_path, Limits, Object};
use regex::Regex;
use serde_json::Value;

use crate::{EngineChoice, Inventory, PolicySet, Review};

/// How many violations an assertion expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `violations: yes` (or no `violations`): at least one.
    Some,
    /// `violations: no`.
    None,
    /// `violations: N`.
    Exactly(usize),
}

/// One assertion: the count of violations whose message matches `message` (all when absent).
#[derive(Debug, Clone)]
pub struct Assertion {
    pub violations: Expect,
    pub message: Option<Regex>,
}

impl Assertion {
    pub fn parse(value: &Value) -> Result<Assertion, String> {
        let violations = match value.get("violations") {
            None | Some(Value::Null) | Some(Value::Bool(true)) => Expect::Some,
            Some(Value::Bool(false)) => Expect::None,
            Some(Value::String(s)) if s == "yes" => Expect::Some,
            Some(Value::String(s)) if s == "no" => Expect::None,
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                Expect::Exactly(n.as_u64().unwrap_or(0) as usize)
            }
            Some(Value::String(s)) if s.parse::<usize>().is_ok() => {
                Expect::Exactly(s.parse().unwrap_or(0))
            }
            Some(other) => return Err(format!("violations: {other} is not yes, no or a count")),
        };
        let message = match value.get("message") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(Regex::new(s).map_err(|e| format!("message {s:?}: {e}"))?)
            }
            Some(other) => return Err(format!("message: {other} is not a string")),
        };
        Ok(Assertion {
            violations,
            message,
        })
    }

    /// Checks the assertion against the messages of the violations found.
    pub fn check(&self, messages: &[String]) -> Result<(), String> {
        let count = messages
            .iter()
            .filter(|m| self.message.as_ref().is_none_or(|r| r.is_match(m)))
            .count();
        let ok = match self.violations {
            Expect::Some => count > 0,
            Expect::None => count == 0,
            Expect::Exactly(n) => count == n,
        };
        if ok {
            return Ok(());
        }
        let want = match self.violations {
            Expect::Some => "at least 1".to_owned(),
            Expect::None => "0".to_owned(),
            Expect::Exactly(n) => n.to_string(),
        };
        let filter = self
            .message
            .as_ref()
            .map(|r| format!(" matching {:?}", r.as_str()))
            .unwrap_or_default();
        Err(format!(
            "expected {want} violation(s){filter}, got {count}: {messages:?}"
        ))
    }
}

/// Objects of a file, or why it cannot be read.
pub fn load_objects(path: &Path) -> Result<Vec<Object>, String> {
    let display = path.display().to_string();
    let loaded = load_path(path, &display, &Limits::default());
    if let Some(e) = loaded.errors.first() {
        return Err(e.to_string());
    }
    Ok(loaded.objects)
}

/// The policies of one test: its template and constraint files.
pub fn load_policies(template: &Path, constraint: &Path) -> Result<PolicySet, String> {
    load_policies_with(template, constraint, EngineChoice::Auto)
}

/// [`load_policies`] with a choice of engine.
pub fn load_policies_with(
    template: &Path,
    constraint: &Path,
    engine: EngineChoice,
) -> Result<PolicySet, String> {
    let mut objects = load_objects(template)?;
    objects.extend(load_objects(constraint)?);
    let (mut set, errors) = PolicySet::load(&objects);
    set.set_engine(engine);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    if set.is_empty() {
        return Err(format!("{}: no constraint", constraint.display()));
    }
    Ok(set)
}

/// Runs one case on loaded policies: reviews the object of `object` with the objects of
/// `inventory` as cluster state, and checks every assertion.
pub fn run_case(
    set: &mut PolicySet,
    object: &Path,
    inventory: &[PathBuf],
    assertions: &[Assertion],
) -> Result<(), String> {
    review_case(set, object, inventory, assertions, &mut BTreeMap::new())
}

/// [`run_case`], keeping the audit annotations of the ValidatingAdmissionPolicies that
/// reviewed the object in `annotations` (left empty when the review cannot run).
fn review_case(
    set: &mut PolicySet,
    object: &Path,
    inventory: &[PathBuf],
    assertions: &[Assertion],
    annotations: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let objects = load_objects(object)?;
    let [reviewed] = objects.as_slice() else {
        return Err(format!(
            "{}: holds {} objects, not one",
            object.display(),
            objects.len()
        ));
    };
    let mut inv = Inventory::new();
    for path in inventory {
        for o in load_objects(path)? {
            inv.add(&o.value);
        }
    }
    if let Some(e) = set.set_inventory(inv).first() {
        return Err(e.to_string());
    }
    let review = Review::from_any(&reviewed.value)?;
    let outcome = set.review(&review);
    *annotations = outcome.audit_annotations;
    if let Some(e) = outcome.errors.first() {
        return Err(e.to_string());
    }
    let messages: Vec<String> = outcome.violations.into_iter().map(|v| v.message).collect();
    let failures: Vec<String> = assertions
        .iter()
        .filter_map(|a| a.check(&messages).err())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail(String),
    Skip,
}

/// One case of a suite and its result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub test: String,
    pub case: String,
    pub status: Status,
    /// The audit annotations the ValidatingAdmissionPolicies of the test gave the case's
    /// object (`<policy>/<key>` and value), as the API server adds them to its audit event.
    pub audit_annotations: BTreeMap<String, String>,
}

/// Runs every test and case of a suite file. `Err` when the suite itself cannot be read.
pub fn run_suite(path: &Path) -> Result<Vec<CaseResult>, String> {
    let objects = load_objects(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut results = Vec::new();
    for suite in objects.iter().filter(|o| o.kind() == "Suite") {
        let tests = suite.value.get("tests").and_then(Value::as_array);
        for (ti, test) in tests.into_iter().flatten().enumerate() {
            let test_name = test
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("test {ti}"), str::to_owned);
            let file = |key: &str| {
                test.get(key)
                    .and_then(Value::as_str)
                    .map(|p| dir.join(p))
                    .ok_or_else(|| format!("the test has no {key}"))
            };
            let cases = test
                .get("cases")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let skip = test.get("skip").and_then(Value::as_bool) == Some(true);
            let invalid = test.get("invalid").and_then(Value::as_bool) == Some(true);
            let loaded = file("template")
                .and_then(|t| Ok((t, file("constraint")?)))
                .and_then(|(t, c)| load_policies(&t, &c));
            if invalid {
                let status = match loaded {
                    Ok(_) => {
                        Status::Fail("the test is marked invalid but its policies load".into())
                    }
                    Err(_) => Status::Pass,
                };
                results.push(CaseResult {
                    test: test_name.clone(),
                    case: String::new(),
                    status,
                    audit_annotations: BTreeMap::new(),
                });
                continue;
            }
            let mut set = match loaded {
                Ok(set) => Some(set),
                Err(e) if !skip => {
                    results.push(CaseResult {
                        test: test_name.clone(),
                        case: String::new(),
                        status: Status::Fail(e),
                        audit_annotations: BTreeMap::new(),
                    });
                    None
                }
                Err(_) => None,
            };
            for (ci, case) in cases.iter().enumerate() {
                let case_name = case
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("case {ci}"), str::to_owned);
                let mut audit_annotations = BTreeMap::new();
                let status = if skip || case.get("skip").and_then(Value::as_bool) == Some(true) {
                    Status::Skip
                } else if let Some(set) = set.as_mut() {
                    match run_suite_case(set, dir, case, &mut audit_annotations) {
                        Ok(()) => Status::Pass,
                        Err(e) => Status::Fail(e),
                    }
                } else {
                    continue;
                };
                results.push(CaseResult {
                    test: test_name.clone(),
                    case: case_name,
                    status,
                    audit_annotations,
                });
            }
        }
    }
    Ok(results)
}

fn run_suite_case(
    set: &mut PolicySet,
    dir: &Path,
    case: &Value,
    annotations: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let object = case
        .get("object")
        .and_then(Value::as_str)
        .ok_or("the case has no object")?;
    let inventory: Vec<PathBuf> = case
        .get("inventory")
        .and_then(Value::as_array)
        .map(|i| {
            i.iter()
                .filter_map(Value::as_str)
                .map(|p| dir.join(p))
                .collect()
        })
        .unwrap_or_default();
    let assertions = case
        .get("assertions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("the case has no assertions")?
        .iter()
        .map(Assertion::parse)
        .collect::<Result<Vec<_>, _>>()?;
    review_case(set, &dir.join(object), &inventory, &assertions, annotations)
}
