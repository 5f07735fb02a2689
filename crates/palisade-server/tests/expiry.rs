//! Expired suppressions stop applying, also in a server that keeps running past the date.
//! Its own test binary: it sets `PALISADE_TODAY`, which the whole process reads.

mod common;

use common::*;
use palisade_server::Endpoint;
use serde_json::Value;

fn allowed(state: &palisade_server::State, uid: &str) -> bool {
    let request = review(
        uid,
        pod("node-agent", vec![privileged_container("c")]),
        None,
    );
    let reply = palisade_server::review(state, Endpoint::Validate, request.to_string().as_bytes());
    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    body["response"]["allowed"].as_bool().unwrap()
}

#[test]
fn a_suppression_stops_applying_the_day_after_it_expires() {
    std::env::set_var("PALISADE_TODAY", "2030-06-30");
    let rules = format!(
        "{RULES}suppressions:\n- rule: POD001\n  name: node-agent\n  reason: migration\n  expires: 2030-06-30\n"
    );
    let (state, logs) = state(&rules, "");
    assert!(allowed(&state, "e-1"), "suppressed until its expiry date");
    std::env::set_var("PALISADE_TODAY", "2030-07-01");
    assert!(!allowed(&state, "e-2"), "expired: the engine was rebuilt");
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("suppression of POD001 (migration) expired on 2030-06-30"),
        "{text}"
    );
    // Starting after the date: the warning is logged at once.
    let (state, logs) = common::state(&rules, "");
    assert!(!allowed(&state, "e-3"));
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("expired on 2030-06-30"),
        "{text}"
    );
}
