use serde::Deserialize;

/// Rule options from the configuration file (`rules:` section of `.palisade.yaml`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Registries images may come from (prefixes such as `registry.example.com/` or
    /// `ghcr.io/org/`). Empty: every registry is allowed.
    pub allowed_registries: Vec<String>,
    /// Namespaces treated as system namespaces (exempt from some namespace rules).
    pub system_namespaces: Vec<String>,
    /// Requests and limits the resource fixes insert.
    pub default_resources: DefaultResources,
}

/// Resource values the fixes insert for containers that lack them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DefaultResources {
    pub cpu_request: String,
    pub memory_request: String,
    pub cpu_limit: String,
    pub memory_limit: String,
}

impl Default for DefaultResources {
    fn default() -> Self {
        DefaultResources {
            cpu_request: "100m".to_owned(),
            memory_request: "128Mi".to_owned(),
            cpu_limit: "500m".to_owned(),
            memory_limit: "512Mi".to_owned(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_registries: Vec::new(),
            system_namespaces: ["kube-system", "kube-public", "kube-node-lease"]
                .map(str::to_owned)
                .to_vec(),
            default_resources: DefaultResources::default(),
        }
    }
}
