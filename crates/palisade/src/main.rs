//! The palisade command line.

mod cmd;
mod config;
mod input;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

/// One fast Kubernetes security scanner: manifests, admission, RBAC, NetworkPolicy and Pod
/// Security, with one rule set everywhere.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests against every rule.
    Scan(cmd::scan::ScanArgs),
    /// List the rules.
    Rules(cmd::rules::RulesArgs),
    /// Print the documentation of a rule.
    Explain(cmd::rules::ExplainArgs),
    /// Write a commented default .palisade.yaml.
    Init(cmd::rules::InitArgs),
    /// Apply automatic fixes (a diff, or --write to rewrite files).
    Fix(cmd::fix::FixArgs),
    /// NetworkPolicy reachability: list, evaluate and explain allowed connections.
    #[command(subcommand)]
    Netpol(cmd::netpol::NetpolCommand),
    /// RBAC from manifests or a cluster dump: who-can, can-i, graph, escalation paths.
    #[command(subcommand)]
    Rbac(cmd::rbac::RbacCommand),
    /// Run the admission webhook.
    Serve(Box<cmd::serve::ServeArgs>),
    /// Pod Security Admission's verdict on pods and workloads, and the level each namespace can
    /// enforce (`pss suggest`).
    Pss(cmd::pss::PssArgs),
    /// The CIS Kubernetes Benchmark checks of a node's files: control plane manifests, etcd, the
    /// kubelet, kube-proxy, kubeconfigs and PKI (the node it runs on, or a copy under --root).
    Node(cmd::node::NodeArgs),
    /// Threat detection on Kubernetes audit events with Falco rules files.
    Audit(cmd::audit::AuditArgs),
    /// Policy as code: test Gatekeeper ConstraintTemplates and Constraints with their suites.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Print a shell completion script to standard output: `source <(palisade completions bash)`.
    Completions(cmd::completions::CompletionsArgs),
    /// Write the man pages: palisade.1 and one per subcommand into --dir, or palisade.1 to
    /// standard output.
    Man(cmd::man::ManArgs),
    /// The live cluster: `cluster scan` checks the objects it runs.
    #[command(subcommand)]
    Cluster(cmd::cluster::ClusterCommand),
    /// Incident response: quarantine a pod with a NetworkPolicy, prove it with the
    /// NetworkPolicy engine, and keep the evidence (a plan unless --apply).
    Isolate(cmd::isolate::IsolateArgs),
}

/// Restores the default SIGPIPE action, so that `palisade rules | head` ends quietly like other
/// command-line tools instead of panicking on a closed pipe. Not for `serve`: a client that
/// closes its connection before the answer is written must never end the server.
#[cfg(unix)]
#[allow(unsafe_code)]
fn reset_sigpipe() {
    // SAFETY: called once at start-up, before any other thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn reset_sigpipe() {}

/// mimalloc's `mi_option_purge_delay` in its version 3 (`libmimalloc-sys` declares no constant
/// for it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc 3 keeps the memory it frees for a second before it returns it to the system (its
/// purge delay; version 2 waited 10 ms). A scan frees most of what it allocates soon after
/// (each object is decoded, checked and dropped, the inventory's analyses are built and
/// dropped): waiting a second, the 100k stream's peak held about 60 MB of memory already
/// freed. Returned after 10 ms, as mimalloc 2 did, it costs about 0.1 s of system time on that
/// stream. Set before anything is freed: mimalloc does not bring forward a purge it scheduled
/// with a longer delay. Returns the delay it replaces (none when `MIMALLOC_PURGE_DELAY` in the
/// environment decides).
fn return_freed_memory_sooner() -> Option<std::ffi::c_long> {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return None;
    }
    Some(set_purge_delay(10))
}

/// Sets mimalloc's purge delay (in milliseconds), returning the one it replaces.
#[allow(unsafe_code)]
fn set_purge_delay(delay: std::ffi::c_long) -> std::ffi::c_long {
    // SAFETY: mi_option_get and mi_option_set read and store an integer option; a delay of 0 or
    // more milliseconds is valid.
    unsafe {
        let before = libmimalloc_sys::mi_option_get(PURGE_DELAY);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, delay);
        before
    }
}

/// Returns to the system what this thread and the threads of rayon's pool have freed, between
/// two steps of a run. mimalloc purges the pages a thread freed when that thread next
/// allocates or frees: the pool's threads sleep while this one merges and sorts the findings
/// after the inventory rules, and this one waits while they run them. On the 100k stream,
/// each side held 40 to 55 MB of freed memory through the other's step.
pub(crate) fn purge_freed_memory() {
    rayon::broadcast(|_| collect_freed());
    collect_freed();
}

#[allow(unsafe_code)]
fn collect_freed() {
    // SAFETY: mi_collect frees and purges the calling thread's own pages.
    unsafe { libmimalloc_sys::mi_collect(false) }
}

/// Installed as `kubectl-palisade` (a kubectl plugin: `kubectl palisade cluster scan`), the
/// help and errors name the command as kubectl's user types it.
fn parse() -> Result<Cli, clap::Error> {
    let plugin = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|argv0| {
            argv0
                .file_stem()
                .map(|stem| stem.to_string_lossy().starts_with("kubectl-palisade"))
        })
        .unwrap_or(false);
    let mut command = Cli::command();
    if plugin {
        command = command.bin_name("kubectl palisade");
    }
    Cli::from_arg_matches(&command.try_get_matches()?)
}

fn main() -> ExitCode {
    let default_delay = return_freed_memory_sooner();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if matches!(cli.command, Command::Serve(_)) {
        // The server's memory is steady; its answers need not wait for the system calls that
        // return freed memory.
        if let Some(delay) = default_delay {
            set_purge_delay(delay);
        }
    } else {
        reset_sigpipe();
    }
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Rules(args) => cmd::rules::rules(args),
        Command::Explain(args) => cmd::rules::explain(args),
        Command::Init(args) => cmd::rules::init(args),
        Command::Fix(args) => cmd::fix::run(args),
        Command::Netpol(command) => cmd::netpol::run(command),
        Command::Rbac(command) => cmd::rbac::run(command),
        Command::Serve(args) => cmd::serve::run(*args),
        Command::Pss(args) => cmd::pss::run(args),
        Command::Node(args) => cmd::node::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Policy(command) => cmd::policy::run(command),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
        Command::Cluster(command) => cmd::cluster::run(command),
        Command::Isolate(args) => cmd::isolate::run(args),
    };
    result.unwrap_or_else(|err| {
        // A closed standard error must not turn the exit code into a panic's.
        let _ = writeln!(std::io::stderr().lock(), "error: {err:#}");
        ExitCode::from(2)
    })
}

/// Decoding allocates many small strings and maps on every thread; mimalloc (built with the
/// `cc` defaults) makes a corpus scan about 40% faster than the system allocator. Its `no_thp`
/// feature keeps the kernel from zeroing whole 2 MiB pages for sparse heaps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod tests {
    use super::*;

    /// The option set is mimalloc's purge delay: its default (1000 ms in version 3, or what the
    /// environment says) until it is set to 10 ms, and back.
    #[test]
    fn freed_memory_is_returned_after_10_ms() {
        let configured: Option<std::ffi::c_long> = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .map(|delay| delay.parse().expect("a delay in milliseconds"));
        match return_freed_memory_sooner() {
            Some(default) => {
                assert_eq!((configured, default), (None, 1000));
                assert_eq!(set_purge_delay(default), 10);
            }
            None => assert!(configured.is_some()),
        }
    }
}
