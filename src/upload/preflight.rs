//! Preflight: once per run, before any export is processed (upload.md
//! §1): base URL, server version and generation, user, key permissions
//! and the media types the server accepts.
//!
//! A configuration error (not an Immich API, key refused, permission
//! missing) stops the run; a transient one (unreachable after retries)
//! lets processing go on without uploads.

use std::collections::HashSet;
use std::fmt;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::client::{CallError, Client};
use super::Settings;

/// The protocol generation of a server (upload.md §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Generation {
    /// 1.130 – 1.14x.
    G1,
    /// 2.x.
    G2,
    /// 3.0 and later.
    G3,
}

/// `GET /server/version`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// Returns the generation, warning about untested versions.
    fn generation(self) -> Generation {
        match (self.major, self.minor) {
            (0, _) | (1, 0..=129) => {
                log::warn!("Immich {self} is older than 1.130 and untested");
                Generation::G1
            }
            (1, _) => Generation::G1,
            (2, _) => Generation::G2,
            (3, _) => Generation::G3,
            _ => {
                log::warn!("Immich {self} is newer than memoria knows");
                Generation::G3
            }
        }
    }

    /// Returns the name of the permission that adds assets to albums
    /// (`album.addAsset` before 1.137).
    fn album_add_permission(self) -> &'static str {
        if self.major == 1 && self.minor < 137 {
            "album.addAsset"
        } else {
            "albumAsset.create"
        }
    }
}

/// The user the key belongs to.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct User {
    /// The user's id (album ownership on G1/G2).
    pub(crate) id: String,
    /// The user's email, shown in the status line.
    #[serde(default)]
    pub(crate) email: String,
}

/// What preflight learned about the server.
#[derive(Debug)]
pub(crate) struct Server {
    /// The client, bound to the resolved API base URL.
    pub(crate) client: Client,
    /// The version.
    pub(crate) version: Version,
    /// The protocol generation.
    pub(crate) generation: Generation,
    /// The user, unless the key lacks `user.read`.
    pub(crate) user: Option<User>,
    /// Lower-case extensions with a dot that upload as assets.
    pub(crate) media: HashSet<String>,
}

impl Server {
    /// Returns the API base URL.
    pub(crate) fn api(&self) -> &str {
        self.client.api()
    }

    /// Returns the status line printed on success.
    pub(crate) fn status_line(&self) -> String {
        let user = match &self.user {
            Some(u) if !u.email.is_empty() => format!(", user {}", u.email),
            _ => String::new(),
        };
        format!(
            "Immich: uploads enabled → {} (server {}{user})",
            self.api(),
            self.version
        )
    }

    /// Returns true when the server accepts `path`'s extension.
    pub(crate) fn accepts(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name.rfind('.') {
            Some(dot) => self.media.contains(&name[dot..].to_lowercase()),
            None => false,
        }
    }
}

/// Why preflight failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PreflightError {
    /// Not an Immich API, key refused, permission missing: exit 2.
    Config(String),
    /// Unreachable after retries: go on without uploads, exit 1.
    Transient(String),
}

impl fmt::Display for PreflightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreflightError::Config(r) | PreflightError::Transient(r) => {
                f.write_str(r)
            }
        }
    }
}

/// Runs the preflight of upload.md §1 for `settings`.
pub(crate) fn preflight(settings: &Settings) -> Result<Server, PreflightError> {
    let url = settings.url.trim_end_matches('/');
    let probe =
        Client::new(url, &settings.key).map_err(PreflightError::Config)?;
    let api = base_url(&probe, url);
    let client =
        Client::new(&api, &settings.key).map_err(PreflightError::Config)?;
    let version: Version = client
        .call(Method::GET, "/server/version", None)
        .result
        .map_err(classify)?;
    let generation = version.generation();
    let user = user(&client)?;
    check_permissions(&client, version)?;
    let media: MediaTypes = client
        .call(Method::GET, "/server/media-types", None)
        .result
        .map_err(classify)?;
    let media =
        media.image.iter().chain(&media.video).map(|e| e.to_lowercase());
    Ok(Server { client, version, generation, user, media: media.collect() })
}

/// Resolves `{api}` (upload.md §5.1): the URL itself when it ends in
/// `/api`, else what `/.well-known/immich` names, else `<URL>/api`.
fn base_url(probe: &Client, url: &str) -> String {
    if url.ends_with("/api") {
        return url.to_string();
    }
    let fallback = format!("{url}/api");
    let Ok(found) = probe.get_public(&format!("{url}/.well-known/immich"))
    else {
        return fallback;
    };
    let Some(endpoint) = found["api"]["endpoint"].as_str() else {
        return fallback;
    };
    let joined = reqwest::Url::parse(url).and_then(|base| base.join(endpoint));
    match joined {
        Ok(api) => api.as_str().trim_end_matches('/').to_string(),
        Err(_) => fallback,
    }
}

/// Returns the key's user; `None` when the key lacks `user.read`.
fn user(client: &Client) -> Result<Option<User>, PreflightError> {
    match client.call::<User>(Method::GET, "/users/me", None).result {
        Ok(user) => Ok(Some(user)),
        Err(CallError::Status(403, _)) => {
            log::debug!("the API key lacks user.read; album owner unknown");
            Ok(None)
        }
        Err(err) => Err(classify(err)),
    }
}

/// Checks the key's permissions where the server can tell them.
fn check_permissions(
    client: &Client,
    version: Version,
) -> Result<(), PreflightError> {
    let answer = client.call::<Value>(Method::GET, "/api-keys/me", None);
    let key = match answer.result {
        Ok(key) => key,
        // Older servers read `me` as a key id (upload.md §1 step 4).
        Err(CallError::Status(400 | 403 | 404, _)) => return Ok(()),
        Err(err) => return Err(classify(err)),
    };
    let Some(granted) = key["permissions"].as_array() else { return Ok(()) };
    let granted: Vec<&str> = granted.iter().filter_map(Value::as_str).collect();
    if granted.contains(&"all") {
        return Ok(());
    }
    let needed = [
        "asset.upload",
        "album.read",
        "album.create",
        version.album_add_permission(),
    ];
    let missing: Vec<&str> =
        needed.into_iter().filter(|p| !granted.contains(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(PreflightError::Config(format!(
        "API key lacks permission(s): {}",
        missing.join(", ")
    )))
}

/// `GET /server/media-types`.
#[derive(Deserialize)]
struct MediaTypes {
    #[serde(default)]
    image: Vec<String>,
    #[serde(default)]
    video: Vec<String>,
}

/// Sorts a failed preflight call into configuration and transient
/// errors.
fn classify(err: CallError) -> PreflightError {
    match err {
        CallError::Unauthorized(text) => {
            PreflightError::Config(format!("API key refused ({text})"))
        }
        CallError::Transport(text) => PreflightError::Transient(text),
        CallError::Status(code, text) if is_transient(code) => {
            PreflightError::Transient(text)
        }
        CallError::Status(_, text)
        | CallError::NotApi(text)
        | CallError::Local(text) => PreflightError::Config(text),
    }
}

/// Returns true for the statuses that are retried (upload.md §5.10).
fn is_transient(code: u16) -> bool {
    matches!(code, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u64, minor: u64) -> Version {
        Version { major, minor, patch: 0 }
    }

    #[test]
    fn versions_map_to_generations() {
        let cases = [
            (v(1, 120), Generation::G1),
            (v(1, 143), Generation::G1),
            (v(2, 0), Generation::G2),
            (v(2, 7), Generation::G2),
            (v(3, 0), Generation::G3),
            (v(4, 1), Generation::G3),
        ];
        for (version, want) in cases {
            assert_eq!(version.generation(), want, "{version}");
        }
        assert_eq!(v(1, 136).album_add_permission(), "album.addAsset");
        assert_eq!(v(1, 137).album_add_permission(), "albumAsset.create");
        assert_eq!(v(3, 0).album_add_permission(), "albumAsset.create");
    }

    #[test]
    fn errors_are_sorted_by_kind() {
        let cases = [
            (CallError::Unauthorized("HTTP 401".into()), false),
            (CallError::Transport("refused".into()), true),
            (CallError::Status(503, "x".into()), true),
            (CallError::Status(404, "x".into()), false),
            (CallError::NotApi("html".into()), false),
        ];
        for (err, transient) in cases {
            let got = classify(err.clone());
            assert_eq!(
                matches!(got, PreflightError::Transient(_)),
                transient,
                "{err:?}"
            );
        }
    }
}
