//! What installing and integrating palisade relies on: shell completions, man pages, the
//! pre-commit hook and the GitHub Action, checked against the command line they call.

mod common;

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
