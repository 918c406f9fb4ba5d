//! Assets: the duplicate pre-check and the streaming upload itself
//! (upload.md §5.6, §5.7).
//!
//! The upload body is a multipart form whose file parts read straight
//! from disk with known lengths, so memory stays bounded for any file
//! size and the request has a `Content-Length`.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use reqwest::blocking::multipart::{Form, Part};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{CallError, Client};
use super::preflight::Generation;
use super::retry::Attempted;
use super::watch::{Watch, Watched};
use super::File;

/// Files per `bulk-upload-check` request.
const CHECK_BATCH: usize = 5000;

/// What the pre-check says about one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// Not on the server: upload it.
    Accept,
    /// Already on the server as `asset_id` (maybe in the trash).
    Duplicate { asset_id: String, trashed: bool },
    /// Refused for another reason.
    Reject(String),
}

/// One result of `bulk-upload-check`.
#[derive(Deserialize)]
struct CheckResult {
    id: String,
    action: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, rename = "assetId")]
    asset_id: Option<String>,
    #[serde(default, rename = "isTrashed")]
    is_trashed: bool,
}

/// The answer of `bulk-upload-check`.
#[derive(Deserialize)]
struct CheckAnswer {
    results: Vec<CheckResult>,
}

/// Checks `items` (client id, SHA-1) in batches and returns the verdict
/// per id. A batch that fails after its retries counts as all `Accept`
/// (the server refuses duplicates on upload anyway).
pub(super) fn bulk_check(
    client: &Client,
    items: &[(String, String)],
) -> HashMap<String, Check> {
    let mut verdicts = HashMap::new();
    for batch in items.chunks(CHECK_BATCH) {
        let assets: Vec<Value> = batch
            .iter()
            .map(|(id, sha1)| json!({"id": id, "checksum": sha1}))
            .collect();
        let body = json!({ "assets": assets });
        let path = "/assets/bulk-upload-check";
        match client.call::<CheckAnswer>(Method::POST, path, Some(&body)).result
        {
            Ok(answer) => {
                for result in answer.results {
                    let check = verdict(&result);
                    verdicts.insert(result.id, check);
                }
            }
            Err(err) => log::warn!(
                "duplicate pre-check failed ({err}); uploading {} files \
                 unchecked",
                batch.len()
            ),
        }
    }
    verdicts
}

/// Turns one pre-check result into a verdict (upload.md §4 step 2).
fn verdict(result: &CheckResult) -> Check {
    if result.action != "reject" {
        return Check::Accept;
    }
    let reason = result.reason.clone().unwrap_or_default();
    match (&reason[..], &result.asset_id) {
        ("duplicate", Some(id)) => Check::Duplicate {
            asset_id: id.clone(),
            trashed: result.is_trashed,
        },
        _ if reason.is_empty() => Check::Reject("rejected".into()),
        _ => Check::Reject(reason),
    }
}

/// How an upload ended on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Stored {
    /// The asset id, new or existing.
    pub(super) asset_id: String,
    /// True when the server already had the file (`duplicate`).
    pub(super) duplicate: bool,
}

/// The answer of `POST /assets`.
#[derive(Deserialize)]
struct UploadAnswer {
    id: String,
    status: String,
}

/// Counts bytes as they leave for the server: called with the bytes read
/// from disk, and with a negative count when a failed attempt's bytes
/// are taken back.
pub(super) type Meter = Arc<dyn Fn(i64) + Send + Sync>;

/// Uploads `file` from `root` with the fields of `generation`.
pub(super) fn upload(
    client: &Client,
    generation: Generation,
    root: &Path,
    file: &File,
    meter: &Meter,
) -> Attempted<Stored> {
    let sent = Arc::new(AtomicU64::new(0));
    let take_back = || {
        let bytes = sent.swap(0, Ordering::Relaxed);
        meter(-i64::try_from(bytes).unwrap_or(i64::MAX));
    };
    let what = format!("POST /assets {}", file.path);
    let answer = client.upload(&what, |watch| {
        // A retry starts over: take back what the last attempt counted.
        take_back();
        let counter = Counter { sent: Arc::clone(&sent), meter: meter.clone() };
        form(generation, root, file, counter, watch)
    });
    if answer.result.is_err() {
        take_back();
    }
    let result = answer.result.and_then(|value| {
        let answer: UploadAnswer =
            serde_json::from_value(value).map_err(|e| {
                CallError::NotApi(format!("unexpected answer: {e}"))
            })?;
        Ok(Stored {
            asset_id: answer.id,
            duplicate: answer.status == "duplicate",
        })
    });
    Attempted { result, attempts: answer.attempts }
}

/// Builds the multipart body of upload.md §5.7: text fields, the file,
/// then the sidecar; both readers mark progress on `watch`.
fn form(
    generation: Generation,
    root: &Path,
    file: &File,
    counter: Counter,
    watch: &Arc<Watch>,
) -> Result<Form, CallError> {
    let abs = root.join(&file.path);
    let name = file_name(&file.path);
    let handle = fs::File::open(&abs).map_err(|e| local(&abs, &e))?;
    let meta = handle.metadata().map_err(|e| local(&abs, &e))?;
    let taken = match file.taken {
        Some(t) => t,
        None => meta
            .modified()
            .ok()
            .and_then(|m| Timestamp::try_from(m).ok())
            .unwrap_or(Timestamp::UNIX_EPOCH),
    };
    let when = iso_millis(taken);
    let mut form = Form::new();
    if generation != Generation::G3 {
        form = form
            .text("deviceAssetId", device_asset_id(name, meta.len()))
            .text("deviceId", "memoria");
    }
    form = form
        .text("fileCreatedAt", when.clone())
        .text("fileModifiedAt", when)
        .text("isFavorite", file.favorite.to_string());
    // The watch wraps the counter so that a given-up attempt counts no
    // more bytes.
    let reader = Watched::new(Counted { inner: handle, counter }, watch);
    form = form.part("assetData", binary(reader, meta.len(), name)?);
    if let Some(sidecar) = &file.sidecar {
        let abs = root.join(sidecar);
        if let Ok(handle) = fs::File::open(&abs) {
            let len = handle.metadata().map_err(|e| local(&abs, &e))?.len();
            let reader = Watched::new(handle, watch);
            let part = binary(reader, len, file_name(sidecar))?;
            form = form.part("sidecarData", part);
        }
    }
    Ok(form)
}

/// Returns a streamed `application/octet-stream` part.
fn binary<R: Read + Send + 'static>(
    reader: R,
    len: u64,
    name: &str,
) -> Result<Part, CallError> {
    Part::reader_with_length(reader, len)
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .map_err(|e| CallError::Local(format!("bad part {name}: {e}")))
}

/// Returns the error of a file that cannot be read.
fn local(path: &Path, err: &std::io::Error) -> CallError {
    CallError::Local(format!("failed to read {}: {err}", path.display()))
}

/// Returns the last segment of a relative path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Returns `deviceAssetId`: file name, `-`, size, whitespace removed.
pub(super) fn device_asset_id(name: &str, size: u64) -> String {
    format!("{name}-{size}").chars().filter(|c| !c.is_whitespace()).collect()
}

/// Formats an instant as strict ISO-8601 in UTC with milliseconds
/// (`2021-01-01T09:30:00.000Z`), which every generation accepts.
pub(super) fn iso_millis(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Where a file reader reports the bytes it hands out.
struct Counter {
    /// Bytes of this attempt.
    sent: Arc<AtomicU64>,
    /// The progress display.
    meter: Meter,
}

/// A file reader that counts the bytes it hands out.
struct Counted {
    inner: fs::File,
    counter: Counter,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.sent.fetch_add(n as u64, Ordering::Relaxed);
        (self.counter.meter)(i64::try_from(n).unwrap_or(i64::MAX));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_with_milliseconds() {
        let at: Timestamp = "2021-01-01T10:30:00+01:00".parse().unwrap();
        assert_eq!(iso_millis(at), "2021-01-01T09:30:00.000Z");
        let at: Timestamp = "1969-12-31T23:59:59.5Z".parse().unwrap();
        assert_eq!(iso_millis(at), "1969-12-31T23:59:59.500Z");
    }

    #[test]
    fn device_asset_ids_have_no_whitespace() {
        assert_eq!(
            device_asset_id("gphotos-john.doe-20210101_1.heic", 2481337),
            "gphotos-john.doe-20210101_1.heic-2481337"
        );
        assert_eq!(device_asset_id("a b\tc.jpg", 5), "abc.jpg-5");
    }

    #[test]
    fn verdicts_follow_the_reason() {
        let result = |action: &str, reason: Option<&str>, id: Option<&str>| {
            verdict(&CheckResult {
                id: "x".into(),
                action: action.into(),
                reason: reason.map(str::to_string),
                asset_id: id.map(str::to_string),
                is_trashed: true,
            })
        };
        assert_eq!(result("accept", None, None), Check::Accept);
        assert_eq!(
            result("reject", Some("duplicate"), Some("a")),
            Check::Duplicate { asset_id: "a".into(), trashed: true }
        );
        assert_eq!(
            result("reject", Some("unsupported-format"), None),
            Check::Reject("unsupported-format".into())
        );
    }
}
