//! No output prints a credential palisade found: every report format and `fix` diffs mask each
//! kind of credential the rules detect, the text report shows the masked form in its code
//! frames, and `--show-secrets` prints the values for a local run.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use palisade_core::mask;

const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM_LINES: [&str; 4] = [
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oiDIjLHlHCEcoAoGCCqGSM49",
    "AwEHoUQDQgAE7Kj2Lm9Qw3Er5Ty6Ui8Op1As2Df3Gh4Jk5Lz6Xc7Vb8Nm9Qw0Er1",
    "Ty2Ui3Op4As5Df6Gh7Jk8Lz9Xc0Vb1Nm2Qw3Er4Ty5Ui6Op7As8Df9Gh0Jk1Lz2X",
    "c3Vb4Nm5Qw6Er7Ty8Ui9Op0As1Df2Gh3Jk4Lz5Xc6Vb7Nm8Qw9Er0Ty1Ui2Op3A",
];
const SSH_BODY: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
const TOKEN_BASE64: &str = "ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUpqYVNKOS5jMmxuYm1GMGRYSmw=";

/// Credentials the text report shows (masked) in a code frame: the line a finding points at
/// holds them.
fn in_frames() -> Vec<&'static str> {
    vec![
        "https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/q8W9e0R1t2Y3u4I5",
        "xoxb-2049485860-4821936405-Zk3Hq8Lm2Pw9",
        "Kp4sT8vW1yZ3",
        "Sup3rS3cretValue!42",
        "ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9",
        "AIzaSyD3kQ8m-Lp2Wx7Rt9Vb4Nc6Yh1Jf5Gs0Ze",
        JWT,
        "Qx7mL2pW9vRt",
        "AKIA2E0A8F3B244C9986",
        "aHVudGVyMmh1bnRlcjI=",
        "M3taPassw0rd",
    ]
}

/// Every credential in the manifests, and the forms they take there: no output may contain any.
fn all_credentials() -> Vec<&'static str> {
    let mut all = in_frames();
    all.extend(PEM_LINES);
    all.extend([
        SSH_BODY,
        "hunter2hunter2",
        "Zm9vYmFyYmF6cXV4",
        TOKEN_BASE64,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl",
    ]);
    all
}

fn manifests() -> String {
    let pem = PEM_LINES
        .iter()
        .map(|l| format!("            {l}\n"))
        .collect::<String>();
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  annotations:
    notify: https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/q8W9e0R1t2Y3u4I5
    chat-token: xoxb-2049485860-4821936405-Zk3Hq8Lm2Pw9
    deploy-key: "-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: api
        image: deploy:Kp4sT8vW1yZ3@registry.example.com/team/api:1.0
        env:
        - name: DB_PASSWORD
          value: "Sup3rS3cretValue!42"
        - name: GITHUB
          value: ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9
        - name: MAPS
          value: AIzaSyD3kQ8m-Lp2Wx7Rt9Vb4Nc6Yh1Jf5Gs0Ze
        - name: SESSION
          value: {JWT}
        - name: DATABASE_URL
          value: postgres://app:Qx7mL2pW9vRt@db.shop:5432/orders
        - name: TLS_PRIVATE_KEY
          value: |
            -----BEGIN EC PRIVATE KEY-----
{pem}            -----END EC PRIVATE KEY-----
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws
  namespace: shop
data:
  credentials: "aws_access_key_id = AKIA2E0A8F3B244C9986"
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
data:
  password: aHVudGVyMmh1bnRlcjI=
stringData:
  api-key: Zm9vYmFyYmF6cXV4
---
apiVersion: v1
kind: Secret
metadata:
  name: ci-token
  namespace: shop
  annotations:
    kubernetes.io/service-account.name: ci
type: kubernetes.io/service-account-token
data:
  token: {TOKEN_BASE64}
---
apiVersion: v1
kind: Service
metadata:
  name: metadata
  namespace: shop
spec:
  type: ExternalName
  externalName: http://probe:M3taPassw0rd@169.254.169.254/latest
"#
    )
}

fn palisade(dir: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().expect("palisade runs");
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("all.yaml"), manifests()).expect("the manifest is written");
    dir
}

fn assert_masked(output: &str, what: &str) {
    for value in all_credentials() {
        assert!(
            !output.contains(value),
            "{what} prints {value:?}:\n{output}"
        );
    }
}

#[test]
fn every_format_masks_every_credential() {
    let dir = workspace();
    let text = stdout(palisade(dir.path()).args(["scan", "all.yaml", "--no-config"]));
    for rule in ["SEC001", "SEC002", "SEC003", "SEC004", "SVC005"] {
        assert!(text.contains(rule), "{rule} missing:\n{text}");
    }
    assert_masked(&text, "text");
    for value in in_frames() {
        assert!(
            text.contains(&mask(value)),
            "no {} in:\n{text}",
            mask(value)
        );
    }
    // A value written with escapes (an inline PEM key) is masked as it is written.
    assert!(!text.contains("b3BlbnNz"), "{text}");
    for format in ["json", "sarif", "junit", "github"] {
        let out =
            stdout(palisade(dir.path()).args(["scan", "all.yaml", "--no-config", "-f", format]));
        assert!(out.contains("SEC002"), "{format}:\n{out}");
        assert_masked(&out, format);
    }
    let path = dir.path().join("report.txt");
    palisade(dir.path())
        .args(["scan", "all.yaml", "--no-config", "-o"])
        .arg(&path)
        .output()
        .expect("palisade runs");
    let written = std::fs::read_to_string(&path).expect("the report is written");
    assert!(written.contains(&mask("Sup3rS3cretValue!42")), "{written}");
    assert_masked(&written, "text written to a file");
}

#[test]
fn show_secrets_prints_the_values() {
    let dir = workspace();
    let text =
        stdout(palisade(dir.path()).args(["scan", "all.yaml", "--no-config", "--show-secrets"]));
    for value in in_frames() {
        assert!(text.contains(value), "no {value} in:\n{text}");
        assert!(!text.contains(&mask(value)), "{text}");
    }
}

#[test]
fn fix_diffs_mask_credentials_in_their_context() {
    let dir = workspace();
    let diff = stdout(palisade(dir.path()).args(["fix", "all.yaml", "--no-config"]));
    assert!(diff.contains("+        securityContext:"), "{diff}");
    assert_masked(&diff, "fix diff");
    // The last lines of the key are the context of the inserted securityContext.
    assert!(diff.contains(&mask(PEM_LINES[3])), "{diff}");
    // Credentials are masked even when the rules that find them are not selected.
    let only_pod = stdout(palisade(dir.path()).args([
        "fix",
        "all.yaml",
        "--no-config",
        "--select",
        "workload",
    ]));
    assert!(only_pod.contains(&mask(PEM_LINES[3])), "{only_pod}");
    assert_masked(&only_pod, "fix diff of the workload rules");
    let shown =
        stdout(palisade(dir.path()).args(["fix", "all.yaml", "--no-config", "--show-secrets"]));
    assert!(shown.contains(PEM_LINES[3]), "{shown}");
}

#[test]
fn a_suppressed_credential_is_masked_in_other_findings_frames() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    palisade.dev/ignore: SEC001\nspec:\n  containers:\n  - {name: c, image: nginx:1.25, env: [{name: DB_PASSWORD, value: Sup3rS3cretValue}], securityContext: {privileged: true}}\n",
    )
    .expect("the manifest is written");
    let text = stdout(palisade(dir.path()).args([
        "scan",
        "pod.yaml",
        "--no-config",
        "--select",
        "POD001",
    ]));
    assert!(text.contains("POD001"), "{text}");
    assert!(!text.contains("Sup3rS3cretValue"), "{text}");
    assert!(text.contains(&mask("Sup3rS3cretValue")), "{text}");
}
