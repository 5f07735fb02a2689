//! `palisade rules`, `palisade explain`, `palisade init`.

use std::process::ExitCode;

use clap::Args;
use palisade_rules::{
    config::DEFAULT_CONFIG, docs::rule_markdown, registry, resolve_selector, Applicability,
};
use serde_json::json;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: RulesFormat,
    /// List only the rules of these categories (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
    pub category: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

pub fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let mut known: Vec<&str> = registry().iter().map(|r| r.meta().category).collect();
    known.sort_unstable();
    known.dedup();
    if let Some(unknown) = args.category.iter().find(|c| !known.contains(&c.as_str())) {
        anyhow::bail!(
            "unknown category {unknown:?}; the categories are: {}",
            known.join(", ")
        );
    }
    let listed: Vec<_> = registry()
        .iter()
        .filter(|r| {
            args.category.is_empty() || args.category.iter().any(|c| c == r.meta().category)
        })
        .collect();
    if args.format == RulesFormat::Json {
        let list: Vec<_> = listed
            .iter()
            .map(|r| {
                let mut rule = json!(r.meta());
                rule["fix_safety"] = json!(r.fix_safety());
                rule
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = listed
        .iter()
        .map(|r| r.meta().slug.len())
        .max()
        .unwrap_or(0);
    for rule in listed {
        let m = rule.meta();
        println!(
            "{:<8} {:<width$}  {:<8}  {:<9}  {}{}",
            m.id,
            m.slug,
            m.severity.as_str(),
            m.category,
            m.title,
            match rule.fix_safety().map(|s| s.applicability) {
                None => "",
                Some(Some(Applicability::Safe)) => " (safe fix)",
                Some(Some(Applicability::Unsafe)) => " (unsafe fix)",
                Some(None) => " (safe or unsafe fix)",
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule ID or slug.
    pub rule: String,
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let rules = resolve_selector(&args.rule)?;
    let [rule] = rules[..] else {
        anyhow::bail!(
            "{:?} names a category of {} rules; name one: {}",
            args.rule,
            rules.len(),
            rules
                .iter()
                .map(|r| r.meta().id)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    print!("{}", rule_markdown(rule));
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing .palisade.yaml.
    #[arg(long)]
    pub force: bool,
}

pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let path = std::path::Path::new(palisade_rules::config::CONFIG_FILE);
    if path.exists() && !args.force {
        anyhow::bail!("{} exists; use --force to overwrite it", path.display());
    }
    std::fs::write(path, DEFAULT_CONFIG)?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}
