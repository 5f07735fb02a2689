//! `palisade isolate`: quarantine a compromised pod, prove it, and keep the evidence.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use palisade_cluster::{connect, ConnectOptions};
use palisade_isolate::{isolate, kubeconfig_user, undo, Options, Request};

use crate::cmd::cluster::ConnectArgs;

#[derive(Debug, Args)]
pub struct IsolateArgs {
    /// The pod to quarantine.
    #[arg(value_name = "POD")]
    pub pod: String,
    /// Its namespace.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: String,
    /// Change the cluster. Without it the plan is printed and nothing changes.
    #[arg(long)]
    pub apply: bool,
    /// Write the evidence (pod, owners, events, logs, policies, services, SHA-256 manifest)
    /// into a new directory under DIR, before anything changes.
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Why, recorded on the pod.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The incident id (lower-case letters, digits, '-'). Default: the pod's current
    /// incident, or one made from the time.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Also remove the labels the pod's Services and controller select it with: traffic stops
    /// going to it and the controller starts a replacement, while the pod is kept.
    #[arg(long)]
    pub detach: bool,
    /// Remove exactly what the incident (--incident) added.
    #[arg(long, requires = "incident", conflicts_with_all = ["apply", "detach", "evidence", "reason"])]
    pub undo: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn run(args: IsolateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let options = ConnectOptions {
        kubeconfig: args.connect.kubeconfig.clone(),
        context: args.connect.context.clone(),
        timeout: Some(Duration::from_secs(args.connect.request_timeout.max(1))),
    };
    let connection = runtime.block_on(connect(&options))?;
    let client = connection.client;
    let mut stdout = std::io::stdout().lock();
    if args.undo {
        let incident = args.incident.as_deref().unwrap_or_default();
        let done = runtime.block_on(undo(&client, &args.namespace, &args.pod, incident))?;
        if done.is_empty() {
            writeln!(
                stdout,
                "Nothing to undo: pod {}/{} and its namespace carry nothing of incident {incident}.",
                args.namespace, args.pod
            )?;
        }
        for step in done {
            writeln!(stdout, "done: {step}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let by = kubeconfig_user(
        args.connect.kubeconfig.as_deref(),
        args.connect.context.as_deref(),
    )
    .unwrap_or_else(|| "unknown (no kubeconfig user)".to_owned());
    let request = Request {
        namespace: args.namespace,
        pod: args.pod,
        incident: args.incident,
        reason: args.reason,
        by,
        detach: args.detach,
        now: jiff::Timestamp::now(),
    };
    let options = Options {
        apply: args.apply,
        evidence: args.evidence,
    };
    let outcome = runtime.block_on(isolate(&client, &request, &options))?;
    let text = outcome.render();
    let code = outcome.exit_code();
    write!(stdout, "{text}")?;
    stdout.flush()?;
    if code != 0 {
        // Loud: a line on standard error too, for when standard output goes to a file.
        let state = match (code, options.apply) {
            (2, _) => "is NOT known to be isolated: a step failed",
            (_, true) => "is NOT isolated",
            (_, false) => "would NOT be isolated by the plan",
        };
        writeln!(
            std::io::stderr().lock(),
            "error: incident {}: pod {}/{} {state} (see the report)",
            outcome.plan.incident.id,
            outcome.plan.namespace,
            outcome.plan.pod,
        )?;
    }
    Ok(ExitCode::from(code))
}
