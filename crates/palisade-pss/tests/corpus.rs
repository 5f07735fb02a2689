//! Every workload of the real-world corpus (`../shared/corpus`) at every level and a range of
//! versions: no panics, consistent results, and every pointer resolves in the object.

use palisade_core::{load_path, Limits};
use palisade_pss::{evaluate, forbidden_message, Level, Version, NEWEST_POLICY_MINOR};
use serde_json::Value;

#[test]
fn corpus_workloads_evaluate_consistently() {
    let Some(root) = palisade_testdata::shared("corpus", "corpus_workloads_evaluate_consistently")
    else {
        return;
    };
    let paths = palisade_testdata::files_with(&root, &["yaml", "yml", "json"]);
    assert!(paths.len() > 1000, "corpus not found at {}", root.display());
    let limits = Limits::default();
    let versions = [
        Version::Minor(0),
        Version::Minor(18),
        Version::Minor(24),
        Version::Minor(34),
        Version::Minor(NEWEST_POLICY_MINOR),
        Version::Latest,
    ];
    let (mut workloads, mut denied) = (0, 0);
    for path in &paths {
        let display = path.display().to_string();
        for object in load_path(path, &display, &limits).objects {
            let value: &Value = &object.value;
            let Some(privileged) = evaluate(value, Level::Privileged, Version::Latest) else {
                continue;
            };
            workloads += 1;
            assert!(privileged.allowed && privileged.violations.is_empty());
            for version in versions {
                let baseline = evaluate(value, Level::Baseline, version).expect("workload");
                let restricted = evaluate(value, Level::Restricted, version).expect("workload");
                assert!(
                    baseline.allowed || !restricted.allowed,
                    "{display}: restricted allows what baseline denies at {version}"
                );
                for evaluation in [&baseline, &restricted] {
                    assert_eq!(evaluation.allowed, evaluation.violations.is_empty());
                    for v in &evaluation.violations {
                        assert!(
                            !v.pointers.is_empty(),
                            "{display}: {} has no pointer",
                            v.check
                        );
                        for pointer in &v.pointers {
                            assert!(
                                value.pointer(pointer).is_some(),
                                "{display}: {} points at missing {pointer}",
                                v.check
                            );
                        }
                    }
                }
                if !restricted.allowed {
                    denied += 1;
                    let message = forbidden_message(Level::Restricted, version, &restricted);
                    assert!(message.starts_with("violates PodSecurity \"restricted:"));
                }
            }
        }
    }
    println!("corpus: {workloads} workloads evaluated, {denied} restricted denials");
    assert!(workloads > 100, "too few workloads: {workloads}");
}
