//! `palisade cluster watch`: the objects kept up to date from watches, re-evaluated in part
//! ([`super::cache`]) and published as PolicyReports.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use palisade_cluster::{
    connect, discover, policy_report, serve_health, watch, Change, Health, Lease, ListOptions,
    Publisher, WatchOptions,
};
use palisade_rules::{Config, Engine};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::cache::Cache;
use super::scope::Scoped;
use super::{ConnectArgs, ExitCode};
use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct ClusterWatchArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only this namespace's findings (cluster-scoped objects are still read).
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Objects per page of a list.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,
    /// Watch Secrets, with their data, for the rules that read them. Without it Secrets
    /// are not requested, and the rules that read only Secrets do not run.
    #[arg(long)]
    pub secret_data: bool,
    /// Report every object's findings, also those of Pods and ReplicaSets that are the
    /// same as their owner's.
    #[arg(long)]
    pub no_owner_folding: bool,
    /// Run only these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Do not run these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Where `/healthz`, `/readyz` and `/metrics` are served (plain HTTP).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// The namespace of the Lease (default: `POD_NAMESPACE`, else `palisade`).
    #[arg(long, value_name = "NS")]
    pub lease_namespace: Option<String>,
    /// The name of the Lease.
    #[arg(long, value_name = "NAME", default_value = "palisade-watch")]
    pub lease_name: String,
    /// This replica's name in the Lease (default: `POD_NAME`, else `HOSTNAME`).
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Seconds a leader that stops renewing keeps the Lease.
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    pub lease_duration: u64,
    /// Seconds one watch request lasts before it is made again.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub watch_timeout: u64,
    /// Milliseconds to gather changes before re-evaluating them together.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub settle: u64,
}

pub fn run(args: ClusterWatchArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(watch_cluster(&config, &engine, &args))?;
    Ok(ExitCode::SUCCESS)
}

async fn watch_cluster(
    config: &Config,
    engine: &Engine,
    args: &ClusterWatchArgs,
) -> anyhow::Result<()> {
    let connection = connect(&args.connect.options()).await?;
    let (kinds, not_run) = super::kinds_to_list(engine, args.secret_data);
    if let Some(line) = not_run.warning() {
        eprintln!("palisade cluster watch: {line}");
    }
    let discovered = discover(&connection.once, &kinds).await?;
    for warning in super::unavailable_warnings(&discovered.unavailable) {
        eprintln!("palisade cluster watch: {warning}");
    }
    let types = discovered.types;
    let health = Arc::new(Health::default());
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!(
        "palisade cluster watch: {} resource types from {}; /healthz, /readyz and /metrics on http://{}",
        types.len(),
        connection.server,
        listener.local_addr()?
    );
    tokio::spawn(serve_health(listener, health.clone()));
    let options = WatchOptions {
        list: ListOptions {
            namespace: args.namespace.clone(),
            chunk_size: args.chunk_size,
            concurrency: 1,
            secret_data: args.secret_data,
        },
        watch_timeout: Duration::from_secs(args.watch_timeout.max(1)),
        retry: Duration::from_secs(2),
    };
    let (sink, mut changes) = mpsc::channel(4096);
    for resource in &types {
        tokio::spawn(watch(
            connection.clone(),
            resource.clone(),
            options.clone(),
            sink.clone(),
        ));
    }
    drop(sink);
    let lease = Lease {
        namespace: args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "palisade".to_owned()),
        name: args.lease_name.clone(),
        identity: args
            .identity
            .clone()
            .or_else(|| std::env::var("POD_NAME").ok())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("palisade-{}", std::process::id())),
        duration: Duration::from_secs(args.lease_duration.max(1)),
    };
    let (leading, mut leader) = tokio::sync::watch::channel(false);
    {
        let connection = connection.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let every = (lease.duration / 3).max(Duration::from_millis(200));
            loop {
                let held = match lease.try_hold(&connection).await {
                    Ok(held) => held,
                    Err(err) => {
                        eprintln!("palisade cluster watch: the Lease: {err}");
                        false
                    }
                };
                health.set_leader(held);
                leading.send_if_modified(|was| std::mem::replace(was, held) != held);
                tokio::time::sleep(every).await;
            }
        });
    }
    let mut cache = Cache::new(
        engine,
        Scoped::new(config, engine)?,
        connection.server.clone(),
        &types,
        !args.no_owner_folding,
        args.namespace.clone(),
    );
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut publisher = Publisher::default();
    // Whether every report is to be written again (a new leader, a failed write), not only
    // those that changed.
    let mut publish_all = true;
    let settle = Duration::from_millis(args.settle);
    let mut due: Option<Instant> = None;
    loop {
        let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { return Ok(()) };
                take(&mut cache, &mut listed, types.len(), &health, change);
                if health.is_ready() && due.is_none() {
                    due = Some(Instant::now() + settle);
                }
            }
            changed = leader.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                // A new leader writes every report again.
                publisher.reset();
                publish_all = true;
                if health.is_ready() && due.is_none() {
                    due = Some(Instant::now());
                }
            }
            () = tokio::time::sleep_until(deadline), if due.is_some() => {
                due = None;
                let began = Instant::now();
                let changed = cache.evaluate();
                // Only the groups evaluated again have new counts.
                health.set_findings(changed.iter().map(|g| (g.as_deref(), cache.findings(g))));
                if *leader.borrow() {
                    let Some(redactor) = cache.redactor() else {
                        eprintln!("palisade cluster watch: cannot prepare the masking of credentials; nothing is published");
                        publish_all = true;
                        continue;
                    };
                    let groups = if publish_all { cache.groups() } else { changed };
                    let written = publisher.namespaces();
                    let reports = groups
                        .iter()
                        .filter(|group| match group {
                            // A namespace without findings has a report only to empty it.
                            Some(ns) => !cache.findings(group).is_empty() || written.contains(ns),
                            None => true,
                        })
                        .map(|group| policy_report(group.as_deref(), cache.findings(group), redactor))
                        .collect();
                    match publisher.publish(&connection, reports).await {
                        Ok(_) => publish_all = false,
                        Err(err) => {
                            eprintln!("palisade cluster watch: {err}");
                            // Try again at the next change, or in a while.
                            publisher.reset();
                            publish_all = true;
                            due = Some(Instant::now() + Duration::from_secs(5));
                        }
                    }
                }
                // The changes that came during the evaluation have waited as long as it
                // took: their batch is due that much sooner.
                let mut more = false;
                while let Ok(change) = changes.try_recv() {
                    take(&mut cache, &mut listed, types.len(), &health, change);
                    more = true;
                }
                if more && health.is_ready() && due.is_none() {
                    due = Some(Instant::now() + settle.saturating_sub(began.elapsed()));
                }
            }
        }
    }
}

/// Records one change in the cache; ready once every resource type was listed.
fn take(
    cache: &mut Cache<'_>,
    listed: &mut BTreeSet<String>,
    types: usize,
    health: &Health,
    change: Change,
) {
    match change {
        Change::Listed { resource, objects } => {
            cache.listed(&resource, objects);
            listed.insert(resource.name());
            if listed.len() == types {
                health.set_ready(true);
            }
        }
        Change::Applied(object) => cache.apply(object),
        Change::Deleted(object) => cache.delete(object),
        Change::Failed(error) => eprintln!("palisade cluster watch: {error}"),
    }
}
