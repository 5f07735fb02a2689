//! The configuration of a run, found and parsed once: the rules configuration (`.palisade.yaml`
//! in the current directory or a parent, or the file `--config` names) and the webhook settings
//! (its `webhook:` section, or the file `serve --webhook-config` names).

use std::path::{Path, PathBuf};

use clap::Args;
use palisade_rules::Config;
use palisade_server::WebhookConfig;

/// The flags that choose the configuration file.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (default: .palisade.yaml in the current directory or a parent).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// A run's configuration, every section parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Rule selection, severities, excludes, rule settings and suppressions. Its raw `webhook`
    /// section is taken into [`Settings::webhook`].
    pub rules: Config,
    /// What the admission webhook does with findings.
    pub webhook: WebhookConfig,
}

impl ConfigArgs {
    /// The configuration file these flags name, if any: `--config`, else `.palisade.yaml` in
    /// `dir` or its nearest parent, and none with `--no-config`.
    pub fn path(&self, dir: &Path) -> Option<PathBuf> {
        if self.no_config {
            return None;
        }
        self.config.clone().or_else(|| Config::discover(dir))
    }

    /// Reads the configuration from the current directory; `webhook_file` (a file with a
    /// `webhook:` key) replaces the configuration's own `webhook:` section, which is then not
    /// read.
    pub fn load(&self, webhook_file: Option<&Path>) -> anyhow::Result<Settings> {
        let dir = std::env::current_dir()?;
        Settings::read(self.path(&dir).as_deref(), webhook_file)
    }
}

impl Settings {
    /// Reads the rules configuration at `path` (the defaults without one) and the webhook
    /// settings of `webhook_file`, or else of the configuration's `webhook:` section.
    pub fn read(path: Option<&Path>, webhook_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut rules = match path {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        let section = rules.webhook.take();
        let webhook = match (webhook_file, section, path) {
            (Some(file), _, _) => WebhookConfig::from_file(file)?,
            (None, Some(section), Some(path)) => {
                WebhookConfig::from_section(section, &path.display().to_string())?
            }
            (None, _, _) => WebhookConfig::default(),
        };
        Ok(Settings { rules, webhook })
    }
}

#[cfg(test)]
mod tests {
    use palisade_core::rule::Severity;
    use palisade_server::Mode;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn one_file_holds_the_rules_and_the_webhook_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            ".palisade.yaml",
            "fail-on: high\nwebhook:\n  mode: warn\n",
        );
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let args = ConfigArgs {
            config: None,
            no_config: false,
        };
        assert_eq!(args.path(&sub), Some(path.clone()));
        let settings = Settings::read(Some(&path), None).unwrap();
        assert_eq!(settings.rules.fail_on, Some(Severity::High));
        assert_eq!(
            settings.rules.webhook, None,
            "the section is taken, not kept twice"
        );
        assert_eq!(
            settings.webhook.mode("POD001", Severity::Critical, None),
            Mode::Warn
        );
        let none = ConfigArgs {
            config: None,
            no_config: true,
        };
        assert_eq!(none.path(&sub), None);
    }

    #[test]
    fn a_webhook_file_replaces_the_section_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "rules.yaml", "webhook:\n  mode: nonsense\n");
        let file = write(dir.path(), "webhook.yaml", "webhook:\n  mode: audit\n");
        let settings = Settings::read(Some(&path), Some(&file)).unwrap();
        assert_eq!(
            settings.webhook.mode("POD001", Severity::Critical, None),
            Mode::Audit
        );
        let err = Settings::read(Some(&path), None).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: webhook:", path.display())),
            "{err}"
        );
        assert!(err.contains("unknown mode \"nonsense\""), "{err}");
    }
}
