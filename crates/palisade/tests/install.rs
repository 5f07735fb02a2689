//! What installing and integrating palisade relies on: shell completions, man pages, the
//! pre-commit hook and the GitHub Action, checked against the command line they call.

mod common;

use common::{root, run};

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
