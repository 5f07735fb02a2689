//! Leader election through a `coordination.k8s.io` Lease: one replica holds it and renews it;
//! another takes it over when it was not renewed within its duration.

use std::time::Duration;

use serde_json::{json, Value};

use crate::connect::Connection;

/// A Lease and who this replica is.
#[derive(Debug, Clone)]
pub struct Lease {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// A request with a JSON body (or none).
pub(crate) fn request(
    method: http::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<http::Request<Vec<u8>>, String> {
    let body = body.map(Value::to_string).unwrap_or_default().into_bytes();
    http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|err| err.to_string())
}

pub(crate) fn code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

impl Lease {
    fn path(&self) -> String {
        format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases",
            self.namespace
        )
    }

    /// Takes the Lease when it is free or expired, or renews it when this replica holds it.
    /// Returns whether this replica holds it now.
    pub async fn try_hold(&self, connection: &Connection) -> Result<bool, String> {
        let url = format!("{}/{}", self.path(), self.name);
        let get = request(http::Method::GET, &url, None)?;
        let current: Value = match connection.client.request(get).await {
            Ok(lease) => lease,
            Err(err) if code(&err) == Some(404) => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {
                        "holderIdentity": self.identity,
                        "leaseDurationSeconds": self.duration.as_secs().max(1),
                        "acquireTime": now(),
                        "renewTime": now(),
                        "leaseTransitions": 0,
                    },
                });
                let create = request(http::Method::POST, &self.path(), Some(&lease))?;
                return match connection.client.request::<Value>(create).await {
                    Ok(_) => Ok(true),
                    Err(err) if code(&err) == Some(409) => Ok(false),
                    Err(err) => Err(err.to_string()),
                };
            }
            Err(err) => return Err(err.to_string()),
        };
        let spec = current.get("spec").cloned().unwrap_or_else(|| json!({}));
        let holder = spec
            .get("holderIdentity")
            .and_then(Value::as_str)
            .unwrap_or("");
        let seconds = spec
            .get("leaseDurationSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let expired = spec
            .get("renewTime")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .is_none_or(|renewed| {
                renewed + jiff::SignedDuration::from_secs(seconds) < jiff::Timestamp::now()
            });
        let mine = holder == self.identity;
        if !mine && !holder.is_empty() && !expired {
            return Ok(false);
        }
        let mut lease = current.clone();
        lease["spec"]["holderIdentity"] = json!(self.identity);
        lease["spec"]["leaseDurationSeconds"] = json!(self.duration.as_secs().max(1));
        lease["spec"]["renewTime"] = json!(now());
        if !mine {
            let transitions = spec
                .get("leaseTransitions")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            lease["spec"]["acquireTime"] = json!(now());
            lease["spec"]["leaseTransitions"] = json!(transitions + 1);
        }
        // The resourceVersion read makes a concurrent take-over fail with 409.
        let replace = request(http::Method::PUT, &url, Some(&lease))?;
        match connection.client.request::<Value>(replace).await {
            Ok(_) => Ok(true),
            Err(err) if code(&err) == Some(409) => Ok(false),
            Err(err) => Err(err.to_string()),
        }
    }
}
