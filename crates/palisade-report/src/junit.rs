use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use crate::Report;

/// JUnit XML: a test suite per file; a failing test case per finding and an erroring one per
/// input error. A clean scan gives one passing case so CI shows that the scan ran.
pub fn render(report: &Report<'_>) -> String {
    let mut junit = JReport::new("palisade");
    let mut suites: std::collections::BTreeMap<&str, TestSuite> = Default::default();
    for e in report.errors {
        let suite = suites
            .entry(&e.file)
            .or_insert_with(|| TestSuite::new(e.file.clone()));
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(report.redactor.redact(&e.message).into_owned());
        status.set_type("input-error");
        let mut case = TestCase::new(format!("input {}:{}", e.file, e.pos), status);
        case.set_classname(e.file.clone());
        suite.add_test_case(case);
    }
    for f in report.findings {
        let suite = suites
            .entry(&f.file)
            .or_insert_with(|| TestSuite::new(f.file.clone()));
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(report.redactor.redact(&f.message).into_owned());
        status.set_type(f.severity.as_str());
        status.set_description(format!(
            "{}:{}:{} {} ({}) {}\n{}",
            f.file, f.pos.line, f.pos.col, f.rule.id, f.rule.slug, f.object, f.rule.remediation
        ));
        let mut case = TestCase::new(
            format!("{} {} [{}:{}]", f.rule.id, f.object, f.file, f.pos),
            status,
        );
        case.set_classname(format!("palisade.{}", f.rule.category));
        suite.add_test_case(case);
    }
    if suites.is_empty() {
        let mut suite = TestSuite::new("palisade");
        let mut case = TestCase::new(
            format!(
                "scan of {} objects in {} files",
                report.summary.objects, report.summary.files
            ),
            TestCaseStatus::success(),
        );
        case.set_classname("palisade");
        suite.add_test_case(case);
        junit.add_test_suite(suite);
    }
    junit.add_test_suites(suites.into_values());
    junit.to_string().unwrap_or_default()
}
