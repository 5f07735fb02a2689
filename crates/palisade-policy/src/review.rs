//! Gatekeeper's `input.review`: an `AdmissionRequest`.

use serde_json::{json, Map, Value};

/// The admission operation of a review (`None` for a plain object, as in an audit or a scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    None,
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    fn parse(text: &str) -> Operation {
        match text {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            _ => Operation::None,
        }
    }
}

/// One object under review, as the JSON that Rego reads as `input.review`.
#[derive(Debug, Clone)]
pub struct Review {
    request: Value,
    operation: Operation,
}

fn group_version_kind(object: &Value) -> Value {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    json!({
        "group": group,
        "version": version,
        "kind": object.get("kind").and_then(Value::as_str).unwrap_or(""),
    })
}

fn metadata_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Review {
    /// A plain object reviewed as Gatekeeper's audit and `gator` review one: no operation, no
    /// user, no old object.
    pub fn from_object(object: &Value) -> Review {
        Review::from_owned(object.clone())
    }

    /// [`Review::from_object`] of an object the caller gives up: it is moved into the review.
    pub fn from_owned(object: Value) -> Review {
        let mut request = Map::new();
        request.insert("uid".into(), Value::from(""));
        request.insert("kind".into(), group_version_kind(&object));
        request.insert(
            "resource".into(),
            json!({"group": "", "version": "", "resource": ""}),
        );
        request.insert("name".into(), Value::from(metadata_str(&object, "name")));
        let namespace = metadata_str(&object, "namespace");
        if !namespace.is_empty() {
            request.insert("namespace".into(), Value::from(namespace));
        }
        request.insert("operation".into(), Value::from(""));
        request.insert("userInfo".into(), json!({}));
        request.insert("object".into(), object);
        Review {
            request: Value::Object(request),
            operation: Operation::None,
        }
    }

    /// The `request` of an `AdmissionReview` (`admission.k8s.io/v1` or `v1beta1`). A DELETE
    /// is reviewed on its `oldObject`, as Gatekeeper's webhook does.
    pub fn from_admission_review(review: &Value) -> Result<Review, String> {
        let request = review
            .get("request")
            .filter(|r| r.is_object())
            .ok_or("the AdmissionReview has no request")?;
        Review::from_request(request)
    }

    /// An `AdmissionRequest`.
    pub fn from_request(request: &Value) -> Result<Review, String> {
        let mut request = request
            .as_object()
            .cloned()
            .ok_or("the admission request is not a mapping")?;
        let operation = Operation::parse(
            request
                .get("operation")
                .and_then(Value::as_str)
                .unwrap_or(""),
        );
        let has = |r: &Map<String, Value>, k: &str| r.get(k).is_some_and(|v| !v.is_null());
        if operation == Operation::Delete && !has(&request, "object") && has(&request, "oldObject")
        {
            let old = request["oldObject"].clone();
            request.insert("object".into(), old);
        }
        let object = request
            .get("object")
            .filter(|o| o.is_object())
            .ok_or("the admission request has no object")?
            .clone();
        if !request.get("kind").is_some_and(Value::is_object) {
            request.insert("kind".into(), group_version_kind(&object));
        }
        if !has(&request, "name") {
            request.insert("name".into(), Value::from(metadata_str(&object, "name")));
        }
        if !has(&request, "namespace") {
            let ns = metadata_str(&object, "namespace");
            if !ns.is_empty() {
                request.insert("namespace".into(), Value::from(ns));
            }
        }
        request.entry("userInfo").or_insert_with(|| json!({}));
        request.entry("uid").or_insert_with(|| Value::from(""));
        Ok(Review {
            request: Value::Object(request),
            operation,
        })
    }

    /// The object under review: a plain object, an AdmissionReview or a bare request.
    pub fn from_any(value: &Value) -> Result<Review, String> {
        if value.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
            && value
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with("admission.k8s.io/"))
        {
            Review::from_admission_review(value)
        } else {
            Ok(Review::from_object(value))
        }
    }

    /// The JSON that Rego reads as `input.review` (CEL as `request`).
    pub fn request(&self) -> &Value {
        &self.request
    }

    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The object under review.
    pub fn object(&self) -> &Value {
        &self.request["object"]
    }

    /// The old object of an UPDATE (or DELETE), if any.
    pub fn old_object(&self) -> Option<&Value> {
        self.request.get("oldObject").filter(|v| !v.is_null())
    }

    pub(crate) fn kind_field(&self, field: &str) -> &str {
        self.request["kind"]
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The name under review (the request's, else the object's).
    pub fn name(&self) -> &str {
        self.request
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| metadata_str(self.object(), "name"))
    }

    /// The namespace under review (`""` for a cluster-scoped object).
    pub fn namespace(&self) -> &str {
        self.request
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| metadata_str(self.object(), "namespace"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_object_has_kind_name_namespace_and_no_operation() {
        let r = Review::from_object(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"}
        }));
        assert_eq!(
            r.request()["kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        assert_eq!(r.name(), "web");
        assert_eq!(r.namespace(), "prod");
        assert_eq!(r.operation(), Operation::None);
        assert!(r.old_object().is_none());
    }

    #[test]
    fn an_update_keeps_its_old_object_and_a_delete_reviews_it() {
        let update = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"operation": "UPDATE", "object": {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "a"}}, "oldObject": {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "a", "labels": {"x": "y"}}}}});
        let r = Review::from_any(&update).unwrap();
        assert_eq!(r.operation(), Operation::Update);
        assert_eq!(r.old_object().unwrap()["metadata"]["labels"]["x"], "y");
        assert_eq!(r.request()["kind"]["kind"], "Pod");
        let delete = json!({"operation": "DELETE", "oldObject": {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "gone"}}});
        let r = Review::from_request(&delete).unwrap();
        assert_eq!(r.object()["metadata"]["name"], "gone");
        assert!(Review::from_request(&json!({"operation": "CREATE"})).is_err());
    }
}
