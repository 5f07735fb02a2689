//! Policy levels and versions, parsed and printed as Pod Security Admission does.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// The newest policy version in which any check changed. `latest` and every newer `v1.N` are
/// evaluated as this version.
pub const NEWEST_POLICY_MINOR: u32 = 37;

/// A Pod Security Standards level, ordered from least to most strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Privileged, Level::Baseline, Level::Restricted];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The next stricter level, if any.
    pub fn stricter(self) -> Option<Level> {
        match self {
            Level::Privileged => Some(Level::Baseline),
            Level::Baseline => Some(Level::Restricted),
            Level::Restricted => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A level string that is not `privileged`, `baseline` or `restricted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelError;

impl fmt::Display for LevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("must be one of privileged, baseline, restricted")
    }
}

impl std::error::Error for LevelError {}

impl FromStr for Level {
    type Err = LevelError;

    /// Exact, case-sensitive match.
    fn from_str(s: &str) -> Result<Level, LevelError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(LevelError),
        }
    }
}

/// A policy version: `latest` or `v1.N`.
///
/// Only major version 1 exists; `v1.0` is the oldest. A `v1.N` newer than
/// [`NEWEST_POLICY_MINOR`] is valid and evaluated as the newest policy, like `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    Minor(u32),
}

impl Version {
    /// The policy minor version the checks are evaluated at.
    pub fn policy_minor(self) -> u32 {
        match self {
            Version::Latest => NEWEST_POLICY_MINOR,
            Version::Minor(minor) => minor.min(NEWEST_POLICY_MINOR),
        }
    }
}

impl Ord for Version {
    /// `latest` is newer than every `v1.N`.
    fn cmp(&self, other: &Version) -> Ordering {
        match (self, other) {
            (Version::Latest, Version::Latest) => Ordering::Equal,
            (Version::Latest, Version::Minor(_)) => Ordering::Greater,
            (Version::Minor(_), Version::Latest) => Ordering::Less,
            (Version::Minor(a), Version::Minor(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(minor) => write!(f, "v1.{minor}"),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A version string that is neither `latest` nor `v1.N`. Admission evaluates such a value as
/// `latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError;

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"must be "latest" or "v1.x""#)
    }
}

impl std::error::Error for VersionError {}

impl FromStr for Version {
    type Err = VersionError;

    /// `latest`, or `v1.` followed by `0` or a number without leading zeros. Minors beyond
    /// `u32::MAX` (still valid for admission, which evaluates them as the newest policy) are
    /// held as `u32::MAX`.
    fn from_str(s: &str) -> Result<Version, VersionError> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let digits = s.strip_prefix("v1.").ok_or(VersionError)?;
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !well_formed {
            return Err(VersionError);
        }
        // Admission parses the number as a signed 64-bit integer.
        let minor: i64 = digits.parse().map_err(|_| VersionError)?;
        Ok(Version::Minor(u32::try_from(minor).unwrap_or(u32::MAX)))
    }
}

/// A level at a version, printed `level:version` (`restricted:v1.30`, `baseline:latest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub fn new(level: Level, version: Version) -> LevelVersion {
        LevelVersion { level, version }
    }
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

impl Serialize for LevelVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_exactly() {
        assert_eq!("restricted".parse(), Ok(Level::Restricted));
        assert_eq!("baseline".parse(), Ok(Level::Baseline));
        assert_eq!("privileged".parse(), Ok(Level::Privileged));
        assert_eq!("Restricted".parse::<Level>(), Err(LevelError));
        assert_eq!(" baseline".parse::<Level>(), Err(LevelError));
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
    }

    #[test]
    fn parses_versions_like_admission() {
        assert_eq!("latest".parse(), Ok(Version::Latest));
        assert_eq!("v1.0".parse(), Ok(Version::Minor(0)));
        assert_eq!("v1.30".parse(), Ok(Version::Minor(30)));
        assert_eq!("v1.99".parse(), Ok(Version::Minor(99)));
        for bad in [
            "", "v1", "v1.", "v1.01", "v2.0", "v0.9", "1.30", "v1.30.0", "v1.-1", "Latest",
        ] {
            assert_eq!(bad.parse::<Version>(), Err(VersionError), "{bad}");
        }
        assert_eq!(
            "v1.99999999999".parse(),
            Ok(Version::Minor(u32::MAX)),
            "valid for admission"
        );
        assert_eq!(
            "v1.99999999999999999999".parse::<Version>(),
            Err(VersionError),
            "overflows admission's integer"
        );
    }

    #[test]
    fn newer_versions_evaluate_as_newest_policy() {
        assert_eq!(Version::Latest.policy_minor(), NEWEST_POLICY_MINOR);
        assert_eq!(Version::Minor(99).policy_minor(), NEWEST_POLICY_MINOR);
        assert_eq!(Version::Minor(25).policy_minor(), 25);
        assert!(Version::Minor(u32::MAX) < Version::Latest);
    }

    #[test]
    fn displays_like_admission() {
        let lv = LevelVersion::new(Level::Restricted, Version::Minor(30));
        assert_eq!(lv.to_string(), "restricted:v1.30");
        let lv = LevelVersion::new(Level::Baseline, Version::Latest);
        assert_eq!(lv.to_string(), "baseline:latest");
    }
}
