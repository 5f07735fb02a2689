//! `gen-manifests N [--seed S] [-o FILE]`: writes a deterministic stream of N synthetic
//! Kubernetes objects (see `palisade_bench::manifests`) to FILE or standard output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: gen-manifests N [--seed S] [-o FILE]";

struct Args {
    count: usize,
    seed: u64,
    output: Option<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut count = None;
    let mut seed = 1;
    let mut output = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => {
                let value = args.next().ok_or("--seed needs a value")?;
                seed = value.parse().map_err(|_| format!("bad seed {value:?}"))?;
            }
            "-o" | "--output" => output = Some(args.next().ok_or("-o needs a file")?),
            "-h" | "--help" => return Err(String::new()),
            _ if count.is_none() => {
                count = Some(arg.parse().map_err(|_| format!("bad count {arg:?}"))?);
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(Args {
        count: count.ok_or("missing N")?,
        seed,
        output,
    })
}

fn run(args: &Args) -> io::Result<()> {
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(File::create(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    palisade_bench::manifests::write_stream(args.count, args.seed, &mut out)?;
    out.flush()
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("gen-manifests: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen-manifests: {err}");
            ExitCode::FAILURE
        }
    }
}
