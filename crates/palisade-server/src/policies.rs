//! Policies as code at admission: the Gatekeeper constraints and ValidatingAdmissionPolicy
//! bindings of `palisade serve --policy DIR`, evaluated on `/validate` next to the built-in
//! rules, within the review's time limit, and reloaded when their files change.
//!
//! - [`Policies::load`] reads the directories as `scan --policy` does (YAML files, hidden entries
//!   skipped) and refuses a set with any error, each at its file:line.
//! - [`Policies::start`] evaluates the set in force on a thread of its own, so that the built-in
//!   rules run meanwhile and a slow policy cannot hold the answer past the time limit;
//!   [`Pending::wait`] turns the outcome into denials, warnings and audit annotations, applying
//!   the failure policy to evaluations that failed or did not finish.
//! - [`Policies::reload`] swaps in a new set only when it loads without error; the set in force
//!   is an `Arc` behind a lock, so a review sees the old set or the new one, never a mix.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use palisade_core::{load_bytes, read_path, Limits};
use palisade_policy::{
    is_policy, Budget, EnforcementAction, FailurePolicy, Inventory, Outcome, PolicySet, Review,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::metrics::Metrics;
use crate::review::{decode, ReviewLimits};

/// How deep the policy directories are searched (a bound against symbolic-link loops).
const MAX_DEPTH: usize = 16;
/// Most policy evaluations still running past their time limit; beyond, reviews do not start
/// more and apply the failure policy at once.
const MAX_RUNAWAY: usize = 8;
/// Most load errors listed on `/readyz`.
const MAX_LISTED_ERRORS: usize = 20;

/// The policies could not be loaded: every error, at its file:line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot load the policies:\n  {}", errors.join("\n  "))]
pub struct PolicyLoadError {
    pub errors: Vec<String>,
}

/// The policies in force and where they come from.
pub struct Policies {
    dirs: Vec<PathBuf>,
    /// What a constraint that cannot be evaluated (or policies that do not finish in time) do.
    failure: FailurePolicy,
    /// The time all the policies of one review may take together.
    time_limit: Duration,
    current: RwLock<Arc<PolicySet>>,
    /// Fingerprint of the files last read, whether their set loaded or not.
    fingerprint: Mutex<u64>,
    /// The errors of the last reload, while the files stay as they were then.
    failed: Mutex<Option<Vec<String>>>,
    /// Evaluations still running past the time limit.
    runaway: Arc<AtomicUsize>,
}

/// The files of the policy directories, read once: the set is built from exactly these bytes.
struct Snapshot {
    /// Display name, and contents or the error reading them.
    files: Vec<(String, Result<Vec<u8>, String>)>,
    errors: Vec<String>,
    fingerprint: u64,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The YAML files under `dir`, in a stable order, hidden entries skipped: `(path to read,
/// path to show)`.
fn walk(
    dir: &Path,
    shown: &Path,
    depth: usize,
    out: &mut Vec<(PathBuf, PathBuf)>,
    errors: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        errors.push(format!(
            "{}: nested deeper than {MAX_DEPTH} directories",
            shown.display()
        ));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            errors.push(format!("{}: {err}", shown.display()));
            return;
        }
    };
    let mut names: Vec<std::ffi::OsString> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter(|n| !n.to_string_lossy().starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let show = shown.join(&name);
        if path.is_dir() {
            walk(&path, &show, depth + 1, out, errors);
        } else if is_yaml(&path) {
            out.push((path, show));
        }
    }
}

impl Snapshot {
    /// Reads every YAML file of `dirs`. A directory mounted from a ConfigMap is read through
    /// its `..data` link, resolved once, so that an update the kubelet swaps in while the
    /// files are read is seen whole or not at all.
    fn read(dirs: &[PathBuf], limits: &Limits) -> Snapshot {
        let mut found = Vec::new();
        let mut errors = Vec::new();
        for dir in dirs {
            if dir.is_dir() {
                let data = dir.join("..data");
                let root = if data.is_dir() {
                    std::fs::canonicalize(&data).unwrap_or(data)
                } else {
                    dir.clone()
                };
                walk(&root, dir, 0, &mut found, &mut errors);
            } else if dir.exists() {
                found.push((dir.clone(), dir.clone()));
            } else {
                errors.push(format!("{}: no such file or directory", dir.display()));
            }
        }
        let files: Vec<(String, Result<Vec<u8>, String>)> = found
            .into_iter()
            .map(|(path, shown)| {
                let shown = shown.display().to_string();
                let bytes = read_path(&path, &shown, limits).map_err(|e| e.to_string());
                (shown, bytes)
            })
            .collect();
        let mut hasher = DefaultHasher::new();
        files.hash(&mut hasher);
        errors.hash(&mut hasher);
        Snapshot {
            fingerprint: hasher.finish(),
            files,
            errors,
        }
    }

    /// The policy set of these files, or every error: a set with an error is never used.
    fn build(self, limits: &Limits, budget: Budget) -> Result<PolicySet, Vec<String>> {
        let mut errors = self.errors;
        let mut objects = Vec::new();
        for (shown, bytes) in self.files {
            match bytes {
                Ok(bytes) => {
                    let loaded = load_bytes(&bytes, &shown, limits);
                    errors.extend(loaded.errors.iter().map(ToString::to_string));
                    objects.extend(loaded.objects);
                }
                Err(error) => errors.push(error),
            }
        }
        let (mut set, policy_errors) = PolicySet::load(&objects);
        errors.extend(policy_errors.iter().map(ToString::to_string));
        let mut inventory = Inventory::new();
        for object in objects.iter().filter(|o| !is_policy(&o.value)) {
            inventory.add(&object.value);
        }
        let inventory_errors = set.set_inventory(inventory);
        errors.extend(inventory_errors.iter().map(ToString::to_string));
        set.set_budget(budget);
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }
}

/// `Kind/name` of a ValidatingAdmissionPolicyBinding, as the engine names it.
const BINDING: &str = "ValidatingAdmissionPolicyBinding";

impl Policies {
    /// Loads the policies of `dirs`; any error (a file that cannot be read or decoded, a policy
    /// that cannot be used) refuses the whole set. `time_limit` bounds the policies of one
    /// review together; each evaluation may take half of it, so that one runaway policy is
    /// stopped, and named, before the review's limit.
    pub fn load(
        dirs: Vec<PathBuf>,
        failure: FailurePolicy,
        time_limit: Duration,
    ) -> Result<Policies, PolicyLoadError> {
        let limits = Limits::default();
        let snapshot = Snapshot::read(&dirs, &limits);
        let fingerprint = snapshot.fingerprint;
        let set = snapshot
            .build(&limits, budget(time_limit))
            .map_err(|errors| PolicyLoadError { errors })?;
        Ok(Policies {
            dirs,
            failure,
            time_limit,
            current: RwLock::new(Arc::new(set)),
            fingerprint: Mutex::new(fingerprint),
            failed: Mutex::new(None),
            runaway: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The set in force.
    pub fn current(&self) -> Arc<PolicySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the files again and, when they changed, loads them: `None` when nothing changed,
    /// `Some(Ok(()))` when the new set is in force, `Some(Err(errors))` when it failed to load
    /// and the previous set stays in force.
    pub fn reload(&self) -> Option<Result<(), Vec<String>>> {
        let limits = Limits::default();
        let snapshot = Snapshot::read(&self.dirs, &limits);
        {
            let mut fingerprint = lock(&self.fingerprint);
            if *fingerprint == snapshot.fingerprint {
                return None;
            }
            *fingerprint = snapshot.fingerprint;
        }
        match snapshot.build(&limits, budget(self.time_limit)) {
            Ok(set) => {
                let set = Arc::new(set);
                match self.current.write() {
                    Ok(mut guard) => *guard = set,
                    Err(poisoned) => *poisoned.into_inner() = set,
                }
                *lock(&self.failed) = None;
                Some(Ok(()))
            }
            Err(errors) => {
                *lock(&self.failed) = Some(errors.clone());
                Some(Err(errors))
            }
        }
    }

    /// What `/readyz` says about the policies: how many are in force, and the errors of the
    /// last reload when it failed.
    pub fn status(&self) -> String {
        let set = self.current();
        let mut text = format!(
            "policies: {} constraints and {} bindings in force\n",
            set.constraints().len(),
            set.bindings().count()
        );
        if let Some(errors) = lock(&self.failed).as_ref() {
            text.push_str(
                "policies: the last reload failed; the previous policies stay in force:\n",
            );
            for error in errors.iter().take(MAX_LISTED_ERRORS) {
                text.push_str("  ");
                text.push_str(error);
                text.push('\n');
            }
            if errors.len() > MAX_LISTED_ERRORS {
                text.push_str(&format!(
                    "  and {} more errors\n",
                    errors.len() - MAX_LISTED_ERRORS
                ));
            }
        }
        text
    }

    /// Creates at zero the verdict series of the policies in force.
    pub(crate) fn create_series(&self, metrics: &Metrics) {
        let set = self.current();
        for constraint in set.constraints() {
            metrics.policy_series(&constraint.id(), action_of(&constraint.action));
        }
        for binding in set.bindings() {
            let id = format!("{BINDING}/{}", binding.name);
            for action in &binding.actions {
                let action = match action.as_str() {
                    "Deny" => "deny",
                    "Warn" => "warn",
                    _ => "audit",
                };
                metrics.policy_series(&id, action);
            }
        }
    }

    /// Starts evaluating the set in force on `request` (an `AdmissionRequest`, built only when
    /// a policy is loaded) on a thread of its own; `None` when no policy is loaded.
    pub(crate) fn start(&self, request: impl FnOnce() -> Value) -> Option<Pending> {
        let set = self.current();
        if set.is_empty() {
            return None;
        }
        let request = request();
        let deadline = Instant::now() + self.time_limit;
        let pending = |receiver| Pending {
            receiver,
            set: set.clone(),
            deadline,
            time_limit: self.time_limit,
            failure: self.failure,
            done: Arc::new(AtomicBool::new(false)),
            runaway: self.runaway.clone(),
        };
        if self.runaway.load(Ordering::Relaxed) >= MAX_RUNAWAY {
            return Some(pending(Err(format!(
                "not evaluated: {MAX_RUNAWAY} policy evaluations over their time limit are \
                 still running"
            ))));
        }
        let (sender, receiver) = mpsc::sync_channel(1);
        let result = pending(Ok(receiver));
        let (done, runaway, evaluated) = (result.done.clone(), self.runaway.clone(), set.clone());
        let spawned = std::thread::Builder::new()
            .name("palisade-policy".to_owned())
            .spawn(move || {
                let outcome = Review::from_request(&request).map(|r| evaluated.review(&r));
                if done.swap(true, Ordering::AcqRel) {
                    // The review gave up waiting and counted this evaluation as a runaway.
                    runaway.fetch_sub(1, Ordering::Relaxed);
                }
                let _ = sender.send(outcome);
            });
        Some(match spawned {
            Ok(_) => result,
            Err(err) => pending(Err(format!("not evaluated: cannot start a thread: {err}"))),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn budget(time_limit: Duration) -> Budget {
    Budget {
        per_evaluation: (time_limit / 2).max(Duration::from_millis(1)),
    }
}

fn action_of(action: &EnforcementAction) -> &'static str {
    match action {
        EnforcementAction::Warn => "warn",
        EnforcementAction::Dryrun => "dryrun",
        // `scoped` and actions this version does not know are enforced.
        EnforcementAction::Deny | EnforcementAction::Other(_) => "deny",
    }
}

/// Policies being evaluated for one review.
pub(crate) struct Pending {
    /// Why the evaluation could not start (too many runaways, no thread).
    receiver: Result<mpsc::Receiver<Result<Outcome, String>>, String>,
    set: Arc<PolicySet>,
    deadline: Instant,
    time_limit: Duration,
    failure: FailurePolicy,
    done: Arc<AtomicBool>,
    runaway: Arc<AtomicUsize>,
}

/// What the policies decided about one object.
#[derive(Debug, Default)]
pub(crate) struct Verdicts {
    /// Lines of the denial, `- [Kind/name] message`.
    pub denied: Vec<String>,
    /// Admission warnings, `[Kind/name] message`.
    pub warnings: Vec<String>,
    /// Audit annotation entries.
    pub audit: Vec<String>,
    /// Entries of the review's log line.
    pub logged: Vec<Value>,
}

/// What a verdict does to the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Deny,
    Warn,
    Audit,
    /// Counted and logged only.
    Log,
}

impl Verdicts {
    fn add(
        &mut self,
        metrics: &Metrics,
        policy: &str,
        action: &'static str,
        effect: Effect,
        message: &str,
    ) {
        metrics.policy_verdict(policy, action);
        self.logged.push(json!({
            "policy": policy,
            "action": action,
            "message": crate::review::warning(message),
        }));
        match effect {
            Effect::Deny => self.denied.push(format!("- [{policy}] {message}")),
            Effect::Warn => self
                .warnings
                .push(crate::review::warning(&format!("[{policy}] {message}"))),
            Effect::Audit => self.audit.push(format!("[{policy}] {message}")),
            Effect::Log => {}
        }
    }

    /// The failure policy applied to a policy that could not be evaluated.
    fn failed(&mut self, metrics: &Metrics, policy: &str, failure: FailurePolicy, why: &str) {
        let (effect, verdict) = match failure {
            FailurePolicy::Fail => (Effect::Deny, "failure policy Fail: denied"),
            FailurePolicy::Ignore => (Effect::Warn, "failure policy Ignore: allowed"),
        };
        self.add(
            metrics,
            policy,
            "error",
            effect,
            &format!("{why} ({verdict})"),
        );
    }
}

impl Pending {
    /// Waits for the evaluation until the review's time limit, then applies the verdicts; an
    /// evaluation that does not finish in time is left to end on its own (each evaluation is
    /// bounded by its budget) and the failure policy decides.
    pub(crate) fn wait(self, metrics: &Metrics) -> Verdicts {
        let mut verdicts = Verdicts::default();
        let outcome = match &self.receiver {
            Err(why) => Err(why.clone()),
            Ok(receiver) => {
                let left = self.deadline.saturating_duration_since(Instant::now());
                match receiver.recv_timeout(left) {
                    Ok(Ok(outcome)) => Ok(outcome),
                    Ok(Err(message)) => Err(format!("cannot review the request: {message}")),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if !self.done.swap(true, Ordering::AcqRel) {
                            self.runaway.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(format!(
                            "the policies did not finish within {} ms",
                            self.time_limit.as_millis()
                        ))
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        Err("the policy evaluation failed".to_owned())
                    }
                }
            }
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(why) => {
                verdicts.failed(metrics, "policies", self.failure, &why);
                return verdicts;
            }
        };
        for violation in &outcome.violations {
            let policy = violation.constraint();
            let binding = (violation.kind == BINDING)
                .then(|| self.set.bindings().find(|b| b.name == violation.name))
                .flatten();
            let action = action_of(&violation.action);
            let effect = match action {
                "deny" => Some(Effect::Deny),
                "warn" => Some(Effect::Warn),
                // A binding whose only action is Audit: the audit annotation below.
                _ if binding.is_some() => None,
                _ => Some(Effect::Log),
            };
            if let Some(effect) = effect {
                verdicts.add(metrics, &policy, action, effect, &violation.message);
            }
            if binding.is_some_and(|b| b.actions.iter().any(|a| a == "Audit")) {
                verdicts.add(metrics, &policy, "audit", Effect::Audit, &violation.message);
            }
        }
        for error in &outcome.errors {
            let why = format!("{}: {}", error.kind.as_str(), error.message);
            // The engine reports a binding's errors only under `failurePolicy: Ignore` (under
            // `Fail` they are violations); a constraint's follow the webhook's failure policy.
            let failure = if error.policy.starts_with(BINDING) {
                FailurePolicy::Ignore
            } else {
                self.failure
            };
            verdicts.failed(metrics, &error.policy, failure, &why);
        }
        verdicts
    }
}

/// The request of an AdmissionReview body, each field kept as its raw text.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    request: BTreeMap<String, &'a RawValue>,
}

/// The `AdmissionRequest` that policies read (Gatekeeper's `input.review`, CEL's `request`):
/// every field of the review's request, with `object` already decoded within the limits and
/// `oldObject` decoded within them (left out when over them).
pub(crate) fn admission_request(body: &[u8], object: Value, limits: &ReviewLimits) -> Value {
    let mut request = Map::new();
    if let Ok(parsed) = serde_json::from_slice::<Body>(body) {
        for (key, raw) in parsed.request {
            let value = match key.as_str() {
                "object" => continue,
                "oldObject" => match decode(limits, raw) {
                    Ok(old) => old,
                    Err(_) => continue,
                },
                _ => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            };
            request.insert(key, value);
        }
    }
    request.insert("object".to_owned(), object);
    Value::Object(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sloop
spec:
  crd:
    spec:
      names:
        kind: K8sLoop
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sloop

        violation[{"msg": "never"}] {
          xs := numbers.range(1, 100000)
          x := xs[_]
          y := xs[_]
          x * y < 0
        }
"#;

    fn looping(constraints: usize, time_limit: Duration) -> (tempfile::TempDir, Policies) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = LOOPS.to_owned();
        for i in 0..constraints {
            text.push_str(&format!(
                "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLoop\n\
                 metadata:\n  name: loop-{i}\nspec:\n  match:\n    kinds:\n      \
                 - apiGroups: [\"\"]\n        kinds: [\"Pod\"]\n"
            ));
        }
        std::fs::write(dir.path().join("loops.yaml"), text).unwrap();
        let policies =
            Policies::load(vec![dir.path().to_owned()], FailurePolicy::Fail, time_limit).unwrap();
        (dir, policies)
    }

    fn request() -> Value {
        json!({"uid": "u", "operation": "CREATE", "namespace": "a",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "a"}, "spec": {"containers": []}}})
    }

    #[test]
    fn an_evaluation_past_the_limit_is_a_runaway_until_its_budget_ends_it() {
        // Three evaluations of 75 ms each: the 150 ms limit ends the wait first.
        let (_dir, policies) = looping(3, Duration::from_millis(150));
        let metrics = Metrics::new();
        let verdicts = policies.start(request).unwrap().wait(&metrics);
        assert_eq!(
            verdicts.denied,
            [
                "- [policies] the policies did not finish within 150 ms (failure policy Fail: \
              denied)"
            ]
        );
        assert_eq!(policies.runaway.load(Ordering::Relaxed), 1);
        let deadline = Instant::now() + Duration::from_secs(10);
        while policies.runaway.load(Ordering::Relaxed) > 0 {
            assert!(
                Instant::now() < deadline,
                "the runaway evaluation never ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn too_many_runaways_start_no_evaluation_and_the_failure_policy_decides() {
        let (_dir, policies) = looping(1, Duration::from_secs(2));
        policies.runaway.store(MAX_RUNAWAY, Ordering::Relaxed);
        // Not evaluated at all, so not waited for: the answer names the cap.
        let verdicts = policies.start(request).unwrap().wait(&Metrics::new());
        assert_eq!(
            verdicts.denied,
            [
                "- [policies] not evaluated: 8 policy evaluations over their time limit are still \
              running (failure policy Fail: denied)"
            ]
        );
    }
}
