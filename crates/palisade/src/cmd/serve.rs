//! `palisade serve`: the admission webhook.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use palisade_server::{
    client_ca, self_signed, serve, sync, without_cluster, Access, AuditOutput, CertFiles,
    ClusterCache, FailurePolicy, KubeTokenReviewer, LogSink, ReviewLimits, ServerConfig, State,
    TlsSource,
};

use crate::config::{ConfigArgs, Settings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDR")]
    pub addr: SocketAddr,
    /// Serve /metrics (with /healthz and /readyz) on this address only, not on --addr, so that
    /// a NetworkPolicy can admit the monitoring system to it alone.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Serving certificate chain (PEM); reloaded when the file changes.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        required_unless_present = "self_signed"
    )]
    pub tls_cert: Option<PathBuf>,
    /// Private key of the serving certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Generate a CA and a serving certificate for these DNS names (or IP addresses), and
    /// print the CA bundle (base64 PEM, the webhook configuration's `caBundle`) on standard
    /// output.
    #[arg(long, value_name = "DNSNAME", num_args = 1.., conflicts_with_all = ["tls_cert", "tls_key"])]
    pub self_signed: Vec<String>,
    /// Webhook settings: a YAML file with a `webhook:` section (modes per rule and namespace,
    /// exempt namespaces, rules to mutate, update policy). Default: the `webhook:` section of
    /// the rules configuration.
    #[arg(long, value_name = "FILE")]
    pub webhook_config: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Run only these rules (IDs, slugs or categories; comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Do not run these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 6 * 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,
    /// Seconds allowed to receive a request's headers or body.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
    /// Seconds between checks of the certificate files and the --policy files for changes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub reload_interval: u64,
    /// Seconds to keep serving after SIGTERM (with `/readyz` answering 503) before new
    /// connections are refused; keep it below the pod's terminationGracePeriodSeconds.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub drain: u64,
    /// Seconds requests already received may still take once the drain is over.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub grace: u64,
    /// Most admission requests read or reviewed at once; more wait, then get 503.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub max_in_flight: usize,
    /// Most containers in one reviewed pod spec; larger objects are denied unreviewed.
    #[arg(long, default_value_t = ReviewLimits::default().max_containers, value_name = "N")]
    pub max_containers: usize,
    /// Most JSON values in one reviewed object; larger objects are denied unreviewed.
    #[arg(long, default_value_t = ReviewLimits::default().max_nodes, value_name = "N")]
    pub max_nodes: usize,
    /// CA certificates (PEM) of the client certificates callers of protected endpoints
    /// (`/audit`, and `/metrics` with --protect-metrics) may present; the certificate's subject
    /// common name is the caller's identity.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Accept bearer tokens on protected endpoints, checked with the cluster's TokenReview API
    /// (in-cluster service account, or the current kubeconfig context); only for identities
    /// given with --allow-identity.
    #[arg(long, requires = "allow_identity")]
    pub token_review: bool,
    /// Also judge /validate requests by the policies in DIR (a directory or file; repeatable;
    /// read like `scan --policy`): Gatekeeper ConstraintTemplates with their Constraints
    /// (enforcementAction deny, warn or dryrun), and ValidatingAdmissionPolicies with their
    /// bindings (validationActions Deny, Warn, Audit) and parameters. Reloaded when the files
    /// change; a set with an error is refused, at start and on reload.
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// What a constraint that cannot be evaluated, or policies that do not finish within
    /// --policy-timeout, do to the request (a ValidatingAdmissionPolicy follows its own
    /// failurePolicy).
    #[arg(long, value_enum, default_value_t = PolicyFailure::Fail, value_name = "POLICY")]
    pub policy_failure: PolicyFailure,
    /// Milliseconds the policies may take on one request, all together (each evaluation may
    /// take half); keep it well below the webhook configuration's timeoutSeconds.
    #[arg(long, default_value_t = ReviewLimits::default().policy_time.as_millis() as u64, value_name = "MS")]
    pub policy_timeout: u64,
    /// Audiences a token must be issued for (TokenReview `spec.audiences`).
    #[arg(long, value_name = "AUDIENCE", requires = "token_review")]
    pub token_audience: Vec<String>,
    /// Identities (certificate common names, token usernames) allowed on protected endpoints;
    /// without any, every certificate the client CA signed is allowed, and no token.
    #[arg(long, value_name = "NAME")]
    pub allow_identity: Vec<String>,
    /// Require an authenticated caller on `/metrics` too.
    #[arg(long)]
    pub protect_metrics: bool,
    /// Accept audit events from anyone who reaches the port (not recommended: any pod could
    /// forge events).
    #[arg(long, conflicts_with_all = ["client_ca", "token_review"])]
    pub audit_unauthenticated: bool,
    /// Review with the cluster's state: keep a watch-fed cache of the objects the inventory
    /// rules read (RBAC, NetworkPolicies, namespaces, workloads; Secrets as metadata), so that
    /// admission gives the findings `palisade scan` gives on the cluster plus the object.
    /// Not ready until the first sync completes.
    #[arg(long)]
    pub cluster: bool,
    #[command(flatten)]
    pub connect: crate::cmd::cluster::ConnectArgs,
    /// Append the alerts on audit events (`POST /audit`) to this file, as JSON lines in Falco's
    /// format, instead of writing them on standard output.
    #[arg(long, value_name = "FILE")]
    pub audit_alerts: Option<PathBuf>,
    /// Batches of audit events waiting for evaluation; a batch beyond that is dropped and
    /// counted (`palisade_audit_events_dropped_total`), never waited for.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub audit_queue: usize,
}

/// `--policy-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFailure {
    /// Deny the request, naming the policy and the error.
    Fail,
    /// Allow the request with a warning naming the policy and the error.
    Ignore,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // --webhook-config wins; otherwise the `webhook:` section of the rules configuration.
    let Settings { rules, webhook } = args.config.load(args.webhook_config.as_deref())?;
    let tls = if args.self_signed.is_empty() {
        match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => TlsSource::Files(CertFiles { cert, key }),
            _ => anyhow::bail!("give --tls-cert and --tls-key, or --self-signed DNSNAME"),
        }
    } else {
        let generated = self_signed(&args.self_signed).context("--self-signed")?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", generated.ca_bundle())
            .and_then(|()| stdout.flush())
            .context("cannot print the CA bundle on standard output")?;
        TlsSource::Pem {
            cert: generated.cert_pem,
            key: generated.key_pem,
        }
    };
    let mut state = State::new(rules, args.select, args.ignore, webhook, LogSink::stderr())?
        .with_limits(ReviewLimits {
            max_containers: args.max_containers,
            max_nodes: args.max_nodes,
            policy_time: Duration::from_millis(args.policy_timeout.max(1)),
        });
    if !args.policy.is_empty() {
        let failure = match args.policy_failure {
            PolicyFailure::Fail => FailurePolicy::Fail,
            PolicyFailure::Ignore => FailurePolicy::Ignore,
        };
        state = state.with_policies(args.policy, failure)?;
    }
    let cluster = args
        .cluster
        .then(|| Arc::new(ClusterCache::new(&state.engine())));
    match &cluster {
        Some(cache) => state = state.with_cluster(cache.clone()),
        None => {
            if let Some(line) = without_cluster(&state.engine()) {
                eprintln!("palisade serve: {line}");
            }
        }
    }
    let mut server = ServerConfig::new(args.addr, tls);
    server.body_limit = args.max_body;
    server.body_timeout = Duration::from_secs(args.timeout);
    server.header_timeout = Duration::from_secs(args.timeout);
    server.reload_interval = Duration::from_secs(args.reload_interval.max(1));
    server.drain = Duration::from_secs(args.drain);
    server.shutdown_grace = Duration::from_secs(args.grace);
    server.max_in_flight = args.max_in_flight.max(1);
    server.metrics_addr = args.metrics_addr;
    if let Some(path) = &args.client_ca {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        server.client_ca = Some(client_ca(&pem).with_context(|| path.display().to_string())?);
    }
    server.auth.allow = args.allow_identity;
    if args.protect_metrics {
        server.auth.metrics = Access::Authenticated;
    }
    if args.audit_unauthenticated {
        server.auth.audit = Access::Open;
    }
    server.audit_queue = args.audit_queue.max(1);
    if let Some(path) = args.audit_alerts {
        // Refused now rather than when the first alert is written.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("--audit-alerts: cannot open {}", path.display()))?;
        server.audit_output = AuditOutput::File(path);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if args.token_review {
            let reviewer = KubeTokenReviewer::infer(args.token_audience)
                .await
                .context("--token-review needs access to the cluster")?;
            server.auth.tokens = Some(Arc::new(reviewer));
        }
        let state = Arc::new(state);
        if let Some(cache) = cluster {
            tokio::spawn(sync(cache, args.connect.options(), state.log.clone()));
        }
        serve(server, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}
