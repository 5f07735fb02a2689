//! Connecting: a kubeconfig (its current context or another, with a token, a client
//! certificate or an exec credential plugin), or the pod's service account.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Where the credentials come from.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// A kubeconfig file; without one, `KUBECONFIG` or `~/.kube/config`, then the pod's
    /// service account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig other than its current one.
    pub context: Option<String>,
    /// How long one request may wait for the server.
    pub timeout: Option<Duration>,
}

/// A client and where it points.
#[derive(Clone)]
pub struct Connection {
    /// Retries `429`, `503` and `504` (after the server's `Retry-After`, else with a growing
    /// backoff): for lists, watches and writes.
    pub client: kube::Client,
    /// Does not retry: for discovery, where an aggregated API whose backend is down answers
    /// `503` until someone repairs it, and is skipped.
    pub once: kube::Client,
    /// The API server's URL, without a trailing slash.
    pub server: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read the kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        source: kube::config::KubeconfigError,
    },
    #[error("cannot use the kubeconfig: {0}")]
    Config(#[from] kube::config::KubeconfigError),
    #[error("no cluster configuration: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("cannot build the client: {0}")]
    Client(#[from] kube::Error),
}

/// Connects as `kubectl` would.
pub async fn connect(options: &ConnectOptions) -> Result<Connection, ConnectError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut config = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| ConnectError::Kubeconfig {
                    path: path.display().to_string(),
                    source,
                })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options).await?
        }
        None if options.context.is_some() => kube::Config::from_kubeconfig(&kube_options).await?,
        None => kube::Config::infer().await?,
    };
    if let Some(timeout) = options.timeout {
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
    }
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let mut once = config.clone();
    once.default_retry = false;
    let client = kube::Client::try_from(config)?;
    let once = kube::Client::try_from(once)?;
    Ok(Connection {
        client,
        once,
        server,
    })
}
