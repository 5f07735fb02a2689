//! Incident response: quarantine a compromised pod, prove it, and keep the evidence.
//!
//! [`isolate`] reads the pod and plans (a NetworkPolicy with both policy types and no rule that
//! selects exactly a label unique to the incident, and that label and the incident's
//! annotations on the pod); collects the evidence before anything changes; applies the plan in
//! idempotent steps when asked; then proves the result with palisade's NetworkPolicy engine over
//! the cluster's actual policies, naming every policy that keeps a connection open. Without
//! `apply` the proof is of the planned state, and nothing changes. [`undo`] removes exactly what
//! an incident added.

mod cluster;
pub mod evidence;
mod plan;
mod proof;
pub mod yaml;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use cluster::{apply, cni, load_plan, proof_objects, undo, Applied, Cni, Request};
pub use plan::{
    merge, plan, policy_name, quarantine_policy, unified, Current, Detached, Incident, Plan,
    PolicyAction, BY, DETACHED, INCIDENT, POD, QUARANTINE_LABEL, REASON, TIME,
};
pub use proof::{prove, Proof, Remaining};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Kube {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("pod {0} not found")]
    PodNotFound(String),
    #[error("pod {0} vanished during the run (deleted or replaced)")]
    PodVanished(String),
    #[error("pod {pod} is quarantined by incident {incident} already: run with --incident {incident}, or undo that incident first")]
    OtherIncident { pod: String, incident: String },
    #[error("invalid incident id {0:?}: lower-case letters, digits and '-', at most 40 characters, not starting or ending with '-'")]
    InvalidIncident(String),
    #[error("cannot write the evidence at {path}: {source}")]
    Evidence {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// How [`isolate`] runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Change the cluster (otherwise only plan and predict).
    pub apply: bool,
    /// Where to write the evidence, before any change.
    pub evidence: Option<PathBuf>,
}

/// Everything that happened.
#[derive(Debug)]
pub struct Outcome {
    pub plan: Plan,
    /// The evidence directory written.
    pub evidence: Option<PathBuf>,
    /// What could not be collected as evidence.
    pub evidence_missing: Vec<String>,
    /// The policies that select the pod before the change.
    pub selecting_before: Vec<String>,
    /// What `--apply` did; `None` without it.
    pub applied: Option<Applied>,
    /// The proof: of the cluster after the change, or of the planned state without `--apply`.
    /// `None` when a step failed.
    pub proof: Option<Proof>,
    pub cni: Cni,
    /// What the proof could not read.
    pub notes: Vec<String>,
}

impl Outcome {
    /// 2 when a step failed, 1 when the pod is (or would be) not isolated, 0 when it is.
    pub fn exit_code(&self) -> u8 {
        if self.applied.as_ref().is_some_and(|a| a.failed.is_some()) {
            2
        } else if self.proof.as_ref().is_some_and(|p| !p.isolated()) {
            1
        } else {
            0
        }
    }

    /// The report, for people.
    pub fn render(&self) -> String {
        let plan = &self.plan;
        let pod = format!("{}/{}", plan.namespace, plan.pod);
        let id = &plan.incident.id;
        let mut out = String::new();
        match &self.applied {
            None => out.push_str(&format!(
                "Plan for incident {id}, pod {pod}. Nothing was changed: run again with --apply --incident {id} to do it.\n\n"
            )),
            Some(_) => out.push_str(&format!("Incident {id}, pod {pod}.\n\n")),
        }
        out.push_str(&plan.render());
        out.push('\n');
        if let Some(dir) = &self.evidence {
            out.push_str(&format!(
                "Evidence written to {} (check it with: sha256sum -c SHA256SUMS).\n",
                dir.display()
            ));
            for missing in &self.evidence_missing {
                out.push_str(&format!("  not collected: {missing}\n"));
            }
        }
        out.push_str(&format!(
            "Policies selecting the pod before: {}\n",
            if self.selecting_before.is_empty() {
                "none (it can reach and be reached by everything)".to_owned()
            } else {
                self.selecting_before.join(", ")
            }
        ));
        if let Some(applied) = &self.applied {
            out.push_str("\nApplied:\n");
            for step in &applied.done {
                out.push_str(&format!("  done: {step}\n"));
            }
            if let Some(error) = &applied.failed {
                out.push_str(&format!("  FAILED: {error}\n"));
                for step in &applied.not_done {
                    out.push_str(&format!("  not done: {step}\n"));
                }
                out.push_str(&format!(
                    "The pod is NOT known to be isolated. Fix the cause and run the same command again (every step is safe to repeat), or remove what was done with: palisade isolate --undo {} -n {} --incident {id}\n",
                    plan.pod, plan.namespace
                ));
            } else if !applied.changed {
                out.push_str("  (nothing changed: everything was in place)\n");
            }
        }
        if let Some(proof) = &self.proof {
            out.push_str(if self.applied.is_some() {
                "\nProof (the cluster's policies after the change):\n"
            } else {
                "\nPredicted (the cluster's policies with the plan applied):\n"
            });
            out.push_str(&proof.render(&pod));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        match &self.cni {
            Cni::Enforcing(name) => out.push_str(&format!(
                "Network plugin: {name}, which enforces NetworkPolicy.\n"
            )),
            Cni::NotEnforcing(name) => out.push_str(&format!(
                "WARNING: the network plugin is {name}, which does not enforce NetworkPolicy: the policy is stored but no traffic is blocked. Detach the pod (--detach) and isolate its node.\n"
            )),
            Cni::Unknown => out.push_str(
                "WARNING: no network plugin known to enforce NetworkPolicy was found in kube-system: the policy may be stored without blocking any traffic. Check the cluster's network plugin.\n",
            ),
        }
        out
    }
}

/// The state the plan leads to: the pod with its new metadata, and the policies with the
/// incident's in place of any of the same name.
fn planned(plan: &Plan, pod: &Value, objects: &[Value]) -> (Value, Vec<Value>) {
    let mut pod = pod.clone();
    pod["metadata"]["labels"] = plan.metadata_after["labels"].clone();
    pod["metadata"]["annotations"] = plan.metadata_after["annotations"].clone();
    let name = plan.incident.policy_name();
    let mut objects: Vec<Value> = objects
        .iter()
        .filter(|o| {
            !(o.get("kind").and_then(Value::as_str) == Some("NetworkPolicy")
                && o.pointer("/metadata/namespace").and_then(Value::as_str)
                    == Some(plan.namespace.as_str())
                && o.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str()))
        })
        .cloned()
        .collect();
    objects.push(plan.policy.clone());
    (pod, objects)
}

/// Plans, collects the evidence, applies (with `options.apply`) and proves.
pub async fn isolate(
    client: &kube::Client,
    request: &Request,
    options: &Options,
) -> Result<Outcome, Error> {
    let (plan, pod) = load_plan(client, request).await?;
    let mut evidence_dir = None;
    let mut evidence_missing = Vec::new();
    if let Some(root) = &options.evidence {
        let collected = evidence::collect(client, &pod, &plan.incident.id, request.now).await?;
        evidence_missing = collected.missing.clone();
        evidence_dir = Some(evidence::write(
            &collected,
            root,
            &plan.namespace,
            &plan.pod,
            &plan.incident.id,
            request.now,
        )?);
    }
    let cni = cni(client).await;
    let (objects, notes) = proof_objects(client, &plan.namespace).await?;
    let selecting_before = proof::selecting(&pod, &objects);
    let mut outcome = Outcome {
        plan,
        evidence: evidence_dir,
        evidence_missing,
        selecting_before,
        applied: None,
        proof: None,
        cni,
        notes,
    };
    if !options.apply {
        let (pod, objects) = planned(&outcome.plan, &pod, &objects);
        outcome.proof = Some(prove(&pod, &objects));
        return Ok(outcome);
    }
    let applied = apply(client, &outcome.plan).await;
    let failed = applied.failed.is_some();
    outcome.applied = Some(applied);
    if failed {
        return Ok(outcome);
    }
    // The proof reads the cluster again: what is there, not what was meant.
    let ns = outcome.plan.namespace.clone();
    let name = outcome.plan.pod.clone();
    let Some(after) = cluster::get(client, &cluster::PODS, Some(&ns), &name).await? else {
        if let Some(applied) = &mut outcome.applied {
            applied.failed = Some(Error::PodVanished(format!("{ns}/{name}")));
        }
        return Ok(outcome);
    };
    let (objects, notes) = proof_objects(client, &ns).await?;
    outcome.notes = notes;
    outcome.proof = Some(prove(&after, &objects));
    Ok(outcome)
}

/// The user of the kubeconfig's context (the current one, or `context`): who runs the
/// command, as recorded on the pod.
pub fn kubeconfig_user(path: Option<&Path>, context: Option<&str>) -> Option<String> {
    let config = match path {
        Some(path) => kube::config::Kubeconfig::read_from(path).ok()?,
        None => kube::config::Kubeconfig::read().ok()?,
    };
    let context_name = context
        .map(str::to_owned)
        .or_else(|| config.current_context.clone())?;
    config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
}
