//! Typed views of an audit event for palisade's own detections, and the one stateful analysis
//! they share: failed authentications and authorizations per user and source address in a
//! time window.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use crate::event::Event;

/// The request an audit event records. The members that every detection reads (stage, verb,
/// user, the target, the code) are looked up once, when the view is made.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub event: &'a Event,
    stage: &'a str,
    verb: &'a str,
    user: &'a str,
    resource: &'a str,
    subresource: &'a str,
    namespace: &'a str,
    code: Option<u64>,
}

impl<'a> Request<'a> {
    pub fn new(event: &'a Event) -> Self {
        let s = |keys: &[&str]| event.str_path(keys).unwrap_or("");
        Request {
            event,
            stage: s(&["stage"]),
            verb: s(&["verb"]),
            user: s(&["user", "username"]),
            resource: s(&["objectRef", "resource"]),
            subresource: s(&["objectRef", "subresource"]),
            namespace: s(&["objectRef", "namespace"]),
            code: code(event),
        }
    }

    /// The value at a path of member names (no JSON-pointer parsing: this runs for every rule
    /// on every event).
    fn at(&self, keys: &[&str]) -> Option<&'a Value> {
        self.event.at(keys)
    }

    fn s(&self, keys: &[&str]) -> Option<&'a str> {
        self.event.str_path(keys)
    }

    pub fn stage(&self) -> &'a str {
        self.stage
    }
    pub fn verb(&self) -> &'a str {
        self.verb
    }
    pub fn uri(&self) -> &'a str {
        self.s(&["requestURI"]).unwrap_or("")
    }
    pub fn user(&self) -> &'a str {
        self.user
    }
    pub fn groups(&self) -> impl Iterator<Item = &'a str> {
        self.at(&["user", "groups"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
    pub fn resource(&self) -> &'a str {
        self.resource
    }
    pub fn subresource(&self) -> &'a str {
        self.subresource
    }
    pub fn api_group(&self) -> &'a str {
        self.s(&["objectRef", "apiGroup"]).unwrap_or("")
    }
    pub fn namespace(&self) -> &'a str {
        self.namespace
    }
    pub fn name(&self) -> &'a str {
        self.s(&["objectRef", "name"])
            .or_else(|| self.s(&["requestObject", "metadata", "name"]))
            .or_else(|| self.s(&["responseObject", "metadata", "name"]))
            .unwrap_or("")
    }
    /// `responseStatus.code`, when recorded.
    pub fn code(&self) -> Option<u64> {
        self.code
    }
    /// Whether the request succeeded (a 2xx code).
    pub fn succeeded(&self) -> bool {
        self.code().is_some_and(|c| (200..300).contains(&c))
    }
    /// The authorizer's decision (`allow`, `forbid`), when annotated.
    pub fn decision(&self) -> &'a str {
        self.s(&["annotations", "authorization.k8s.io/decision"])
            .unwrap_or("")
    }
    pub fn source_ips(&self) -> impl Iterator<Item = &'a str> {
        self.at(&["sourceIPs"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
    /// The object sent with a create, update or patch, when the policy recorded it.
    pub fn request_object(&self) -> Option<&'a Value> {
        self.event.get("requestObject").filter(|v| v.is_object())
    }
    /// [`Request::request_object`] as a value of the caller's own ([`Event::get_owned`]).
    pub fn request_object_owned(&self) -> Option<Value> {
        self.event
            .get_owned("requestObject")
            .filter(Value::is_object)
    }
    /// Whether the event is the final record of a request (`ResponseComplete`).
    pub fn complete(&self) -> bool {
        self.stage() == "ResponseComplete"
    }
    /// Whether the event is the start of a long-running request's response (`ResponseStarted`).
    pub fn started(&self) -> bool {
        self.stage() == "ResponseStarted"
    }
}

/// `responseStatus.code`, when recorded.
fn code(event: &Event) -> Option<u64> {
    event.code()
}

/// A burst of failed requests: one user from one address failed `failures` times (401 or 403)
/// within `window_secs` seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureSpike {
    pub user: String,
    pub source_ip: String,
    pub failures: usize,
    pub window_secs: u64,
}

/// Counts 401 and 403 answers per user and source address in a sliding window, and reports a
/// [`FailureSpike`] once when the count reaches the threshold (again only after it fell below).
/// Memory is bounded: at most `max_keys` user-address pairs are tracked.
#[derive(Debug)]
pub struct AuthFailures {
    window_ns: i64,
    threshold: usize,
    max_keys: usize,
    seen: HashMap<(String, String), Window>,
}

#[derive(Debug, Default)]
struct Window {
    times: VecDeque<i64>,
    reported: bool,
}

impl AuthFailures {
    pub fn new(window_secs: u64, threshold: usize) -> Self {
        AuthFailures {
            window_ns: (window_secs as i64).saturating_mul(1_000_000_000),
            threshold: threshold.max(1),
            max_keys: 100_000,
            seen: HashMap::new(),
        }
    }

    pub fn window_secs(&self) -> u64 {
        (self.window_ns / 1_000_000_000) as u64
    }

    /// Records one event; a spike when this event makes the count reach the threshold.
    pub fn observe(&mut self, event: &Event) -> Option<FailureSpike> {
        // Most events are neither: only their code is read.
        if !matches!(code(event), Some(401 | 403)) {
            return None;
        }
        let req = Request::new(event);
        if req.stage() == "RequestReceived" {
            return None;
        }
        let user = match req.user() {
            "" => "system:anonymous",
            u => u,
        };
        let ip = req.source_ips().next().unwrap_or("");
        let now = event.time_ns;
        let key = (user.to_owned(), ip.to_owned());
        if !self.seen.contains_key(&key) && self.seen.len() >= self.max_keys {
            let horizon = now - self.window_ns;
            self.seen
                .retain(|_, w| w.times.back().is_some_and(|&t| t >= horizon));
            if self.seen.len() >= self.max_keys {
                return None;
            }
        }
        let w = self.seen.entry(key).or_default();
        w.times.push_back(now);
        while w.times.front().is_some_and(|&t| t < now - self.window_ns) {
            w.times.pop_front();
        }
        // Never more than the threshold's worth of times per pair.
        while w.times.len() > self.threshold {
            w.times.pop_front();
        }
        if w.times.len() < self.threshold {
            w.reported = false;
            return None;
        }
        if w.reported {
            return None;
        }
        w.reported = true;
        Some(FailureSpike {
            user: user.to_owned(),
            source_ip: ip.to_owned(),
            failures: w.times.len(),
            window_secs: self.window_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failure(user: &str, ip: &str, secs: i64) -> Event {
        let mut e = Event::for_test(
            json!({"stage": "ResponseComplete", "user": {"username": user},
            "sourceIPs": [ip], "responseStatus": {"code": 403}}),
        );
        e.time_ns = secs * 1_000_000_000;
        e
    }

    #[test]
    fn a_spike_is_reported_once_per_burst() {
        let mut f = AuthFailures::new(60, 3);
        assert_eq!(f.observe(&failure("u", "1.2.3.4", 0)), None);
        assert_eq!(f.observe(&failure("u", "5.6.7.8", 1)), None);
        assert_eq!(f.observe(&failure("u", "1.2.3.4", 2)), None);
        let spike = f.observe(&failure("u", "1.2.3.4", 3)).unwrap();
        assert_eq!((spike.user.as_str(), spike.failures), ("u", 3));
        assert_eq!(
            f.observe(&failure("u", "1.2.3.4", 4)),
            None,
            "reported once"
        );
        // Far apart: never three in a window.
        for t in [200, 300, 400] {
            assert_eq!(f.observe(&failure("v", "1.2.3.4", t)), None);
        }
    }
}
