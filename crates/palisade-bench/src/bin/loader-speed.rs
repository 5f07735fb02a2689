//! `loader-speed [--runs N] PATH...`: times palisade's loader and a raw pass of the YAML parser
//! it is built on over the same files (directories are walked for `.yaml`, `.yml`, `.json`),
//! and prints one JSON line: bytes, files, objects and the median seconds of each.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use palisade_bench::{data, raw_parse_events};
use palisade_core::{load_str, Limits};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() -> ExitCode {
    let mut runs = 5usize;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--runs" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(n) if n > 0 => runs = n,
                _ => {
                    eprintln!("loader-speed: --runs needs a positive number");
                    return ExitCode::from(2);
                }
            }
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    if paths.is_empty() {
        eprintln!("usage: loader-speed [--runs N] PATH...");
        return ExitCode::from(2);
    }
    let mut texts = Vec::new();
    for path in &paths {
        let files = if path.is_dir() {
            data::manifest_files(path)
        } else {
            vec![path.clone()]
        };
        for file in files {
            match std::fs::read(&file) {
                Ok(bytes) => texts.push(String::from_utf8_lossy(&bytes).into_owned()),
                Err(err) => {
                    eprintln!("loader-speed: {}: {err}", file.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let limits = Limits::default();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut raw = Vec::new();
    let mut load = Vec::new();
    let mut objects = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let events: usize = texts.iter().map(|t| raw_parse_events(t).unwrap_or(0)).sum();
        raw.push(start.elapsed().as_secs_f64());
        std::hint::black_box(events);
        let start = Instant::now();
        objects = texts
            .iter()
            .map(|t| load_str(t, "input.yaml", &limits).objects.len())
            .sum();
        load.push(start.elapsed().as_secs_f64());
    }
    println!(
        "{{\"bytes\": {bytes}, \"files\": {}, \"objects\": {objects}, \"raw_parser_s\": {:.6}, \"loader_s\": {:.6}}}",
        texts.len(),
        median(raw),
        median(load)
    );
    ExitCode::SUCCESS
}
