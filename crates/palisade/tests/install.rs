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
