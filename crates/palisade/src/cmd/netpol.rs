//! `palisade netpol`: NetworkPolicy reachability from manifests (list, eval, explain).

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use palisade_core::LoadError;
use palisade_netpol::{
    connlist, eval, explain, render, Direction, EvalResult, Format, Input, ListOptions, Protocol,
    Step, Verdict,
};
use serde_json::{json, Value};

use crate::cmd::scan::write_output;
use crate::input::{load_all, InputArgs};

#[derive(Debug, Subcommand)]
pub enum NetpolCommand {
    /// List every allowed connection between workloads and external address ranges.
    List(ListArgs),
    /// Decide whether one workload may connect to another on a protocol and port (exit 0 when
    /// allowed, 1 when denied).
    Eval(EvalArgs),
    /// For each pair of peers, the policy rules that allow or deny their connections.
    Explain(ExplainArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// netpol-analyzer's text (`text` works too, as in the other commands).
    #[value(alias = "text")]
    Txt,
    Json,
    Csv,
    Md,
    Dot,
}

impl ListFormat {
    fn format(self) -> Format {
        match self {
            ListFormat::Txt => Format::Txt,
            ListFormat::Json => Format::Json,
            ListFormat::Csv => Format::Csv,
            ListFormat::Md => Format::Md,
            ListFormat::Dot => Format::Dot,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FocusDirection {
    Ingress,
    Egress,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "txt")]
    pub format: ListFormat,
    /// Only connections from or to this workload (`name` or `ns/name`); repeatable.
    #[arg(long, value_name = "WORKLOAD")]
    pub focus_workload: Vec<String>,
    /// With --focus-workload: only connections whose other end is this workload; repeatable.
    #[arg(long, value_name = "WORKLOAD", requires = "focus_workload")]
    pub focus_workload_peer: Vec<String>,
    /// With --focus-workload: only its ingress or only its egress connections.
    #[arg(long, value_enum, value_name = "DIRECTION")]
    pub focus_direction: Option<FocusDirection>,
    /// Only this protocol and port, e.g. `tcp-8080`.
    #[arg(long, value_name = "PROTOCOL-PORT", value_parser = parse_focus_conn)]
    pub focus_conn: Option<(Protocol, u16)>,
    /// Write the list to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<String>,
}

fn parse_focus_conn(text: &str) -> Result<(Protocol, u16), String> {
    ListOptions::parse_focus_conn(text)
        .ok_or_else(|| format!("expected PROTOCOL-PORT such as tcp-8080, got {text:?}"))
}

fn parse_protocol(text: &str) -> Result<Protocol, String> {
    Protocol::parse(text).ok_or_else(|| format!("expected TCP, UDP or SCTP, got {text:?}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The connecting workload, as `namespace/name`, or an IPv4 address or CIDR.
    #[arg(long, value_name = "NS/NAME|IP|CIDR")]
    pub source: String,
    /// The workload connected to, as `namespace/name`, or an IPv4 address or CIDR.
    #[arg(long, value_name = "NS/NAME|IP|CIDR")]
    pub destination: String,
    /// TCP, UDP or SCTP.
    #[arg(long, default_value = "TCP", value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// Destination port.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: EvalFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(command: NetpolCommand) -> anyhow::Result<ExitCode> {
    match command {
        NetpolCommand::List(args) => list(args),
        NetpolCommand::Eval(args) => eval_cmd(args),
        NetpolCommand::Explain(args) => {
            let (input, errors) = load(&args.input);
            print!("{}", explain(&input));
            Ok(input_status(&errors).unwrap_or(ExitCode::SUCCESS))
        }
    }
}

/// Loads every input, reporting load errors and model warnings on standard error.
fn load(args: &InputArgs) -> (Input, Vec<LoadError>) {
    let loaded = load_all(args);
    for e in &loaded.errors {
        eprintln!(
            "error: {}:{}:{}: {}",
            e.file, e.pos.line, e.pos.col, e.message
        );
    }
    let input = Input::from_objects(&loaded.objects);
    for w in &input.warnings {
        eprintln!("warning: {w}");
    }
    (input, loaded.errors)
}

/// Exit code 2 when some input could not be read (the result covers the rest only).
fn input_status(errors: &[LoadError]) -> Option<ExitCode> {
    (!errors.is_empty()).then(|| ExitCode::from(2))
}

fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let (input, errors) = load(&args.input);
    let opts = ListOptions {
        focus_workloads: args.focus_workload,
        focus_workload_peers: args.focus_workload_peer,
        focus_direction: match args.focus_direction {
            None => Direction::Both,
            Some(FocusDirection::Ingress) => Direction::Ingress,
            Some(FocusDirection::Egress) => Direction::Egress,
        },
        focus_conn: args.focus_conn,
    };
    let list = connlist(&input, &opts);
    for w in &list.warnings {
        eprintln!("warning: {w}");
    }
    let mut text = render(&list, args.format.format());
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    write_output(&text, args.output.as_deref())?;
    Ok(input_status(&errors).unwrap_or(ExitCode::SUCCESS))
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
        Verdict::Pass => "pass",
        Verdict::Isolate => "isolate",
    }
}

fn step_json(step: &Step) -> Value {
    json!({
        "direction": if step.ingress { "ingress" } else { "egress" },
        "policy": step.policy,
        "rule": step.rule,
        "verdict": verdict_name(step.verdict),
        "connections": step.conns.to_string(),
    })
}

fn eval_json(args: &EvalArgs, result: &EvalResult) -> Value {
    json!({
        "allowed": result.allowed,
        "source": args.source,
        "destination": args.destination,
        "protocol": args.protocol.as_str(),
        "port": args.port,
        "policies": result.policies,
        "ranges": result.ranges.iter().map(|(range, allowed)| json!({
            "range": range,
            "allowed": allowed,
        })).collect::<Vec<_>>(),
        "steps": result.steps.iter().map(step_json).collect::<Vec<_>>(),
    })
}

fn eval_cmd(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let (input, errors) = load(&args.input);
    let result = eval(
        &input,
        &args.source,
        &args.destination,
        args.protocol,
        args.port,
    )?;
    match args.format {
        EvalFormat::Json => println!("{}", eval_json(&args, &result)),
        EvalFormat::Text => {
            println!(
                "{}: {} => {} {}/{}",
                if result.allowed { "allowed" } else { "denied" },
                args.source,
                args.destination,
                args.protocol.as_str(),
                args.port
            );
            for (range, allowed) in &result.ranges {
                let verdict = if *allowed { "allowed" } else { "denied" };
                println!("\t{range}: {verdict}");
            }
            if result.steps.is_empty() {
                println!("\tno policy applies: the system default allows it");
            }
            for step in &result.steps {
                println!("\t{step}");
            }
        }
    }
    Ok(input_status(&errors).unwrap_or(if result.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }))
}
