//! The HTTP side of downloads (platforms.md §9b.5): the client, the GET
//! and POST requests of download links, and the class of every answer
//! that is not a success.
//!
//! One blocking reqwest client follows redirects to any host over http or
//! https. It gives up connecting after 15 s and waiting for data after
//! 60 s (reqwest's blocking timeout applies to each read of the body, not
//! to the whole transfer, so large videos are not cut off).

use std::io::{self, Read};
use std::time::Duration;

use anyhow::Context;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::retry::{Kind, Miss};

/// Time to connect to a server.
const CONNECT: Duration = Duration::from_secs(15);

/// Time without receiving data before an attempt is given up.
pub(super) const IDLE: Duration = Duration::from_secs(60);

/// Longest body of an answer to a POST link that is read.
const POST_ANSWER_LIMIT: u64 = 16 << 10;

/// The header that GET download links expect.
const ROUTE_TAG: (&str, &str) = ("X-Snap-Route-Tag", "mem-dmd");

/// Whether a GET request carries the route tag of download links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
    /// A GET download link: sent with `X-Snap-Route-Tag`.
    Route,
    /// The file URL a POST link answered: a plain GET.
    Plain,
}

/// The HTTP client of downloads.
pub(super) struct Http {
    client: Client,
    idle: Duration,
}

impl Http {
    /// Returns a client that gives up after `idle` without data
    /// ([`IDLE`] outside tests).
    pub(super) fn new(idle: Duration) -> anyhow::Result<Http> {
        let client = Client::builder()
            .user_agent(concat!("memoria/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT)
            .timeout(idle)
            .tcp_keepalive(Duration::from_secs(30))
            .build()
            .context("cannot start the HTTP client for downloads")?;
        Ok(Http { client, idle })
    }

    /// Returns the retryable miss of a body that could not be received.
    pub(super) fn receiving(&self, err: &io::Error) -> Miss {
        let text = if is_timeout(err) {
            format!("timed out: no data for {} s", self.idle.as_secs_f64())
        } else {
            format!("connection error while receiving: {err}")
        };
        Miss::new(Kind::Transient, text)
    }

    /// Sends `GET url` and returns the answer when it is a success.
    pub(super) fn get(&self, url: &str, tag: Tag) -> Result<Response, Miss> {
        let mut request = self.client.get(url);
        if tag == Tag::Route {
            request = request.header(ROUTE_TAG.0, ROUTE_TAG.1);
        }
        let response = request.send().map_err(transport)?;
        log::trace!("GET download: HTTP {}", response.status().as_u16());
        success(response)
    }

    /// Sends the POST link `link` and returns the file URL it answers.
    pub(super) fn post(&self, link: &str) -> Result<String, Miss> {
        let (url, body) = link.split_once('?').unwrap_or((link, ""));
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .map_err(transport)?;
        log::trace!("POST download: HTTP {}", response.status().as_u16());
        let mut text = String::new();
        success(response)?
            .take(POST_ANSWER_LIMIT)
            .read_to_string(&mut text)
            .map_err(|e| self.receiving(&e))?;
        file_url(&text).ok_or_else(|| {
            Miss::new(Kind::Fatal, "unexpected answer to the download link")
        })
    }
}

/// Returns `response` when its status is a success, else its miss.
fn success(response: Response) -> Result<Response, Miss> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response.headers().get(RETRY_AFTER);
    Err(status_miss(status.as_u16(), retry_after.and_then(|v| v.to_str().ok())))
}

/// Returns the miss of an answer with HTTP status `code` and the
/// `Retry-After` header `retry_after`.
pub(super) fn status_miss(code: u16, retry_after: Option<&str>) -> Miss {
    match code {
        401 | 403 | 404 | 410 => {
            Miss::new(Kind::Refused, format!("HTTP {code} (link expired?)"))
        }
        429 | 500..=599 => Miss {
            wait: retry_after.and_then(crate::upload::retry_after),
            ..Miss::new(Kind::Busy, format!("HTTP {code}"))
        },
        _ => Miss::new(Kind::Fatal, format!("HTTP {code}")),
    }
}

/// Returns the trimmed body of a POST link's answer when it is an
/// absolute http(s) URL.
pub(super) fn file_url(body: &str) -> Option<String> {
    let text = body.trim();
    let url = reqwest::Url::parse(text).ok()?;
    let web = matches!(url.scheme(), "http" | "https");
    (web && url.has_host()).then(|| text.to_string())
}

/// Returns the retryable miss of a failed request. The URL is left out:
/// the report names the link already.
fn transport(err: reqwest::Error) -> Miss {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "connection error"
    };
    let err = err.without_url();
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    Miss::new(Kind::Transient, text)
}

/// Returns true when `err` is a read that waited too long: reqwest
/// wraps its own timeout error in an `io::Error` of kind `Other`.
fn is_timeout(err: &io::Error) -> bool {
    let inner = err.get_ref().and_then(|e| e.downcast_ref::<reqwest::Error>());
    err.kind() == io::ErrorKind::TimedOut
        || inner.is_some_and(reqwest::Error::is_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let cases: &[(u16, Kind, &str)] = &[
            (401, Kind::Refused, "HTTP 401 (link expired?)"),
            (403, Kind::Refused, "HTTP 403 (link expired?)"),
            (404, Kind::Refused, "HTTP 404 (link expired?)"),
            (410, Kind::Refused, "HTTP 410 (link expired?)"),
            (429, Kind::Busy, "HTTP 429"),
            (500, Kind::Busy, "HTTP 500"),
            (503, Kind::Busy, "HTTP 503"),
            (599, Kind::Busy, "HTTP 599"),
            (400, Kind::Fatal, "HTTP 400"),
            (408, Kind::Fatal, "HTTP 408"),
            (304, Kind::Fatal, "HTTP 304"),
        ];
        for &(code, kind, text) in cases {
            let miss = status_miss(code, None);
            assert_eq!((miss.kind, miss.error.as_str()), (kind, text));
            assert_eq!(miss.wait, None);
        }
    }

    #[test]
    fn retry_after_counts_only_for_busy_answers() {
        let wait = |code, value| status_miss(code, Some(value)).wait;
        assert_eq!(wait(429, "12"), Some(Duration::from_secs(12)));
        assert_eq!(wait(503, " 3 "), Some(Duration::from_secs(3)));
        assert_eq!(wait(500, "soon"), None);
        assert_eq!(wait(403, "12"), None);
    }

    #[test]
    fn post_answers_must_be_web_urls() {
        let url = "https://cdn.example.com/a/b.jpg?x=1&y=2";
        assert_eq!(file_url(&format!("  {url}\r\n")), Some(url.into()));
        assert_eq!(file_url("http://127.0.0.1:9/f"), Some(url_of(9)));
        for body in ["", "  ", "<html>error</html>", "/relative/path"] {
            assert_eq!(file_url(body), None, "{body:?}");
        }
        for body in ["ftp://host/file", "file:///etc/passwd", "data:,x"] {
            assert_eq!(file_url(body), None, "{body:?}");
        }
    }

    fn url_of(port: u16) -> String {
        format!("http://127.0.0.1:{port}/f")
    }
}
