//! The strictest level a namespace's workloads meet.

mod common;

use common::fixture;
use palisade_pss::{suggest, Level, Version};

#[test]
fn baseline_with_restricted_blockers() {
    let objects = fixture("shop.yaml");
    let suggestion = suggest(&objects, Version::Latest);
    assert_eq!(suggestion.level, Level::Baseline);
    assert_eq!(suggestion.next, Some(Level::Restricted));
    assert_eq!(suggestion.evaluated, 3, "the Service is not a workload");
    let blockers: Vec<(usize, Vec<&str>)> = suggestion
        .blockers
        .iter()
        .map(|b| {
            (
                b.index,
                b.evaluation
                    .violations
                    .iter()
                    .map(|v| v.check.as_str())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        blockers,
        [
            (
                2,
                vec![
                    "allowPrivilegeEscalation",
                    "capabilities_restricted",
                    "runAsNonRoot",
                    "seccompProfile_restricted"
                ]
            ),
            (
                3,
                vec![
                    "allowPrivilegeEscalation",
                    "capabilities_restricted",
                    "runAsNonRoot",
                    "runAsUser",
                    "seccompProfile_restricted"
                ]
            ),
        ]
    );
}

#[test]
fn older_versions_check_less() {
    let objects = fixture("shop.yaml");
    // Before v1.23 runAsUser is not checked, before v1.8 allowPrivilegeEscalation neither.
    let suggestion = suggest(&objects, Version::Minor(7));
    let checks: Vec<Vec<&str>> = suggestion
        .blockers
        .iter()
        .map(|b| {
            b.evaluation
                .violations
                .iter()
                .map(|v| v.check.as_str())
                .collect()
        })
        .collect();
    assert_eq!(checks, [vec!["runAsNonRoot"], vec!["runAsNonRoot"]]);
}

#[test]
fn privileged_when_a_workload_fails_baseline() {
    let mut objects = fixture("shop.yaml");
    objects.extend(fixture("workloads.yaml"));
    let suggestion = suggest(&objects, Version::Latest);
    assert_eq!(suggestion.level, Level::Privileged);
    assert_eq!(suggestion.next, Some(Level::Baseline));
    let indexes: Vec<usize> = suggestion.blockers.iter().map(|b| b.index).collect();
    assert_eq!(
        indexes,
        [4, 5, 6],
        "Deployment, CronJob and PodTemplate fail baseline"
    );
    assert!(suggestion.blockers.iter().all(|b| !b.evaluation.allowed));
}

#[test]
fn restricted_when_everything_passes_or_nothing_runs() {
    let objects = fixture("shop.yaml");
    let suggestion = suggest(&objects[..2], Version::Latest);
    assert_eq!(suggestion.level, Level::Restricted);
    assert_eq!(suggestion.next, None);
    assert!(suggestion.blockers.is_empty());
    let none = suggest(&[], Version::Latest);
    assert_eq!((none.level, none.evaluated), (Level::Restricted, 0));
}
