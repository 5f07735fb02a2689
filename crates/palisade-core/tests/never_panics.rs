//! Property tests: whatever the bytes, loading returns (objects and/or located errors) and never
//! panics; every error position lies inside the input.

use palisade_core::{load_bytes, Limits};
use proptest::prelude::*;

const MANIFEST: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web, tier: \"front\"}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n        args: [\"-a\", '-b']\n        securityContext: &sc\n          privileged: yes\n      initContainers:\n      - name: init\n        securityContext: *sc\n        env:\n        - {name: A, value: \"1\"}\n        command: |\n          echo hi\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data:\n    <<: {x: \"1\"}\n";

fn check(bytes: &[u8]) {
    let limits = Limits {
        max_depth: 64,
        max_alias_nodes: 10_000,
        ..Limits::default()
    };
    check_with(bytes, &limits);
    // A node budget small enough to stop decoding (and cut the parser's input) anywhere.
    for max_file_nodes in [0, 3, 17] {
        check_with(
            bytes,
            &Limits {
                max_file_nodes,
                ..limits
            },
        );
    }
}

fn check_with(bytes: &[u8], limits: &Limits) {
    let loaded = load_bytes(bytes, "fuzz.yaml", limits);
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u32 + 2;
    for error in &loaded.errors {
        assert!(error.pos.line >= 1 && error.pos.line <= lines, "{error:?}");
        assert!(!error.message.is_empty());
    }
    for object in &loaded.objects {
        let _ = object.locate("/spec/template/spec/containers/0/securityContext/privileged");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn yaml_alphabet(text in "[a-z0-9:\\-\\[\\]{}&*!|>'\"#,?<@ \t\n]{0,400}") {
        check(text.as_bytes());
    }

    #[test]
    fn mutated_manifest(cuts in proptest::collection::vec((0usize..MANIFEST.len(), "[ \t\n:\\-\\[\\]{}&*'\"#]{0,3}"), 1..6)) {
        let mut text = MANIFEST.as_bytes().to_vec();
        for (at, insert) in cuts {
            let at = at.min(text.len());
            text.splice(at..at, insert.bytes());
        }
        check(&text);
    }

    #[test]
    fn truncated_manifest(len in 0usize..MANIFEST.len()) {
        check(&MANIFEST.as_bytes()[..len]);
    }
}
