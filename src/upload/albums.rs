//! Albums: find by exact name or create, then add assets in batches
//! (upload.md §5.8).
//!
//! Names resolve once per run. G3 servers filter by name and owner; on
//! G1/G2 the full list is fetched once and filtered by name and owner id.
//! Creating is not idempotent, so a create that got no answer looks the
//! name up again before it is retried.

use std::cell::Cell;
use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::client::{CallError, Client};
use super::preflight::{Generation, Server};
use super::retry::{self, Failure};

/// Asset ids per `PUT /albums/{id}/assets`.
const ADD_BATCH: usize = 1000;

/// The fields of an album object memoria reads.
#[derive(Clone, Debug, Deserialize)]
struct Album {
    id: String,
    #[serde(rename = "albumName")]
    name: String,
    #[serde(default, rename = "createdAt")]
    created_at: String,
    #[serde(default, rename = "ownerId")]
    owner_id: Option<String>,
}

/// One entry of a `BulkIdResponseDto` list.
#[derive(Deserialize)]
struct BulkId {
    id: String,
    success: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorMessage")]
    error_message: Option<String>,
}

/// Album ids by name, cached for the run.
#[derive(Default)]
pub(super) struct Albums {
    ids: HashMap<String, Result<String, String>>,
    listing: Option<Vec<Album>>,
}

impl Albums {
    /// Returns the id of the album called `name`, creating it when the
    /// user has none; the error text is cached too.
    pub(super) fn id(
        &mut self,
        server: &Server,
        name: &str,
    ) -> Result<String, String> {
        if let Some(known) = self.ids.get(name) {
            return known.clone();
        }
        let found = self.resolve(server, name).map_err(|e| e.to_string());
        if let Err(err) = &found {
            log::warn!("album \"{name}\": {err}");
        }
        self.ids.insert(name.to_string(), found.clone());
        found
    }

    /// Finds or creates the album.
    fn resolve(
        &mut self,
        server: &Server,
        name: &str,
    ) -> Result<String, CallError> {
        if name.is_empty() {
            return Err(CallError::Local("empty album name".into()));
        }
        let existing = match server.generation {
            Generation::G3 => lookup(server, name)?,
            Generation::G1 | Generation::G2 => {
                if self.listing.is_none() {
                    self.listing = Some(list(&server.client)?);
                }
                let all = self.listing.as_deref().unwrap_or_default();
                pick(all, owner(server), name)
            }
        };
        match existing {
            Some(id) => Ok(id),
            None => create(server, name),
        }
    }
}

/// Fetches every album the user can see (G1/G2).
fn list(client: &Client) -> Result<Vec<Album>, CallError> {
    client.call(Method::GET, "/albums", None).result
}

/// Looks `name` up afresh.
fn lookup(server: &Server, name: &str) -> Result<Option<String>, CallError> {
    let albums = match server.generation {
        Generation::G3 => {
            let mut url = reqwest::Url::parse("http://q/albums")
                .map_err(|e| CallError::Local(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("name", name)
                .append_pair("isOwned", "true");
            let path = format!("/albums?{}", url.query().unwrap_or_default());
            server.client.call(Method::GET, &path, None).result?
        }
        Generation::G1 | Generation::G2 => list(&server.client)?,
    };
    Ok(pick(&albums, owner(server), name))
}

/// Returns the user id albums must belong to, when preflight knows it.
fn owner(server: &Server) -> Option<&str> {
    server.user.as_ref().map(|u| u.id.as_str())
}

/// Picks the user's album called exactly `name` (case-sensitive, no
/// normalisation): of several, the one with the oldest `createdAt`, then
/// the smallest id (upload.md §5.8), so every run files into the same
/// album. An album whose `createdAt` cannot be read comes last.
fn pick(albums: &[Album], owner: Option<&str>, name: &str) -> Option<String> {
    albums
        .iter()
        .filter(|a| a.name == name)
        .filter(|a| match (owner, &a.owner_id) {
            (Some(me), Some(theirs)) => me == theirs,
            _ => true,
        })
        .min_by_key(|a| {
            let at = a.created_at.parse::<jiff::Timestamp>().ok();
            (at.is_none(), at, a.id.as_str())
        })
        .map(|a| a.id.clone())
}

/// Creates the album; before retrying a create that got no answer, looks
/// the name up again so that a retry never makes a second album.
fn create(server: &Server, name: &str) -> Result<String, CallError> {
    let body = json!({ "albumName": name });
    let unanswered = Cell::new(false);
    let made = retry::run("POST /albums", || {
        if unanswered.get() {
            if let Ok(Some(id)) = lookup(server, name) {
                return Ok(id);
            }
        }
        let answer = server.client.once(Method::POST, "/albums", Some(&body));
        match answer {
            Ok(value) => {
                value["id"].as_str().map(str::to_string).ok_or_else(|| {
                    Failure::fatal(CallError::NotApi(
                        "album created without an id".into(),
                    ))
                })
            }
            Err(failure) => {
                let no_answer =
                    matches!(failure.error, CallError::Transport(_));
                unanswered.set(no_answer);
                Err(failure)
            }
        }
    });
    made.result
}

/// Adds `assets` to album `album`, in batches; returns per asset id
/// `Ok` (added, or already there) or the error text.
pub(super) fn add(
    server: &Server,
    album: &str,
    assets: &[String],
) -> HashMap<String, Result<(), String>> {
    let mut results = HashMap::new();
    let path = format!("/albums/{album}/assets");
    for batch in assets.chunks(ADD_BATCH) {
        let body = json!({ "ids": batch });
        let answer: Result<Vec<BulkId>, CallError> =
            server.client.call(Method::PUT, &path, Some(&body)).result;
        match answer {
            Ok(list) => {
                for entry in list {
                    results.insert(entry.id.clone(), outcome(&entry));
                }
                for id in batch {
                    results
                        .entry(id.clone())
                        .or_insert_with(|| Err("album: no result".into()));
                }
            }
            Err(err) => {
                for id in batch {
                    results.insert(id.clone(), Err(format!("album: {err}")));
                }
            }
        }
    }
    results
}

/// Returns the outcome of one id: `duplicate` is success.
fn outcome(entry: &BulkId) -> Result<(), String> {
    let error = entry.error.as_deref().unwrap_or("unknown");
    if entry.success || error == "duplicate" {
        return Ok(());
    }
    match &entry.error_message {
        Some(message) => Err(format!("album: {error}: {message}")),
        None => Err(format!("album: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(
        success: bool,
        error: Option<&str>,
        message: Option<&str>,
    ) -> BulkId {
        BulkId {
            id: "x".into(),
            success,
            error: error.map(str::to_string),
            error_message: message.map(str::to_string),
        }
    }

    #[test]
    fn the_oldest_own_album_of_a_name_wins() {
        let album =
            |id: &str, name: &str, at: &str, owner: Option<&str>| Album {
                id: id.into(),
                name: name.into(),
                created_at: at.into(),
                owner_id: owner.map(str::to_string),
            };
        let albums = [
            album("a", "Trip", "2024-01-01T00:00:00.000Z", Some("me")),
            album("d", "Trip", "2023-01-01T00:00:00.000Z", Some("me")),
            album("c", "Trip", "2023-01-01T00:00:00.000Z", Some("me")),
            album("b", "Trip", "2020-01-01T00:00:00.000Z", Some("you")),
            album("e", "trip", "2019-01-01T00:00:00.000Z", Some("me")),
            album("f", "Trip ", "2019-01-01T00:00:00.000Z", Some("me")),
            album("0", "Trip", "garbage", Some("me")),
        ];
        assert_eq!(pick(&albums, Some("me"), "Trip").as_deref(), Some("c"));
        // Without a user id every owner counts (G3 filters server-side).
        assert_eq!(pick(&albums, None, "Trip").as_deref(), Some("b"));
        assert_eq!(pick(&albums[6..], None, "Trip").as_deref(), Some("0"));
        assert_eq!(pick(&albums, None, "Nope"), None);
    }

    #[test]
    fn duplicates_in_an_album_are_success() {
        assert_eq!(outcome(&bulk(true, None, None)), Ok(()));
        assert_eq!(outcome(&bulk(false, Some("duplicate"), None)), Ok(()));
        assert_eq!(
            outcome(&bulk(false, Some("no_permission"), None)),
            Err("album: no_permission".into())
        );
        assert_eq!(
            outcome(&bulk(false, Some("validation"), Some("bad id"))),
            Err("album: validation: bad id".into())
        );
    }
}
