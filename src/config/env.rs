//! The environment memoria reads: process variables over `.env` values.
//!
//! cli.md §3: a flag beats the process environment, which beats the
//! `.env` file, which beats the built-in default. Loading the file never
//! changes the process environment; [`Env`] merges both views instead,
//! and the variables memoria understands are validated once, at load.

use std::collections::HashMap;
use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

use super::{dotenv, paths, UsageError};

/// Integer variables checked at load time, with their allowed range
/// (cli.md §3).
const INTEGERS: [(&str, u32, u32); 1] = [("IMMICH_UPLOAD_CONCURRENCY", 1, 64)];

/// Boolean variables checked at load time, in the table order of cli.md
/// §3.
const BOOLEANS: [&str; 3] =
    ["IMMICH_SKIP_HASH", "CONSOLIDATE_EXPORTS", "DISABLE_TEMP_CLEANUP"];

/// The merged environment: process variables, then `.env` values for the
/// names the process does not set.
#[derive(Clone, Default)]
pub(crate) struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// Returns the value of `key`: the process environment's when set
    /// there, else the `.env` file's. An empty value is returned as is.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Returns the boolean `key` (cli.md §3); `None` when unset, empty
    /// or not a boolean ([`Env::validate`] already refused the latter).
    pub(crate) fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(|v| parse_bool(v).ok().flatten())
    }

    /// Returns the integer `key` within `min..=max`; `None` when unset,
    /// empty or invalid.
    pub(crate) fn integer(&self, key: &str, min: u32, max: u32) -> Option<u32> {
        self.get(key).and_then(|v| parse_integer(v, min, max).ok().flatten())
    }

    /// Returns `process` plus every `.env` entry whose name the process
    /// does not set; among file entries a later duplicate wins.
    fn merge(
        process: HashMap<String, String>,
        file: Vec<(String, String)>,
    ) -> Env {
        let file: HashMap<String, String> = file.into_iter().collect();
        let mut vars = process;
        for (key, value) in file {
            vars.entry(key).or_insert(value);
        }
        Env { vars }
    }

    /// Checks every variable this version understands (cli.md §12 step
    /// 6), integers first, then booleans, in the order of cli.md §3.
    fn validate(&self) -> Result<(), UsageError> {
        for (key, min, max) in INTEGERS {
            let Some(value) = self.get(key) else { continue };
            if parse_integer(value, min, max).is_err() {
                return Err(UsageError::new(format!(
                    "invalid {key} value '{value}': expected a whole \
                     number from {min} to {max}"
                )));
            }
        }
        for key in BOOLEANS {
            let Some(value) = self.get(key) else { continue };
            if parse_bool(value).is_err() {
                return Err(UsageError::new(format!(
                    "invalid {key} value '{value}': expected true, 1, yes, \
                     on, false, 0, no or off"
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Env {
    // The values include API keys, which must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Env {{ {} variables }}", self.vars.len())
    }
}

/// Reads the `.env` file (`--env-file` or `./.env`), merges it under the
/// `process` variables and validates the result.
///
/// A missing default file is ignored; a missing explicit one is a usage
/// error, as is a file that cannot be read or is not UTF-8.
pub(super) fn load(
    explicit: Option<&Path>,
    cwd: &Path,
    process: &HashMap<String, String>,
) -> Result<Env, UsageError> {
    let entries = match explicit {
        Some(path) => read_explicit(&paths::resolve(cwd, path))?,
        None => read_default(&cwd.join(".env"))?,
    };
    let env = Env::merge(process.clone(), entries);
    env.validate()?;
    Ok(env)
}

/// Reads the file named by `--env-file`, which must exist.
fn read_explicit(path: &Path) -> Result<Vec<(String, String)>, UsageError> {
    match std::fs::metadata(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => Err(UsageError::new(
            format!("Environment file does not exist: {}", path.display()),
        )),
        Ok(meta) if !meta.is_file() => Err(UsageError::new(format!(
            "Environment path is not a file: {}",
            path.display()
        ))),
        _ => read(path),
    }
}

/// Reads `./.env` when it is a file.
fn read_default(path: &Path) -> Result<Vec<(String, String)>, UsageError> {
    // A missing file is normal, and a folder named `.env` (often a Python
    // virtual environment) is not a settings file.
    if !path.is_file() {
        return Ok(Vec::new());
    }
    read(path)
}

/// Reads and parses one `.env` file, warning about skipped lines.
fn read(path: &Path) -> Result<Vec<(String, String)>, UsageError> {
    let bytes = std::fs::read(path).map_err(|err| {
        UsageError::new(format!(
            "failed to read environment file {}: {err}",
            path.display()
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        UsageError::new(format!(
            "environment file {} is not UTF-8 text",
            path.display()
        ))
    })?;
    let parsed = dotenv::parse(&text);
    for line in parsed.skipped {
        log::warn!("ignoring line {line} of {}: no '='", path.display());
    }
    Ok(parsed.entries)
}

/// Reads a boolean (cli.md §3); `Ok(None)` for an empty value.
fn parse_bool(value: &str) -> Result<Option<bool>, ()> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// Reads a plain decimal in `min..=max`; `Ok(None)` for an empty value.
fn parse_integer(value: &str, min: u32, max: u32) -> Result<Option<u32>, ()> {
    let text = value.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn file(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn process_environment_wins_over_the_file() {
        let env = Env::merge(
            vars(&[("A", "process"), ("EMPTY", "")]),
            file(&[
                ("A", "file"),
                ("B", "first"),
                ("B", "second"),
                ("EMPTY", "x"),
            ]),
        );
        assert_eq!(env.get("A"), Some("process"));
        assert_eq!(env.get("B"), Some("second"));
        assert_eq!(env.get("EMPTY"), Some(""));
        assert_eq!(env.get("MISSING"), None);
    }

    #[test]
    fn booleans_follow_the_table() {
        let cases = [
            ("true", Ok(Some(true))),
            (" YES ", Ok(Some(true))),
            ("On", Ok(Some(true))),
            ("1", Ok(Some(true))),
            ("FALSE", Ok(Some(false))),
            ("no", Ok(Some(false))),
            ("off", Ok(Some(false))),
            ("0", Ok(Some(false))),
            ("", Ok(None)),
            ("  ", Ok(None)),
            ("maybe", Err(())),
            ("2", Err(())),
            ("y", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bool(text), want, "{text:?}");
        }
    }

    #[test]
    fn integers_must_be_plain_and_in_range() {
        let cases = [
            ("1", Ok(Some(1))),
            (" 64 ", Ok(Some(64))),
            ("", Ok(None)),
            ("0", Err(())),
            ("65", Err(())),
            ("+4", Err(())),
            ("-1", Err(())),
            ("4.0", Err(())),
            ("99999999999", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_integer(text, 1, 64), want, "{text:?}");
        }
    }

    #[test]
    fn validation_names_the_variable() {
        let message = |pairs: &[(&str, &str)]| {
            let env = Env::merge(vars(pairs), Vec::new());
            env.validate().err().map(|e| e.message)
        };
        assert_eq!(message(&[("IMMICH_UPLOAD_CONCURRENCY", "8")]), None);
        assert_eq!(
            message(&[("IMMICH_UPLOAD_CONCURRENCY", "0")]).as_deref(),
            Some(
                "invalid IMMICH_UPLOAD_CONCURRENCY value '0': expected a \
                 whole number from 1 to 64"
            )
        );
        for key in BOOLEANS {
            let got = message(&[(key, "maybe")]);
            let want = format!(
                "invalid {key} value 'maybe': expected true, 1, yes, on, \
                 false, 0, no or off"
            );
            assert_eq!(got, Some(want));
            assert_eq!(message(&[(key, "")]), None);
        }
        // Integers come first, then booleans in table order.
        let both = message(&[
            ("DISABLE_TEMP_CLEANUP", "x"),
            ("IMMICH_SKIP_HASH", "x"),
            ("IMMICH_UPLOAD_CONCURRENCY", "x"),
        ]);
        assert!(both.unwrap_or_default().contains("IMMICH_UPLOAD_CONCURRENCY"));
        let bools = message(&[
            ("DISABLE_TEMP_CLEANUP", "x"),
            ("IMMICH_SKIP_HASH", "x"),
        ]);
        assert!(bools.unwrap_or_default().contains("IMMICH_SKIP_HASH"));
    }

    #[test]
    fn files_are_read_by_location_rules() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let none = HashMap::new();
        // Missing default file: silently empty.
        assert_eq!(load(None, cwd, &none).unwrap().get("A"), None);
        // A folder named .env is not read.
        std::fs::create_dir(cwd.join(".env")).unwrap();
        assert_eq!(load(None, cwd, &none).unwrap().get("A"), None);
        std::fs::remove_dir(cwd.join(".env")).unwrap();
        std::fs::write(cwd.join(".env"), "A=default\nIMMICH_SKIP_HASH=on\n")
            .unwrap();
        std::fs::write(cwd.join("other.env"), "A=other\n").unwrap();
        let env = load(None, cwd, &none).unwrap();
        assert_eq!(env.get("A"), Some("default"));
        assert_eq!(env.get("IMMICH_SKIP_HASH"), Some("on"));
        let explicit = Path::new("other.env");
        let env = load(Some(explicit), cwd, &none).unwrap();
        assert_eq!(env.get("A"), Some("other"));
        assert_eq!(env.get("IMMICH_SKIP_HASH"), None);
        let env = load(None, cwd, &vars(&[("A", "process")])).unwrap();
        assert_eq!(env.get("A"), Some("process"));
    }

    #[test]
    fn explicit_file_problems_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        let none = HashMap::new();
        let err = |path: &str| {
            load(Some(Path::new(path)), &cwd, &none).err().map(|e| e.message)
        };
        let missing = cwd.join("missing.env");
        let want =
            format!("Environment file does not exist: {}", missing.display());
        assert_eq!(err("missing.env"), Some(want));
        std::fs::create_dir(cwd.join("dir.env")).unwrap();
        let want = format!(
            "Environment path is not a file: {}",
            cwd.join("dir.env").display()
        );
        assert_eq!(err("dir.env"), Some(want));
        std::fs::write(cwd.join("latin1.env"), b"A=caf\xe9\n").unwrap();
        let got = err("latin1.env").unwrap_or_default();
        assert!(got.ends_with("latin1.env is not UTF-8 text"), "{got}");
        std::fs::write(cwd.join("bad.env"), "CONSOLIDATE_EXPORTS=maybe\n")
            .unwrap();
        let got = err("bad.env").unwrap_or_default();
        assert!(got.starts_with("invalid CONSOLIDATE_EXPORTS value"), "{got}");
    }
}
