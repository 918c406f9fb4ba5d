//! The HTTP side of the Immich API: requests, status handling and error
//! texts (upload.md §5.2, §5.9, §5.10).
//!
//! Two blocking reqwest clients share the work: one for JSON calls (60 s
//! per request) and one for uploads, which have no total limit but fail
//! when no bytes move for 5 minutes ([`super::watch`]): each upload
//! attempt runs on its own thread while the caller watches its progress
//! and gives it up when it stalls. Redirects are never followed. The API
//! key goes only into the `x-api-key` header, marked sensitive.

use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{multipart::Form, RequestBuilder, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::retry::{self, Attempted, Failure};
use super::watch::{self, Limits, Watch};
use super::ApiKey;

/// Why a request failed for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallError {
    /// HTTP 401: the key is refused or revoked.
    Unauthorized(String),
    /// Any other HTTP error status, with the text of upload.md §5.9.
    Status(u16, String),
    /// Connection refused or reset, DNS failure, timeout.
    Transport(String),
    /// The answer is not an Immich API's: a redirect, HTML, bad JSON.
    NotApi(String),
    /// A local file could not be read.
    Local(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Unauthorized(text)
            | CallError::Status(_, text)
            | CallError::Transport(text)
            | CallError::NotApi(text)
            | CallError::Local(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CallError {}

/// A connection to one Immich API.
pub(crate) struct Client {
    json: reqwest::blocking::Client,
    upload: reqwest::blocking::Client,
    api: String,
    key: ApiKey,
    limits: Limits,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("api", &self.api).finish()
    }
}

impl Client {
    /// Returns a client for the API at `api` (ending in `/api`).
    pub(super) fn new(api: &str, key: &ApiKey) -> Result<Client, String> {
        let agent = concat!("memoria/", env!("CARGO_PKG_VERSION"));
        let limits = Limits::from_env();
        let build = |timeout: Option<Duration>| {
            reqwest::blocking::Client::builder()
                .user_agent(agent)
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(limits.connect)
                .timeout(timeout)
                .tcp_keepalive(Duration::from_secs(30))
                // Unacknowledged bytes for this long end the connection.
                .tcp_user_timeout(limits.stall)
                .build()
                .map_err(|e| format!("cannot start the HTTP client: {e}"))
        };
        Ok(Client {
            json: build(Some(limits.json))?,
            // No total limit: the stall watch of `upload` bounds uploads.
            upload: build(None)?,
            api: api.trim_end_matches('/').to_string(),
            key: key.clone(),
            limits,
        })
    }

    /// Returns the API base URL (ending in `/api`).
    pub(super) fn api(&self) -> &str {
        &self.api
    }

    /// Returns the headers of every request: the key, marked sensitive so
    /// that no debug output shows it.
    fn auth(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(mut key) = HeaderValue::from_str(self.key.expose()) {
            key.set_sensitive(true);
            headers.insert("x-api-key", key);
        }
        headers
    }

    /// Sends a JSON request to `{api}{path}` with retries and decodes the
    /// answer as `T`.
    pub(super) fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Attempted<T> {
        let what = format!("{method} {path}");
        retry::run(&what, || {
            let value = self.once(method.clone(), path, body)?;
            serde_json::from_value(value).map_err(|e| {
                Failure::fatal(CallError::NotApi(format!(
                    "unexpected answer to {what} from {}: {e}",
                    self.api
                )))
            })
        })
    }

    /// Sends one JSON request without retries.
    pub(super) fn once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.api);
        let mut request = self
            .json
            .request(method.clone(), &url)
            .headers(self.auth())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        self.send(request, &format!("{method} {path}"))
    }

    /// Sends `GET url` (outside the API, no key) once, for discovery.
    pub(super) fn get_public(&self, url: &str) -> Result<Value, Failure> {
        let request =
            self.json.get(url).header(header::ACCEPT, "application/json");
        self.send(request, &format!("GET {url}"))
    }

    /// Uploads the multipart form that `form` builds (once per attempt,
    /// so that every retry reopens the file) to `POST {api}/assets`. The
    /// form's readers must mark progress on the attempt's watch
    /// ([`watch::Watched`]); an attempt in which no bytes move for the
    /// stall limit is given up and retried.
    pub(super) fn upload(
        &self,
        what: &str,
        form: impl Fn(&Arc<Watch>) -> Result<Form, CallError>,
    ) -> Attempted<Value> {
        retry::run(what, || {
            let watch = Watch::new();
            let form = form(&watch).map_err(Failure::fatal)?;
            let request = self
                .upload
                .post(format!("{}/assets", self.api))
                .headers(self.auth())
                .header(header::ACCEPT, "application/json")
                .multipart(form);
            self.send_watched(request, what, &watch)
        })
    }

    /// Sends `request` and reads its answer (upload.md §5.10).
    fn send(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> Result<Value, Failure> {
        let limit = Some(self.limits.json);
        let response = request.send().map_err(|e| transport(&e, limit))?;
        log::trace!("{what}: HTTP {}", response.status().as_u16());
        self.read(fetch(response, limit)?)
    }

    /// Sends an upload on its own thread and waits for the answer while
    /// bytes move; a stalled attempt is given up (its thread ends with
    /// the request, or when the server finally answers).
    fn send_watched(
        &self,
        request: RequestBuilder,
        what: &str,
        watch: &Arc<Watch>,
    ) -> Result<Value, Failure> {
        let (tx, rx) = mpsc::channel();
        let sent = std::thread::Builder::new()
            .name("memoria-upload-send".into())
            .spawn(move || {
                let answer = request
                    .send()
                    .map_err(|e| transport(&e, None))
                    .and_then(|r| fetch(r, None));
                let _ = tx.send(answer);
            });
        if let Err(err) = sent {
            let text = format!("cannot start an upload thread: {err}");
            return Err(Failure::fatal(CallError::Local(text)));
        }
        loop {
            match rx.recv_timeout(self.limits.tick()) {
                Ok(answer) => {
                    let answer = answer?;
                    log::trace!("{what}: HTTP {}", answer.status.as_u16());
                    return self.read(answer);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if watch.idle() >= self.limits.stall {
                        watch.abandon();
                        return Err(stalled(self.limits.stall));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Failure {
                        error: CallError::Transport(
                            "the upload ended without an answer".into(),
                        ),
                        retry: true,
                        wait: None,
                    })
                }
            }
        }
    }

    /// Classifies an answer: JSON on 2xx, else the failure to report.
    fn read(&self, answer: Answer) -> Result<Value, Failure> {
        let Answer { status, headers, body } = answer;
        if status.is_redirection() {
            let to = text_header(&headers, header::LOCATION.as_str());
            return Err(Failure::fatal(CallError::NotApi(format!(
                "server redirected to {to}; use that URL as \
                 IMMICH_INSTANCE_URL"
            ))));
        }
        if status.is_success() {
            return self.json_body(&headers, &body);
        }
        let text = error_text(status, &headers, &body);
        let wait = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry::retry_after);
        Err(match status.as_u16() {
            401 => Failure::fatal(CallError::Unauthorized(text)),
            408 | 429 | 500 | 502 | 503 | 504 => Failure {
                error: CallError::Status(status.as_u16(), text),
                retry: true,
                wait,
            },
            413 => Failure::fatal(CallError::Status(
                413,
                "HTTP 413: file too large for the server or a proxy".into(),
            )),
            code => Failure::fatal(CallError::Status(code, text)),
        })
    }

    /// Parses a success body, which must be JSON (upload.md §5.2).
    fn json_body(
        &self,
        headers: &HeaderMap,
        body: &str,
    ) -> Result<Value, Failure> {
        let kind = text_header(headers, header::CONTENT_TYPE.as_str());
        let not_api = |got: &str| {
            Failure::fatal(CallError::NotApi(format!(
                "not an Immich API at {} (got {got}); check the URL or add \
                 /api",
                self.api
            )))
        };
        if !kind.to_ascii_lowercase().contains("json") {
            let got = kind.split(';').next().unwrap_or("").trim();
            return Err(not_api(if got.is_empty() {
                "no content type"
            } else {
                got
            }));
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(body).map_err(|_| not_api("invalid JSON"))
    }
}

/// An answer read in full: status, headers and body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// Reads `response` in full (a redirect's body is not needed); `limit`
/// is the request's time limit, for the message of a timeout.
fn fetch(
    response: Response,
    limit: Option<Duration>,
) -> Result<Answer, Failure> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = match status.is_redirection() {
        true => String::new(),
        false => response.text().map_err(|e| transport(&e, limit))?,
    };
    Ok(Answer { status, headers, body })
}

/// Returns the retryable failure of an upload in which no bytes moved
/// for `limit` (upload.md §5.2).
fn stalled(limit: Duration) -> Failure {
    let text = format!(
        "timed out: no bytes moved for {} (server stalled)",
        watch::seconds(limit)
    );
    Failure { error: CallError::Transport(text), retry: true, wait: None }
}

/// Returns the retryable failure of a transport error; `limit` is the
/// request's time limit, named when it ran out.
fn transport(err: &reqwest::Error, limit: Option<Duration>) -> Failure {
    let timed_out = match limit {
        Some(limit) => format!("timed out after {}", watch::seconds(limit)),
        None => "timed out".into(),
    };
    let kind = if err.is_timeout() {
        timed_out.as_str()
    } else if err.is_connect() {
        "connection failed"
    } else {
        "connection error"
    };
    // The URL in reqwest's message has no credentials (the key is a
    // header), so it may be shown.
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    Failure { error: CallError::Transport(text), retry: true, wait: None }
}

/// Returns a header as text, or an empty string.
fn text_header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Formats an error answer as `HTTP <status>: <message>[: <details>]
/// (correlation id <id>)` (upload.md §5.9). Both generations' bodies are
/// read leniently; a body that is not JSON shows its first 200
/// characters.
pub(super) fn error_text(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> String {
    let mut text = format!("HTTP {}", status.as_u16());
    let json: Option<Value> = serde_json::from_str(body).ok();
    let message = match &json {
        Some(v) => message_of(v),
        None => body.chars().take(200).collect::<String>().trim().to_string(),
    };
    if !message.is_empty() {
        text.push_str(": ");
        text.push_str(&message);
    }
    let details = json.as_ref().map(details_of).unwrap_or_default();
    if !details.is_empty() {
        text.push_str(": ");
        text.push_str(&details);
    }
    let cid = json
        .as_ref()
        .and_then(|v| v["correlationId"].as_str().map(str::to_string))
        .or_else(|| {
            ["x-immich-cid", "x-correlation-id"]
                .iter()
                .map(|h| text_header(headers, h))
                .find(|v| !v.is_empty())
        });
    if let Some(cid) = cid {
        text.push_str(&format!(" (correlation id {cid})"));
    }
    text
}

/// Returns `message`: a string, or a list joined with `; `.
fn message_of(body: &Value) -> String {
    match &body["message"] {
        Value::String(s) => s.clone(),
        Value::Array(list) => {
            list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")
        }
        _ => String::new(),
    }
}

/// Returns the G3 `errors[]` as `path: message` items.
fn details_of(body: &Value) -> String {
    let Some(errors) = body["errors"].as_array() else {
        return String::new();
    };
    errors
        .iter()
        .map(|e| {
            let path: Vec<String> = e["path"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .map(|x| match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let message = e["message"].as_str().unwrap_or("invalid");
            if path.is_empty() {
                message.to_string()
            } else {
                format!("{}: {message}", path.join("."))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn error_bodies_of_both_generations_are_read() {
        let bad = StatusCode::BAD_REQUEST;
        let g2 = r#"{"message": ["a must be x", "b must be y"],
            "error": "Bad Request", "statusCode": 400,
            "correlationId": "sta7a87c"}"#;
        assert_eq!(
            error_text(bad, &HeaderMap::new(), g2),
            "HTTP 400: a must be x; b must be y (correlation id sta7a87c)"
        );
        let g3 = r#"{"message": "Validation failed", "errors":
            [{"code": "invalid_format", "path": ["ids", 0],
              "message": "Invalid UUID"}]}"#;
        assert_eq!(
            error_text(bad, &headers(&[("x-correlation-id", "c1")]), g3),
            "HTTP 400: Validation failed: ids.0: Invalid UUID \
             (correlation id c1)"
        );
        let html = format!("<html>{}</html>", "x".repeat(300));
        let got = error_text(StatusCode::BAD_GATEWAY, &HeaderMap::new(), &html);
        assert_eq!(got.chars().count(), "HTTP 502: ".len() + 200);
        assert_eq!(
            error_text(
                StatusCode::NOT_FOUND,
                &headers(&[("x-immich-cid", "z")]),
                ""
            ),
            "HTTP 404 (correlation id z)"
        );
    }
}
