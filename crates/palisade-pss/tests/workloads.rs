//! Workload kinds: the pod template is evaluated and pointers lead into it.

mod common;

use common::fixture;
use palisade_pss::{evaluate, forbidden_message, CheckId, Evaluation, Level, Version};

fn find(evaluation: &Evaluation, check: CheckId) -> &[String] {
    &evaluation
        .violations
        .iter()
        .find(|v| v.check == check)
        .unwrap_or_else(|| panic!("no {check} violation in {evaluation:?}"))
        .pointers
}

#[test]
fn deployment_template_metadata_and_spec() {
    let objects = fixture("workloads.yaml");
    let evaluation = evaluate(&objects[0], Level::Baseline, Version::Latest).expect("workload");
    assert_eq!(
        forbidden_message(Level::Baseline, Version::Latest, &evaluation),
        concat!(
            r#"violates PodSecurity "baseline:latest": forbidden AppArmor profile (annotation must not set "#,
            r#"AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/web="unconfined""), "#,
            r#"privileged (container "web" must not set securityContext.privileged=true)"#
        )
    );
    assert_eq!(
        find(&evaluation, CheckId::AppArmorProfile),
        ["/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1web"]
    );
    assert_eq!(
        find(&evaluation, CheckId::Privileged),
        ["/spec/template/spec/containers/0/securityContext/privileged"]
    );
}

#[test]
fn cronjob_pointers_and_no_host_port_defaulting_in_templates() {
    let objects = fixture("workloads.yaml");
    let evaluation = evaluate(&objects[1], Level::Baseline, Version::Minor(30)).expect("workload");
    assert_eq!(
        forbidden_message(Level::Baseline, Version::Minor(30), &evaluation),
        concat!(
            r#"violates PodSecurity "baseline:v1.30": non-default capabilities (container "backup" must not "#,
            r#"include "SYS_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true)"#
        )
    );
    assert_eq!(
        find(&evaluation, CheckId::CapabilitiesBaseline),
        ["/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/add/0"]
    );
    assert_eq!(
        find(&evaluation, CheckId::HostNamespaces),
        ["/spec/jobTemplate/spec/template/spec/hostNetwork"]
    );
    let restricted = evaluate(&objects[1], Level::Restricted, Version::Latest).expect("workload");
    assert_eq!(
        find(&restricted, CheckId::AllowPrivilegeEscalation),
        ["/spec/jobTemplate/spec/template/spec/containers/0/securityContext"]
    );
    assert_eq!(
        find(&restricted, CheckId::CapabilitiesRestricted),
        [
            "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities",
            "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/add/0"
        ]
    );
    assert_eq!(
        find(&restricted, CheckId::RunAsNonRoot),
        ["/spec/jobTemplate/spec/template/spec/containers/0/securityContext"]
    );
}

#[test]
fn pod_template_volumes() {
    let objects = fixture("workloads.yaml");
    let baseline = evaluate(&objects[2], Level::Baseline, Version::Latest).expect("workload");
    assert_eq!(
        find(&baseline, CheckId::HostPathVolumes),
        ["/template/spec/volumes/0/hostPath"]
    );
    let restricted = evaluate(&objects[2], Level::Restricted, Version::Latest).expect("workload");
    assert!(restricted
        .violations
        .iter()
        .all(|v| v.check != CheckId::HostPathVolumes));
    assert_eq!(
        find(&restricted, CheckId::RestrictedVolumes),
        ["/template/spec/volumes/0/hostPath"]
    );
    let volumes = restricted
        .violations
        .iter()
        .find(|v| v.check == CheckId::RestrictedVolumes);
    assert_eq!(
        volumes.map(|v| v.detail.as_str()).unwrap_or_default(),
        r#"volume "host" uses restricted volume type "hostPath""#
    );
}

#[test]
fn hardened_statefulset_passes_and_configmap_is_skipped() {
    let objects = fixture("workloads.yaml");
    for version in [Version::Minor(0), Version::Minor(24), Version::Latest] {
        let evaluation = evaluate(&objects[3], Level::Restricted, version).expect("workload");
        assert!(evaluation.allowed, "{version}: {:?}", evaluation.violations);
    }
    assert_eq!(
        evaluate(&objects[4], Level::Baseline, Version::Latest),
        None
    );
}
