//! The strictest level a namespace's workloads already meet.

use serde::Serialize;
use serde_json::Value;

use crate::eval::{evaluate, Evaluation};
use crate::level::{Level, Version};

/// A workload that fails the next stricter level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// Position of the workload in the input.
    pub index: usize,
    /// Its evaluation at the next level.
    pub evaluation: Evaluation,
}

/// The outcome of [`suggest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The strictest level every workload passes.
    pub level: Level,
    /// The next stricter level, if any.
    pub next: Option<Level>,
    /// The workloads that fail `next`, in input order.
    pub blockers: Vec<Blocker>,
    /// How many inputs carried a pod spec and were evaluated.
    pub evaluated: usize,
}

/// Finds the strictest level at `version` that all of a namespace's workloads pass, and which
/// workloads keep it from the next level. Objects without a pod spec are ignored; with no
/// workloads at all the answer is `restricted`.
pub fn suggest<'a, I>(workloads: I, version: Version) -> Suggestion
where
    I: IntoIterator<Item = &'a Value>,
{
    let mut strictest = Vec::new();
    for (index, object) in workloads.into_iter().enumerate() {
        let Some(restricted) = evaluate(object, Level::Restricted, version) else {
            continue;
        };
        let level = if restricted.allowed {
            Level::Restricted
        } else if evaluate(object, Level::Baseline, version).is_some_and(|e| e.allowed) {
            Level::Baseline
        } else {
            Level::Privileged
        };
        strictest.push((index, object, level, restricted));
    }
    let level = strictest
        .iter()
        .map(|(_, _, level, _)| *level)
        .min()
        .unwrap_or(Level::Restricted);
    let next = level.stricter();
    let mut blockers = Vec::new();
    if let Some(next) = next {
        for (index, object, passes, restricted) in &strictest {
            if *passes >= next {
                continue;
            }
            let evaluation = if next == Level::Restricted {
                Some(restricted.clone())
            } else {
                evaluate(object, next, version)
            };
            if let Some(evaluation) = evaluation {
                blockers.push(Blocker {
                    index: *index,
                    evaluation,
                });
            }
        }
    }
    Suggestion {
        level,
        next,
        blockers,
        evaluated: strictest.len(),
    }
}
