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
    /// Output format: `text` for a terminal (wrapped, colours on a terminal only), or
    /// `markdown` (the page in docs/rules/).
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
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
    let markdown = rule_markdown(rule);
    match args.format {
        ExplainFormat::Markdown => print!("{markdown}"),
        ExplainFormat::Text => {
            let text = terminal::render(&markdown, terminal::width());
            crate::cmd::scan::write_output(&text, None)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Markdown rendered for a terminal: headings in bold, inline code in colour (ANSI codes, that
/// the output strips where it is not a terminal), paragraphs and list items wrapped, tables as
/// `header: value` lines, code blocks indented, links as their text (and address, for web
/// links).
mod terminal {
    const BOLD: &str = "\x1b[1m";
    const CODE: &str = "\x1b[36m";
    const RESET: &str = "\x1b[0m";

    /// The width to wrap at: `COLUMNS` when set, else 80; at most 100.
    pub fn width() -> usize {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|&c| c >= 20)
            .unwrap_or(80)
            .min(100)
    }

    /// The inline markup of one line rendered: code spans, bold, links.
    fn inline(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '`' {
                if let Some(end) = rest[1..].find('`') {
                    out.push_str(CODE);
                    out.push_str(&rest[1..=end]);
                    out.push_str(RESET);
                    rest = &rest[end + 2..];
                    continue;
                }
            }
            if let Some(after) = rest.strip_prefix("**") {
                if let Some(end) = after.find("**") {
                    out.push_str(BOLD);
                    out.push_str(&inline(&after[..end]));
                    out.push_str(RESET);
                    rest = &after[end + 2..];
                    continue;
                }
            }
            if c == '[' {
                if let Some((label, url, len)) = link(rest) {
                    out.push_str(&inline(label));
                    let plain: String = label.chars().filter(|&c| c != '`').collect();
                    if url.starts_with("http") && plain != url {
                        out.push_str(&format!(" ({url})"));
                    }
                    rest = &rest[len..];
                    continue;
                }
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// `[label](url)` at the start of `text`: the label, the address and the length.
    fn link(text: &str) -> Option<(&str, &str, usize)> {
        let close = text.find("](")?;
        let end = close + 2 + text[close + 2..].find(')')?;
        Some((&text[1..close], &text[close + 2..end], end + 1))
    }

    /// The visible width of rendered text (without the ANSI codes).
    fn visible(text: &str) -> usize {
        let mut n = 0;
        let mut escape = false;
        for c in text.chars() {
            match (escape, c) {
                (false, '\x1b') => escape = true,
                (true, 'm') => escape = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    }

    /// Wraps rendered text at `width`, the first line after `first`, the others after
    /// `indent`.
    fn wrap(text: &str, width: usize, first: &str, indent: &str, out: &mut String) {
        let mut line = first.to_owned();
        let mut len = visible(first);
        let mut empty = true;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let w = visible(word);
            if !empty && len + 1 + w > width {
                out.push_str(line.trim_end());
                out.push('\n');
                line = indent.to_owned();
                len = visible(indent);
                empty = true;
            }
            if !empty {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += w;
            empty = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }

    fn cells(line: &str) -> Vec<&str> {
        let line = line.trim().trim_start_matches('|').trim_end_matches('|');
        line.split('|').map(str::trim).collect()
    }

    pub fn render(markdown: &str, width: usize) -> String {
        let mut out = String::new();
        let mut lines = markdown.lines().peekable();
        while let Some(line) = lines.next() {
            if line.starts_with("```") {
                for code in lines.by_ref() {
                    if code.starts_with("```") {
                        break;
                    }
                    out.push_str(&format!("    {CODE}{code}{RESET}\n"));
                }
            } else if line.starts_with('#') {
                let title = line.trim_start_matches('#').trim();
                out.push_str(&format!("{BOLD}{}{RESET}\n", inline(title)));
            } else if line.starts_with('|') {
                let header = cells(line);
                // The separator row, then one `header: value` line per cell of each row.
                lines.next_if(|l| l.starts_with("|-") || l.starts_with("|:"));
                while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                    for (name, value) in header.iter().zip(cells(row)) {
                        let first = format!("{BOLD}{name}{RESET}: ");
                        wrap(&inline(value), width, &first, "  ", &mut out);
                    }
                }
            } else if let Some(item) = line.strip_prefix("- ") {
                wrap(&inline(item), width, "  • ", "    ", &mut out);
            } else if line.trim().is_empty() {
                out.push('\n');
            } else {
                // A paragraph: its lines joined.
                let mut text = line.to_owned();
                while let Some(more) = lines.next_if(|l| {
                    !l.trim().is_empty()
                        && !l.starts_with('#')
                        && !l.starts_with("```")
                        && !l.starts_with('|')
                        && !l.starts_with("- ")
                }) {
                    text.push(' ');
                    text.push_str(more);
                }
                wrap(&inline(&text), width, "", "", &mut out);
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn markdown_is_rendered_without_its_syntax_and_wrapped() {
            let text = render(
                "# POD001 `x`: Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nSet **this** \
                 `field` now, see [T1611](https://e.x/T1611) and [PSS007](PSS007.md) and \
                 more words here.\n\n```yaml\nkey: value\n```\n- item\n",
                30,
            );
            let plain = anstream::adapter::strip_str(&text).to_string();
            assert_eq!(
                plain,
                "POD001 x: Title\n\na: 1\nb: 2\n\nSet this field now, see T1611\n\
                 (https://e.x/T1611) and PSS007\nand more words here.\n\n    key: value\n  \
                 • item\n"
            );
            assert!(text.contains(&format!("{CODE}field{RESET}")));
        }
    }
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
