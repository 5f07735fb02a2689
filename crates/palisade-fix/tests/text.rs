//! Text-level behaviour of `fix_text`: what the edited files look like.

use palisade_core::patch::PatchOp;
use palisade_core::Limits;
use palisade_fix::{fix_text, FixError, ObjectFix};
use serde_json::{json, Value};

fn add(path: &str, value: Value) -> PatchOp {
    PatchOp::Add {
        path: path.to_owned(),
        value,
    }
}

fn replace(path: &str, value: Value) -> PatchOp {
    PatchOp::Replace {
        path: path.to_owned(),
        value,
    }
}

fn remove(path: &str) -> PatchOp {
    PatchOp::Remove {
        path: path.to_owned(),
    }
}

fn on(document: usize, ops: Vec<PatchOp>) -> ObjectFix {
    ObjectFix {
        document,
        item: None,
        ops,
    }
}

fn fix(text: &str, fixes: &[ObjectFix]) -> String {
    match fix_text(text, fixes, &Limits::default()) {
        Ok(new) => new.text,
        Err(err) => panic!("fix failed: {err}\n{text}"),
    }
}

const POD: &str = "\
# A pod.
apiVersion: v1
kind: Pod
metadata:
  name: web   # the name
  labels: {app: web}
spec:
  containers:
  - name: app
    image: nginx:1.25
    securityContext:
      privileged: true  # keep me
    ports:
    - containerPort: 80
";

#[test]
fn replaces_a_scalar_in_place_keeping_comments() {
    let new = fix(
        POD,
        &[on(
            0,
            vec![replace(
                "/spec/containers/0/securityContext/privileged",
                json!(false),
            )],
        )],
    );
    assert_eq!(
        new,
        POD.replace(
            "privileged: true  # keep me",
            "privileged: false  # keep me"
        )
    );
}

#[test]
fn adds_a_key_after_the_last_entry_at_sibling_indentation() {
    let new = fix(
        POD,
        &[on(
            0,
            vec![add(
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                json!(false),
            )],
        )],
    );
    assert_eq!(
        new,
        POD.replace(
            "privileged: true  # keep me\n",
            "privileged: true  # keep me\n      allowPrivilegeEscalation: false\n"
        )
    );
}

#[test]
fn nested_adds_are_written_as_block_yaml_at_the_right_indentation() {
    let new = fix(
        POD,
        &[on(
            0,
            vec![add(
                "/spec/containers/0/resources",
                json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "drop": ["ALL"]}),
            )],
        )],
    );
    assert_eq!(
        new,
        POD.replace(
            "    - containerPort: 80\n",
            "    - containerPort: 80\n    resources:\n      limits:\n        cpu: 500m\n        memory: 128Mi\n      drop:\n      - ALL\n"
        )
    );
}

#[test]
fn follows_the_files_indentation_step_and_list_style() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
    name: web
spec:
    containers:
        -   name: app
            image: nginx
";
    let new = fix(
        text,
        &[on(
            0,
            vec![add(
                "/spec/containers/0/securityContext",
                json!({"capabilities": {"drop": ["ALL"]}}),
            )],
        )],
    );
    assert_eq!(
        new,
        format!(
            "{text}            securityContext:\n                capabilities:\n                    drop:\n                        - ALL\n"
        )
    );
}

#[test]
fn key_order_is_kept_and_overlapping_fixes_merge() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
";
    let new = fix(
        text,
        &[
            on(
                0,
                vec![add(
                    "/spec/containers/0/securityContext",
                    json!({"allowPrivilegeEscalation": false}),
                )],
            ),
            on(
                0,
                vec![add(
                    "/spec/containers/0/securityContext",
                    json!({"privileged": false}),
                )],
            ),
        ],
    );
    assert_eq!(
        new,
        format!(
            "{text}    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: false\n"
        )
    );
}

#[test]
fn flow_mappings_are_extended_in_place() {
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {}}
spec:
  containers: [{name: app, image: nginx, securityContext: {privileged: true}}]
";
    let new = fix(
        text,
        &[
            on(
                0,
                vec![
                    add("/metadata/labels/team", json!("on")),
                    add("/metadata/namespace", json!("prod")),
                ],
            ),
            on(
                0,
                vec![
                    replace(
                        "/spec/containers/0/securityContext/privileged",
                        json!(false),
                    ),
                    add(
                        "/spec/containers/0/resources",
                        json!({"limits": {"cpu": "1"}}),
                    ),
                ],
            ),
        ],
    );
    assert_eq!(
        new,
        "\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {team: \"on\"}, namespace: prod}
spec:
  containers: [{name: app, image: nginx, securityContext: {privileged: false}, resources: {limits: {cpu: \"1\"}}}]
"
    );
}

#[test]
fn yaml_1_1_look_alikes_are_quoted() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: x\n";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                add("/data/yes", json!("yes")),
                add("/data/mode", json!("0755")),
                add("/data/version", json!("1.0")),
                add("/data/empty", json!("")),
                add("/data/count", json!(12)),
                add("/data/colon", json!("a: b")),
            ],
        )],
    );
    assert_eq!(
        new,
        format!(
            "{text}  \"yes\": \"yes\"\n  mode: \"0755\"\n  version: \"1.0\"\n  empty: \"\"\n  count: 12\n  colon: \"a: b\"\n"
        )
    );
}

#[test]
fn replaces_null_and_empty_values_with_blocks() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:   # empty for now
  hostNetwork: true
  containers: []
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                replace("/spec/securityContext", json!({"runAsNonRoot": true})),
                remove("/spec/hostNetwork"),
                add(
                    "/spec/containers/-",
                    json!({"name": "app", "image": "nginx"}),
                ),
            ],
        )],
    );
    assert_eq!(
        new,
        "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:   # empty for now
    runAsNonRoot: true
  containers: [{name: app, image: nginx}]
"
    );
}

#[test]
fn removes_entries_and_list_items() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    securityContext:
      capabilities:
        add:
        - NET_ADMIN   # remove me
        - CHOWN
  - image: b
    name: second
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                remove("/spec/containers/0/securityContext/capabilities/add/0"),
                remove("/spec/containers/1/image"),
            ],
        )],
    );
    assert_eq!(
        new,
        text.replace("        - NET_ADMIN   # remove me\n", "")
            .replace("  - image: b\n    name: second", "  - name: second")
    );
    let emptied = fix(
        &new,
        &[on(
            0,
            vec![remove(
                "/spec/containers/0/securityContext/capabilities/add/0",
            )],
        )],
    );
    assert!(emptied.contains("        add: []\n"), "{emptied}");
}

#[test]
fn appends_and_inserts_list_items() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      securityContext:
        capabilities:
          drop:
            - NET_RAW
      args: [a, b]
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                add(
                    "/spec/containers/0/securityContext/capabilities/drop/-",
                    json!("ALL"),
                ),
                add(
                    "/spec/containers/0/securityContext/capabilities/drop/0",
                    json!("X"),
                ),
                add("/spec/containers/0/args/-", json!("no")),
            ],
        )],
    );
    assert_eq!(
        new,
        text.replace(
            "            - NET_RAW\n",
            "            - X\n            - NET_RAW\n            - ALL\n"
        )
        .replace("[a, b]", "[a, b, \"no\"]")
    );
}

#[test]
fn edits_only_the_addressed_document_and_list_item() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
  spec:
    hostPID: true
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
  spec:
    hostPID: true
---
apiVersion: v1
kind: Pod
metadata:
  name: c
spec:
  hostPID: true
";
    let new = fix(
        text,
        &[
            ObjectFix {
                document: 0,
                item: Some(1),
                ops: vec![replace("/spec/hostPID", json!(false))],
            },
            on(1, vec![add("/spec/hostIPC", json!(false))]),
        ],
    );
    assert_eq!(
        new,
        "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
  spec:
    hostPID: true
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
  spec:
    hostPID: false
---
apiVersion: v1
kind: Pod
metadata:
  name: c
spec:
  hostPID: true
  hostIPC: false
"
    );
}

#[test]
fn json_files_get_json_edits() {
    let text = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web"
  },
  "spec": {
    "containers": [
      {
        "name": "app",
        "securityContext": {"privileged": true}
      }
    ]
  }
}
"#;
    let new = fix(
        text,
        &[on(
            0,
            vec![
                replace(
                    "/spec/containers/0/securityContext/privileged",
                    json!(false),
                ),
                add(
                    "/spec/containers/0/resources",
                    json!({"limits": {"memory": "1Gi"}}),
                ),
                add("/metadata/labels", json!({"yes": "no"})),
            ],
        )],
    );
    assert_eq!(
        new,
        r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web",
    "labels": {
      "yes": "no"
    }
  },
  "spec": {
    "containers": [
      {
        "name": "app",
        "securityContext": {"privileged": false},
        "resources": {
          "limits": {
            "memory": "1Gi"
          }
        }
      }
    ]
  }
}
"#
    );
    let decoded: Value = serde_json::from_str(&new).unwrap();
    assert_eq!(decoded["metadata"]["labels"]["yes"], json!("no"));
}

#[test]
fn crlf_line_endings_are_kept() {
    let text =
        "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: a\r\nspec:\r\n  hostPID: true\r\n";
    let new = fix(
        text,
        &[on(
            0,
            vec![add("/spec/securityContext", json!({"runAsNonRoot": true}))],
        )],
    );
    assert_eq!(
        new,
        format!("{text}  securityContext:\r\n    runAsNonRoot: true\r\n")
    );
}

#[test]
fn refuses_a_fix_that_would_change_other_objects() {
    // The container's security context is an alias: writing into the anchor would also
    // change the other container.
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: a
    securityContext: &sc
      privileged: true
  - name: b
    securityContext: *sc
";
    let err = fix_text(
        text,
        &[on(
            0,
            vec![replace(
                "/spec/containers/0/securityContext/privileged",
                json!(false),
            )],
        )],
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FixError::Verify(_)), "{err}");
    assert!(
        err.to_string()
            .contains("/spec/containers/1/securityContext/privileged"),
        "{err}"
    );
    let err = fix_text(
        text,
        &[on(
            0,
            vec![add(
                "/spec/containers/1/securityContext/allowPrivilegeEscalation",
                json!(false),
            )],
        )],
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FixError::Edit { .. }), "{err}");
}

#[test]
fn refuses_bad_patches_and_missing_objects() {
    let err = fix_text(POD, &[on(3, vec![])], &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        FixError::MissingObject {
            document: 3,
            item: None
        }
    );
    let err = fix_text(
        POD,
        &[on(0, vec![replace("/spec/nothing/here", json!(1))])],
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FixError::Patch { .. }), "{err}");
}

#[test]
fn repeated_and_already_applied_operations_change_nothing() {
    let ops = vec![
        replace("/spec/containers/0/securityContext/privileged", json!(true)),
        remove("/spec/absent"),
    ];
    assert_eq!(fix(POD, &[on(0, ops)]), POD);
}

#[test]
fn block_scalars_and_quoted_values_are_replaced_whole() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  annotations:
    note: |
      line one
      line two
    quoted: 'it''s'   # trailing
data:
  x: \"1\"
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                replace("/metadata/annotations/note", json!("short")),
                replace("/metadata/annotations/quoted", json!("on")),
            ],
        )],
    );
    assert_eq!(
        new,
        text.replace("|\n      line one\n      line two", "short")
            .replace("'it''s'", "\"on\"")
    );
}

#[test]
fn operations_on_separate_subtrees_and_on_one_list_combine() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  initContainers: [{name: init, image: busybox}]
  containers:
  - name: a
    image: nginx
  - name: b
    image: nginx
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                add("/spec/containers/0/imagePullPolicy", json!("Always")),
                add("/spec/containers/1/imagePullPolicy", json!("Always")),
                add("/spec/initContainers/0/imagePullPolicy", json!("Always")),
                add(
                    "/spec/containers/0/resources",
                    json!({"limits": {"cpu": "1"}}),
                ),
                add("/spec/containers/1", json!({"name": "c", "image": "x"})),
                replace("/spec/containers/2/image", json!("nginx:1.25")),
                add("/spec/initContainers/-", json!({"name": "two"})),
            ],
        )],
    );
    assert_eq!(
        new,
        "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  initContainers: [{name: init, image: busybox, imagePullPolicy: Always}, {name: two}]
  containers:
  - name: a
    image: nginx
    imagePullPolicy: Always
    resources:
      limits:
        cpu: \"1\"
  - name: c
    image: x
  - name: b
    image: \"nginx:1.25\"
    imagePullPolicy: Always
"
    );
}

#[test]
fn lists_whose_first_item_looks_like_syntax() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    args:
    - --flag
    env:
    - {name: A, value: b}
    command:
    - sh
    - |
      echo one
      # still the script
";
    let new = fix(
        text,
        &[on(
            0,
            vec![
                add("/spec/containers/0/args/-", json!("--other")),
                add(
                    "/spec/containers/0/env/-",
                    json!({"name": "B", "value": "0755"}),
                ),
                replace("/spec/containers/0/command/1", json!("echo two")),
                add("/spec/containers/0/resources", json!({})),
            ],
        )],
    );
    assert_eq!(
        new,
        "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    args:
    - --flag
    - \"--other\"
    env:
    - {name: A, value: b}
    - name: B
      value: \"0755\"
    command:
    - sh
    - \"echo two\"
    resources: {}
"
    );
}

#[test]
fn keys_go_after_comment_lines_that_may_belong_to_a_block_scalar() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  script: |
    run
    # the end of the script
";
    let new = fix(text, &[on(0, vec![add("/data/more", json!("x"))])]);
    assert_eq!(new, format!("{text}  more: x\n"));
}

const EMPTY_CONTEXT: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.25
    securityContext:
";

#[test]
fn replacements_of_an_empty_field_with_mappings_all_take_effect() {
    // What the rules emit for an empty `securityContext:`: each replaces the null.
    let fixes: Vec<ObjectFix> = [
        json!({"allowPrivilegeEscalation": false}),
        json!({"runAsNonRoot": true}),
        json!({"capabilities": {"drop": ["ALL"]}}),
    ]
    .into_iter()
    .map(|v| on(0, vec![replace("/spec/containers/0/securityContext", v)]))
    .collect();
    let fixed = fix_text(EMPTY_CONTEXT, &fixes, &Limits::default()).unwrap();
    assert_eq!(fixed.applied, vec![true, true, true]);
    assert_eq!(
        fixed.text,
        format!(
            "{EMPTY_CONTEXT}      allowPrivilegeEscalation: false\n      runAsNonRoot: true\n      \
             capabilities:\n        drop:\n        - ALL\n"
        )
    );
}

#[test]
fn a_fix_overridden_by_a_later_one_is_not_applied() {
    let fixes = [
        on(
            0,
            vec![replace("/spec/containers/0/image", json!("nginx:1.26"))],
        ),
        on(
            0,
            vec![replace("/spec/containers/0/image", json!("nginx:1.27"))],
        ),
        on(
            0,
            vec![add("/spec/automountServiceAccountToken", json!(false))],
        ),
    ];
    let fixed = fix_text(EMPTY_CONTEXT, &fixes, &Limits::default()).unwrap();
    assert_eq!(fixed.applied, vec![false, true, true]);
    assert!(
        fixed.text.contains("image: \"nginx:1.27\"\n"),
        "{}",
        fixed.text
    );
}

#[test]
fn a_mapping_replaced_by_a_mapping_is_still_replaced_whole() {
    let text = POD.replace("privileged: true  # keep me", "privileged: true");
    let fixes = [
        on(
            0,
            vec![replace(
                "/spec/containers/0/securityContext",
                json!({"runAsNonRoot": true}),
            )],
        ),
        on(
            0,
            vec![replace(
                "/spec/containers/0/securityContext",
                json!({"readOnlyRootFilesystem": true}),
            )],
        ),
    ];
    let fixed = fix_text(&text, &fixes, &Limits::default()).unwrap();
    assert_eq!(fixed.applied, vec![false, true]);
    assert!(!fixed.text.contains("runAsNonRoot"), "{}", fixed.text);
}

#[test]
fn carriage_return_line_endings_are_kept() {
    let text = EMPTY_CONTEXT.replace('\n', "\r");
    let fixes = [on(
        0,
        vec![
            replace(
                "/spec/containers/0/securityContext",
                json!({"runAsNonRoot": true}),
            ),
            add("/spec/automountServiceAccountToken", json!(false)),
        ],
    )];
    let fixed = fix_text(&text, &fixes, &Limits::default()).unwrap();
    assert_eq!(fixed.applied, vec![true]);
    assert_eq!(
        fixed.text,
        format!("{text}      runAsNonRoot: true\r  automountServiceAccountToken: false\r")
    );
}

#[test]
fn a_lone_carriage_return_among_line_feeds_is_refused_with_its_line() {
    let text = EMPTY_CONTEXT.replacen("  name: web\n", "  name: web\r", 1);
    let err = fix_text(
        &text,
        &[on(0, vec![add("/spec/hostPID", json!(false))])],
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, FixError::MixedLineEndings { line: 4 });
    assert!(err.to_string().contains("line 4"), "{err}");
    let crlf = text.replace('\n', "\r\n");
    let err = fix_text(
        &crlf,
        &[on(0, vec![add("/spec/hostPID", json!(false))])],
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, FixError::MixedLineEndings { line: 4 });
}
