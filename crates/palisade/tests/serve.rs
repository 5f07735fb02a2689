//! `palisade serve` as a process, under the faults an API server and a cluster produce: clients
//! that hang up before the answer, a log reader that stalls, and SIGTERM while requests are in
//! flight. The client is a plain blocking HTTP/1.1 client over rustls on loopback.
#![cfg(unix)]

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod serve_process;
use serve_process::{receive, send, Answer, Server};

/// Starts the server without a rules configuration; `stderr` is where its logs go.
fn start(stderr: Stdio, extra: &[&str]) -> Server {
    start_with(stderr, &[&["--no-config"], extra].concat())
}

fn start_with(stderr: Stdio, extra: &[&str]) -> Server {
    serve_process::start(&[&["--select", "POD001,IMG001"], extra].concat(), stderr)
}

impl Server {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit; its exit status and how long it took.
    fn wait_exit(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn review(uid: &str, privileged: bool) -> String {
    format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"{uid}","kind":{{"group":"","version":"v1","kind":"Pod"}},"namespace":"team-a","operation":"CREATE","userInfo":{{"username":"alice"}},"object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p","namespace":"team-a"}},"spec":{{"containers":[{{"name":"c","image":"registry.example/app:1.0","securityContext":{{"privileged":{privileged}}}}}]}}}}}}}}"#
    )
}

/// One review on its own connection: `Ok(allowed)` when answered.
fn validate(server: &Server, uid: &str, privileged: bool) -> std::io::Result<bool> {
    let mut tls = server.connect()?;
    send(&mut tls, "POST", "/validate", &review(uid, privileged))?;
    answer_allowed(receive(&mut tls)?, uid)
}

fn answer_allowed(answer: Answer, uid: &str) -> std::io::Result<bool> {
    if answer.status != 200 || !answer.body.contains(&format!("\"uid\":\"{uid}\"")) {
        return Err(std::io::Error::other(format!(
            "status {}: {}",
            answer.status, answer.body
        )));
    }
    Ok(answer.body.contains("\"allowed\":true"))
}

fn metric(server: &Server, name: &str) -> f64 {
    let text = server.get("/metrics").unwrap().body;
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[allow(unsafe_code)]
fn sigterm(server: &Server) {
    // SAFETY: sends a signal to the child process this test started.
    assert_eq!(unsafe { libc::kill(server.pid(), libc::SIGTERM) }, 0);
}

#[test]
#[allow(unsafe_code)]
fn clients_that_hang_up_before_the_answer_never_end_the_server() {
    let mut server = start(Stdio::null(), &[]);
    for i in 0..1_000 {
        let mut tls = server.connect().unwrap();
        send(
            &mut tls,
            "POST",
            "/validate",
            &review(&format!("gone-{i}"), true),
        )
        .unwrap();
        // Close at once with a reset (linger 0), as the API server does on its webhook
        // timeout: the answer is then written to a connection that no longer exists.
        let tcp = tls.get_ref();
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: sets SO_LINGER on a socket this test owns, with a valid struct and length.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        drop(tls);
        assert!(
            server.alive(),
            "the server died after {} early closes",
            i + 1
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.alive());
    assert_eq!(server.get("/healthz").unwrap().status, 200);
    assert!(validate(&server, "after", false).unwrap());
    assert!(!validate(&server, "after-2", true).unwrap());
    assert!(
        metric(&server, "palisade_connections_broken_total") >= 1.0,
        "broken connections are counted"
    );
}

#[test]
fn a_log_reader_that_never_reads_does_not_stall_the_server() {
    // Standard error is a pipe nobody reads: it fills after a few hundred lines.
    let (reader, writer) = std::io::pipe().unwrap();
    let mut server = start(Stdio::from(writer), &["--drain", "1", "--grace", "2"]);
    let mut tls = server.connect().unwrap();
    for i in 0..10_000 {
        let uid = format!("r-{i}");
        send(&mut tls, "POST", "/validate", &review(&uid, i % 2 == 0)).unwrap();
        let allowed = answer_allowed(receive(&mut tls).unwrap(), &uid).unwrap();
        assert_eq!(allowed, i % 2 == 1);
    }
    assert_eq!(server.get("/healthz").unwrap().status, 200);
    assert_eq!(server.get("/readyz").unwrap().status, 200);
    assert!(validate(&server, "last", false).unwrap());
    assert!(
        metric(&server, "palisade_log_lines_dropped_total") > 0.0,
        "dropped log lines are counted"
    );
    sigterm(&server);
    let (status, took) = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    // At most the drain (1 s), the grace period (2 s) and the log flush (1 s), with slack for
    // a loaded machine; a server blocked on its log would not stop at all.
    assert!(took < Duration::from_secs(7), "stopped after {took:?}");
    drop(reader);
}

#[test]
fn sigterm_under_load_answers_every_request_already_sent() {
    let mut server = start(Stdio::null(), &["--drain", "2", "--grace", "5"]);
    let server = &mut server;
    let stop = AtomicBool::new(false);
    let signalled = std::sync::OnceLock::<Instant>::new();
    let (sent_before, failures) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                let (server, stop, signalled) = (&*server, &stop, &signalled);
                scope.spawn(move || {
                    let mut sent_before = 0;
                    let mut failures = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let uid = format!("w{worker}-{i}");
                        i += 1;
                        let sent = Instant::now();
                        // Half the workers open a connection and wait before sending, so
                        // that accepted but idle connections straddle the signal.
                        let result = server.connect().and_then(|mut tls| {
                            if worker % 2 == 0 {
                                std::thread::sleep(Duration::from_millis(30));
                            }
                            send(&mut tls, "POST", "/validate", &review(&uid, false))?;
                            answer_allowed(receive(&mut tls)?, &uid)
                        });
                        let before = signalled.get().is_none_or(|at| sent < *at);
                        sent_before += usize::from(before);
                        if before && result.is_err() {
                            failures.push(format!("{uid}: {result:?}"));
                        }
                    }
                    (sent_before, failures)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1_500));
        signalled.set(Instant::now()).unwrap();
        sigterm(server);
        // During the drain the server still answers, and reports not-ready.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(server.get("/readyz").unwrap().status, 503);
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        let mut sent = 0;
        let mut failures = Vec::new();
        for worker in workers {
            let (n, f) = worker.join().unwrap();
            sent += n;
            failures.extend(f);
        }
        (sent, failures)
    });
    assert!(sent_before > 50, "only {sent_before} requests were sent");
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    let (status, _) = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_webhook_section_of_the_rules_configuration_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".palisade.yaml");
    std::fs::write(&config, "webhook:\n  mode: warn\n").unwrap();
    let server = start_with(Stdio::null(), &["--config", config.to_str().unwrap()]);
    // POD001 (privileged) would be denied by the default mode; here it only warns.
    let mut tls = server.connect().unwrap();
    send(&mut tls, "POST", "/validate", &review("warned", true)).unwrap();
    let answer = receive(&mut tls).unwrap();
    assert!(answer.body.contains("\"allowed\":true"), "{}", answer.body);
    assert!(answer.body.contains("POD001"), "{}", answer.body);
}

fn example_policy(path: &str) -> String {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    std::fs::read_to_string(examples.join(path)).unwrap()
}

#[test]
fn policies_of_the_policy_flag_are_judged_and_reloaded_when_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let template = example_policy("allowed-repos/template.yaml");
    std::fs::write(policies.join("template.yaml"), template).unwrap();
    let server = start(
        Stdio::null(),
        &[
            "--policy",
            policies.to_str().unwrap(),
            "--reload-interval",
            "1",
        ],
    );
    assert!(validate(&server, "before", false).unwrap());
    assert!(server
        .get("/readyz")
        .unwrap()
        .body
        .contains("0 constraints"));

    let staged = dir.path().join("constraint.yaml");
    std::fs::write(&staged, example_policy("allowed-repos/constraint.yaml")).unwrap();
    std::fs::rename(&staged, policies.join("constraint.yaml")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let mut tls = server.connect().unwrap();
        send(&mut tls, "POST", "/validate", &review("after", false)).unwrap();
        let answer = receive(&mut tls).unwrap();
        if answer.body.contains("\"allowed\":false") {
            break answer;
        }
        assert!(Instant::now() < deadline, "not reloaded: {}", answer.body);
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        answer.body.contains(
            "[AllowedRepositories/must-come-from-trusted-registry] Container image \
             registry.example/app:1.0 is not from allowed repository"
        ),
        "{}",
        answer.body
    );
    assert_eq!(
        metric(
            &server,
            "palisade_policy_verdicts_total{policy=\"AllowedRepositories/must-come-from-trusted-registry\",action=\"deny\"}"
        ),
        1.0
    );
}

#[test]
fn serve_refuses_to_start_with_a_policy_that_cannot_be_used() {
    let dir = tempfile::tempdir().unwrap();
    let constraint = dir.path().join("constraint.yaml");
    std::fs::write(&constraint, example_policy("allowed-repos/constraint.yaml")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--no-config", "--self-signed", "127.0.0.1"])
        .args(["--addr", "127.0.0.1:0", "--policy"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot load the policies"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:2:1: AllowedRepositories/must-come-from-trusted-registry: missing template",
            constraint.display()
        )),
        "{stderr}"
    );
}
