//! What installing and integrating palisade relies on: shell completions, man pages, the
//! pre-commit hook and the GitHub Action, checked against the command line they call.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use common::{root, run};
use palisade_core::{decode_first_document, Limits};
use serde_json::Value;

#[test]
fn bash_completions_define_the_function_and_list_subcommands() {
    let (code, out, err) = run(&root(), &["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("_palisade()"), "{out}");
    assert!(out.contains("complete -F _palisade"), "{out}");
    for subcommand in ["scan", "netpol", "rbac", "completions"] {
        assert!(out.contains(subcommand), "{subcommand} missing: {out}");
    }
}

#[test]
fn fish_completions_complete_palisade() {
    let (code, out, err) = run(&root(), &["completions", "fish"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("complete -c palisade"), "{out}");
    assert!(out.contains("-a \"scan\""), "{out}");
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let (code, _, err) = run(&root(), &["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn man_prints_the_main_page() {
    let (code, out, err) = run(&root(), &["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".TH PALISADE 1"), "{out}");
    assert!(out.contains("palisade\\-scan(1)"), "{out}");
}

#[test]
fn man_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let (code, _, err) = run(&root(), &["man", "--dir", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in [
        "palisade.1",
        "palisade-scan.1",
        "palisade-completions.1",
        "palisade-man.1",
        "palisade-netpol.1",
        "palisade-netpol-list.1",
        "palisade-rbac-who-can.1",
    ] {
        let text =
            std::fs::read_to_string(out_dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        let title = page.trim_end_matches(".1").to_uppercase();
        assert!(
            text.contains(&format!(
                ".TH {title} 1  \"palisade {}\"",
                env!("CARGO_PKG_VERSION")
            )),
            "{page}: {text}"
        );
    }
    let scan = std::fs::read_to_string(out_dir.join("palisade-scan.1")).unwrap();
    assert!(scan.contains("\\-\\-fail\\-on"), "{scan}");
    assert!(!out_dir.join("palisade-help.1").exists());
}

/// The first document of a YAML file of the repository, decoded as palisade decodes YAML.
fn repo_yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    decode_first_document(&text, &Limits::default())
        .unwrap_or_else(|e| panic!("{path}: {e:?}"))
        .unwrap_or_else(|| panic!("{path} is empty"))
}

/// The subcommands `palisade --help` lists.
fn subcommands() -> Vec<String> {
    let (code, out, err) = run(&root(), &["--help"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        // A wrapped description goes on with deeper indentation.
        .filter(|line| !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn pre_commit_hooks_run_an_existing_subcommand_on_manifests() {
    let hooks = repo_yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list of hooks");
    let commands = subcommands();
    assert!(commands.contains(&"scan".to_owned()), "{commands:?}");
    let expected = [
        ("palisade", "palisade", "system"),
        ("palisade-docker", "/palisade", "docker"),
    ];
    assert_eq!(hooks.len(), expected.len(), "{hooks:?}");
    for (hook, (id, program, language)) in hooks.iter().zip(expected) {
        assert_eq!(hook["id"], id, "{hook}");
        assert_eq!(hook["language"], language, "{hook}");
        let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(entry[0], program, "{hook}");
        assert!(
            commands.iter().any(|c| c == entry[1]),
            "{hook}: {commands:?}"
        );
        assert_eq!(hook["pass_filenames"], true, "{hook}");
        assert_eq!(hook["require_serial"], true, "{hook}");
        assert_eq!(hook["files"], r"\.(ya?ml|json)$", "{hook}");
    }
    // The hook is given every YAML file committed, Kubernetes objects or not, such as this one.
    let (code, out, err) = run(&root(), &["scan", ".pre-commit-hooks.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The options `palisade scan --help` lists.
fn scan_options() -> Vec<String> {
    let (code, out, err) = run(&root(), &["scan", "--help"]);
    assert_eq!(code, 0, "{err}");
    out.split_whitespace()
        .filter(|word| word.starts_with("--"))
        .map(|word| word.trim_end_matches(',').to_owned())
        .collect()
}

/// Runs a `shell: bash` step of the action as the runner does (`bash -eo pipefail`), in the
/// repository, with the `${{ … }}` expressions of its `env:` taken from `context` and the
/// built binary on PATH. Returns the exit code and what the step wrote to `$GITHUB_OUTPUT`.
fn run_step(step: &Value, context: &[(&str, &str)]) -> (i32, BTreeMap<String, String>) {
    assert_eq!(step["shell"], "bash", "{step}");
    let script = step["run"].as_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let output_file = work.path().join("output");
    std::fs::write(&output_file, "").unwrap();
    let bin_dir = cargo_bin("palisade").parent().unwrap().to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(root())
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &output_file);
    for (name, value) in step["env"].as_object().into_iter().flatten() {
        let expression = value.as_str().unwrap();
        let key = expression
            .strip_prefix("${{")
            .and_then(|e| e.strip_suffix("}}"))
            .unwrap_or_else(|| panic!("{name}: {expression}"))
            .trim();
        let (_, value) = context
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("{key} not given"));
        command.env(name, value);
    }
    let status = command.output().unwrap().status;
    let outputs = std::fs::read_to_string(&output_file)
        .unwrap()
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (status.code().unwrap_or(-1), outputs)
}

#[test]
fn the_action_installs_scans_uploads_and_then_fails() {
    let action = repo_yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = &action["inputs"];
    assert_eq!(inputs["path"]["default"], ".");
    assert_eq!(inputs["args"]["default"], "");
    assert_eq!(inputs["sarif-file"]["default"], "palisade.sarif");
    assert_eq!(inputs["fail-on-findings"]["default"], "true");
    let steps = action["runs"]["steps"].as_array().unwrap();
    let [install, scan, upload, result] = &steps[..] else {
        panic!("{steps:?}");
    };
    for step in [install, scan, result] {
        // Inputs are passed through the environment, not spliced into the script.
        assert!(!step["run"].as_str().unwrap().contains("${{"), "{step}");
    }
    assert!(install["run"]
        .as_str()
        .unwrap()
        .contains("cargo install --locked --path \"$GITHUB_ACTION_PATH/crates/palisade\""));

    let line = scan["run"]
        .as_str()
        .unwrap()
        .lines()
        .find(|line| line.trim_start().starts_with("palisade scan "))
        .expect("a palisade scan line");
    let options = scan_options();
    for flag in line
        .split_whitespace()
        .filter(|w| w.starts_with("--") && *w != "--")
    {
        assert!(options.iter().any(|o| o == flag), "{flag}: {options:?}");
    }
    assert!(
        line.contains("--format sarif --output \"$SARIF_FILE\""),
        "{line}"
    );

    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert_eq!(upload["with"]["sarif_file"], "${{ inputs.sarif-file }}");
    assert!(upload["if"]
        .as_str()
        .unwrap()
        .contains("steps.scan.outputs.written == 'true'"));

    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("palisade.sarif");
    let sarif = sarif.to_str().unwrap();
    let cases = [
        ("examples/insecure", "", "1", [("true", 1), ("false", 0)]),
        (
            "examples/hardened examples/hardened",
            "--fail-on high",
            "0",
            [("true", 0), ("false", 0)],
        ),
        (
            "examples/insecure",
            "--config missing.yaml",
            "2",
            [("true", 2), ("false", 2)],
        ),
    ];
    for (path, args, scan_code, results) in cases {
        let (code, outputs) = run_step(
            scan,
            &[
                ("inputs.path", path),
                ("inputs.args", args),
                ("inputs.sarif-file", sarif),
            ],
        );
        assert_eq!(code, 0, "the scan step itself never fails: {path} {args}");
        assert_eq!(outputs["exit-code"], scan_code, "{path} {args}");
        if scan_code == "2" {
            // The configuration is read first: no report, and none left from the last run.
            assert_eq!(outputs.get("written"), None, "{path} {args}");
        } else {
            assert_eq!(outputs["written"], "true");
            let report: Value =
                serde_json::from_str(&std::fs::read_to_string(sarif).unwrap()).unwrap();
            assert_eq!(report["version"], "2.1.0");
        }
        for (fail_on_findings, expected) in results {
            let (code, _) = run_step(
                result,
                &[
                    ("steps.scan.outputs.exit-code", scan_code),
                    ("inputs.fail-on-findings", fail_on_findings),
                    ("inputs.sarif-file", sarif),
                ],
            );
            assert_eq!(
                code, expected,
                "{path} {args} fail-on-findings: {fail_on_findings}"
            );
        }
    }
}
