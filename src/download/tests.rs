//! End-to-end tests of downloads against a small HTTP server on
//! 127.0.0.1 inside the test process (platforms.md §9b.10); waits between
//! attempts are recorded instead of slept.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::unzip::tests::zip_of;
use super::*;

/// A request the server received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Seen {
    /// Returns header `name` (any case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// An answer of the server.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// A pause after the first half of the body.
    stall: Option<Duration>,
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply { status, headers: Vec::new(), body: body.to_vec(), stall: None }
}

/// Decides the answer to a request, given how many earlier requests had
/// the same path and the server's base URL.
type Handler = dyn Fn(&Seen, usize, &str) -> Reply + Send + Sync;

/// An HTTP/1.1 server, a thread per connection, that records requests.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(
        handler: impl Fn(&Seen, usize, &str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, url) = (seen.clone(), base.clone());
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, log, url) =
                    (handler.clone(), log.clone(), url.clone());
                std::thread::spawn(move || {
                    serve(stream, &*handler, &log, &url)
                });
            }
        });
        Server { base, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Answers the one request of `stream`.
fn serve(
    stream: TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<Seen>>,
    base: &str,
) {
    let mut reader = BufReader::new(stream);
    let Some(seen) = read_request(&mut reader) else { return };
    let earlier = {
        let mut log = log.lock().unwrap();
        let n = log.iter().filter(|s| s.path == seen.path).count();
        log.push(seen.clone());
        n
    };
    let answer = handler(&seen, earlier, base);
    let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        answer.body.len()
    ));
    let mut stream = reader.into_inner();
    let _ = stream.write_all(head.as_bytes());
    let (first, rest) = answer.body.split_at(answer.body.len() / 2);
    let _ = stream.write_all(first);
    if let Some(pause) = answer.stall {
        let _ = stream.flush();
        std::thread::sleep(pause);
    }
    let _ = stream.write_all(rest);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.to_ascii_lowercase(), value.trim().to_string());
    }
    let length =
        headers.get("content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { method, path, headers, body })
}

/// Returns a downloader and the waits it asked for.
fn downloader() -> (Downloader, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let log = waits.clone();
    let sleep = Box::new(move |d| log.lock().unwrap().push(d));
    (Downloader::with_sleep(sleep).unwrap(), waits)
}

fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|&s| Duration::from_secs(s)).collect()
}

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb([200, 30, 10]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg() -> Vec<u8> {
    encoded(image::ImageFormat::Jpeg)
}

fn png() -> Vec<u8> {
    encoded(image::ImageFormat::Png)
}

fn mp4() -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41".to_vec();
    bytes.extend_from_slice(b"\0\0\0\x10mdat0123456789ab");
    bytes
}

/// Returns GET requests pairing `keys` with `links`.
fn gets<'a>(
    keys: &'a [impl AsRef<str>],
    links: &'a [String],
) -> Vec<Request<'a>> {
    keys.iter()
        .zip(links)
        .map(|(key, link)| Request {
            key: key.as_ref(),
            get: Some(link),
            post: None,
        })
        .collect()
}

/// Returns the names in `dir`, sorted.
pub(super) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn get(key: &str, link: &str) -> (String, String) {
    (key.to_string(), link.to_string())
}

fn fetch_get(
    server_link: &str,
    dir: &Path,
) -> (Result<Fetched, Failure>, Vec<Duration>) {
    let (downloader, waits) = downloader();
    let (key, link) = get("k", server_link);
    let request = Request { key: &key, get: Some(&link), post: None };
    let result = downloader.fetch(dir, &request);
    let waits = waits.lock().unwrap().clone();
    (result, waits)
}

#[test]
fn plain_jpeg_answer_is_stored_with_the_route_tag_and_agent() {
    let image = jpeg();
    let body = image.clone();
    let server = Server::start(move |_, _, _| reply(200, &body));
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let link = server.url("/dmd/mm?uid=1&mid=2&ts=3&sig=4");
    let (result, waits) = fetch_get(&link, &cache);
    let fetched = result.unwrap();
    assert_eq!(fetched.files.main, cache.join("k-main.jpg"));
    assert_eq!(fetched.files.overlay, None);
    assert_eq!(fetched.url, link);
    assert!(fetched.warnings.is_empty());
    assert_eq!(std::fs::read(&fetched.files.main).unwrap(), image);
    assert_eq!(names(&cache), ["k-main.jpg"]);
    assert!(waits.is_empty());
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/dmd/mm?uid=1&mid=2&ts=3&sig=4");
    assert_eq!(seen[0].header("X-Snap-Route-Tag"), Some("mem-dmd"));
    let agent = concat!("memoria/", env!("CARGO_PKG_VERSION"));
    assert_eq!(seen[0].header("User-Agent"), Some(agent));
    assert_eq!(Listing::read(&cache).get("k"), Some(fetched.files));
}

#[test]
fn zip_answer_gives_main_and_overlay() {
    let (video, overlay) = (mp4(), png());
    let zip = zip_of(&[
        ("abc-overlay.png", &overlay),
        ("abc-main.mp4", &video),
        ("__MACOSX/._abc-main.mp4", b"junk"),
    ]);
    let server = Server::start(move |_, _, _| reply(200, &zip));
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = fetch_get(&server.url("/z"), dir.path());
    let files = result.unwrap().files;
    assert_eq!(files.main, dir.path().join("k-main.mp4"));
    assert_eq!(files.overlay, Some(dir.path().join("k-overlay.png")));
    assert_eq!(std::fs::read(&files.main).unwrap(), video);
    assert_eq!(std::fs::read(files.overlay.unwrap()).unwrap(), overlay);
    assert_eq!(names(dir.path()), ["k-main.mp4", "k-overlay.png"]);
}

#[test]
fn refused_link_fails_at_once() {
    let server = Server::start(|_, _, _| reply(403, b"<html>denied</html>"));
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    let failure = result.unwrap_err();
    assert_eq!(failure.error, "HTTP 403 (link expired?)");
    assert!(failure.refused);
    assert!(waits.is_empty());
    assert_eq!(server.seen().len(), 1);
    assert!(names(dir.path()).is_empty());
}

#[test]
fn other_statuses_fail_at_once() {
    let server = Server::start(|_, _, _| reply(400, b"bad"));
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    let failure = result.unwrap_err();
    assert_eq!((failure.error.as_str(), failure.refused), ("HTTP 400", false));
    assert!(waits.is_empty());
}

#[test]
fn server_error_is_retried_then_succeeds() {
    let image = jpeg();
    let server = Server::start(move |_, n, _| match n {
        0 => reply(500, b"oops"),
        _ => reply(200, &image),
    });
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    assert!(result.is_ok());
    assert_eq!(waits, secs(&[2]));
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn retry_after_replaces_the_wait() {
    let image = jpeg();
    let server = Server::start(move |_, n, _| match n {
        0 => Reply {
            headers: vec![("Retry-After", "7".into())],
            ..reply(429, b"")
        },
        1 => Reply {
            headers: vec![("Retry-After", "600".into())],
            ..reply(503, b"")
        },
        2 => reply(502, b""),
        _ => reply(200, &image),
    });
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    assert!(result.is_ok());
    assert_eq!(waits, secs(&[7, 60, 10]));
}

#[test]
fn html_answer_is_unexpected_content_after_retries() {
    let server = Server::start(|_, _, _| reply(200, b"<!DOCTYPE html><p>gone"));
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    let failure = result.unwrap_err();
    assert_eq!(
        failure,
        Failure { error: "unexpected content".into(), refused: false }
    );
    assert_eq!(waits, secs(&[2, 5, 10]));
    assert_eq!(server.seen().len(), 4);
    assert!(names(dir.path()).is_empty(), "no temporary file is left");
}

#[test]
fn truncated_zip_is_retried() {
    let zip = zip_of(&[("a-main.jpg", &jpeg()), ("a-overlay.png", &png())]);
    let server = Server::start(move |_, n, _| match n {
        0 => reply(200, &zip[..zip.len() / 2]),
        _ => reply(200, &zip),
    });
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&server.url("/x"), dir.path());
    assert!(result.unwrap().files.overlay.is_some());
    assert_eq!(waits, secs(&[2]));
    assert_eq!(names(dir.path()), ["k-main.jpg", "k-overlay.png"]);
}

#[test]
fn stalled_answers_are_retried() {
    let image = jpeg();
    let server = Server::start(move |_, n, _| Reply {
        stall: (n == 0).then_some(Duration::from_millis(1500)),
        ..reply(200, &image)
    });
    let dir = tempfile::tempdir().unwrap();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let log = waits.clone();
    let sleep = Box::new(move |d| log.lock().unwrap().push(d));
    let idle = Duration::from_millis(300);
    let downloader = Downloader::with_idle(sleep, idle).unwrap();
    let link = server.url("/x");
    let request = Request { key: "k", get: Some(&link), post: None };
    let fetched = downloader.fetch(dir.path(), &request).unwrap();
    assert_eq!(std::fs::read(fetched.files.main).unwrap(), jpeg());
    assert_eq!(*waits.lock().unwrap(), secs(&[2]));
    assert_eq!(names(dir.path()), ["k-main.jpg"]);
    // The stall's message, checked apart since the retry hides it.
    let server = Server::start(|_, _, _| Reply {
        stall: Some(Duration::from_millis(1500)),
        ..reply(200, &jpeg())
    });
    let link = server.url("/y");
    let request = Request { key: "k", get: Some(&link), post: None };
    let failure = downloader.fetch(dir.path(), &request).unwrap_err();
    assert_eq!(failure.error, "timed out: no data for 0.3 s");
}

#[test]
fn redirects_are_followed() {
    let image = jpeg();
    let server = Server::start(move |seen, _, base| match seen.path.as_str() {
        "/old" => Reply {
            headers: vec![("Location", format!("{base}/new"))],
            ..reply(302, b"")
        },
        _ => reply(200, &image),
    });
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = fetch_get(&server.url("/old"), dir.path());
    assert_eq!(result.unwrap().url, server.url("/old"));
    let paths: Vec<String> =
        server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/old", "/new"]);
}

#[test]
fn connection_errors_are_retried() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (result, waits) = fetch_get(&format!("http://{port}/x"), dir.path());
    let failure = result.unwrap_err();
    assert!(
        failure.error.starts_with("connection failed"),
        "{}",
        failure.error
    );
    assert!(!failure.error.contains('\n'));
    assert!(!failure.refused);
    assert_eq!(waits, secs(&[2, 5, 10]));
}

/// A server whose POST link answers the URL of `/file/a.jpg`.
fn post_server(get_status: u16) -> Server {
    let image = jpeg();
    Server::start(move |seen, _, base| match seen.path.as_str() {
        "/dmd/memories" => {
            reply(200, format!("  {base}/file/a.jpg\n").as_bytes())
        }
        "/file/a.jpg" => reply(200, &image),
        _ => reply(get_status, b""),
    })
}

#[test]
fn post_link_answers_a_url_that_is_fetched() {
    let server = post_server(404);
    let dir = tempfile::tempdir().unwrap();
    let (downloader, waits) = downloader();
    let link = server.url("/dmd/memories?uid=u&sid=s&proxy=true&sig=a%2Bb");
    let request = Request { key: "k", get: None, post: Some(&link) };
    let fetched = downloader.fetch(dir.path(), &request).unwrap();
    assert_eq!(fetched.url, link);
    assert!(fetched.warnings.is_empty());
    assert_eq!(fetched.files.main, dir.path().join("k-main.jpg"));
    assert!(waits.lock().unwrap().is_empty());
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/dmd/memories")
    );
    assert_eq!(
        seen[0].header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].body, b"uid=u&sid=s&proxy=true&sig=a%2Bb");
    let agent = concat!("memoria/", env!("CARGO_PKG_VERSION"));
    assert_eq!(seen[0].header("User-Agent"), Some(agent));
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", "/file/a.jpg")
    );
    assert_eq!(seen[1].header("X-Snap-Route-Tag"), None, "a plain GET");
}

#[test]
fn busy_get_link_falls_back_to_post_with_a_warning() {
    let server = post_server(503);
    let dir = tempfile::tempdir().unwrap();
    let (downloader, waits) = downloader();
    let (get, post) =
        (server.url("/dmd/mm?a=1"), server.url("/dmd/memories?b=2"));
    let request = Request { key: "k", get: Some(&get), post: Some(&post) };
    let fetched = downloader.fetch(dir.path(), &request).unwrap();
    assert_eq!(fetched.url, post);
    assert_eq!(
        fetched.warnings,
        ["the GET link failed (HTTP 503); fetched through the POST link, so \
          the overlay may be missing"]
    );
    assert_eq!(*waits.lock().unwrap(), secs(&[2, 5, 10]));
    assert_eq!(server.seen().len(), 6);
}

#[test]
fn refused_get_link_does_not_fall_back() {
    let server = post_server(410);
    let dir = tempfile::tempdir().unwrap();
    let (downloader, _) = downloader();
    let (get, post) =
        (server.url("/dmd/mm?a=1"), server.url("/dmd/memories?b=2"));
    let request = Request { key: "k", get: Some(&get), post: Some(&post) };
    let failure = downloader.fetch(dir.path(), &request).unwrap_err();
    assert_eq!(failure.error, "HTTP 410 (link expired?)");
    assert!(failure.refused);
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn post_answer_that_is_not_a_url_fails() {
    let server = Server::start(|_, _, _| reply(200, b"<html>no</html>"));
    let dir = tempfile::tempdir().unwrap();
    let (downloader, waits) = downloader();
    let link = server.url("/dmd/memories?x=1");
    let request = Request { key: "k", get: None, post: Some(&link) };
    let failure = downloader.fetch(dir.path(), &request).unwrap_err();
    assert_eq!(failure.error, "unexpected answer to the download link");
    assert!(waits.lock().unwrap().is_empty());
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn requests_without_links_or_with_bad_keys_fail() {
    let (downloader, _) = downloader();
    let dir = tempfile::tempdir().unwrap();
    let request = Request { key: "k", get: None, post: None };
    let failure = downloader.fetch(dir.path(), &request).unwrap_err();
    assert_eq!(failure.error, "no download link");
    let request =
        Request { key: "../k", get: Some("http://127.0.0.1:9/"), post: None };
    let failure = downloader.fetch(dir.path(), &request).unwrap_err();
    assert_eq!(failure.error, "invalid cache key \"../k\"");
}

#[test]
fn fetch_all_keeps_request_order() {
    let server = Server::start(|seen, _, _| match seen.path.as_str() {
        "/gone" => reply(404, b""),
        "/video" => reply(200, &mp4()),
        _ => reply(200, &jpeg()),
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".memoria-tmp-99-1"), b"stale").unwrap();
    let links: Vec<String> = ["/a", "/gone", "/video", "/b", "/c"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    let keys = ["a", "gone", "video", "b", "c"];
    let requests = gets(&keys, &links);
    let (downloader, _) = downloader();
    let count = AtomicUsize::new(0);
    let done = || {
        count.fetch_add(1, Ordering::Relaxed);
    };
    let results =
        downloader.fetch_all(dir.path(), &requests, 3, &done, &|| false);
    assert_eq!(count.load(Ordering::Relaxed), 5);
    let mains: Vec<Option<String>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|f| names_of(&f.files.main)))
        .collect();
    let want = [
        Some("a-main.jpg"),
        None,
        Some("video-main.mp4"),
        Some("b-main.jpg"),
        Some("c-main.jpg"),
    ];
    assert_eq!(mains, want.map(|n| n.map(String::from)));
    assert!(results[1].as_ref().is_err_and(|f| f.refused));
    assert!(!names(dir.path()).iter().any(|n| n.starts_with(".memoria-tmp")));
}

fn names_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn fetch_all_stops_starting_fetches() {
    let server = Server::start(|_, _, _| reply(200, &jpeg()));
    let links: Vec<String> =
        (0..5).map(|i| server.url(&format!("/{i}"))).collect();
    let keys: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
    let requests = gets(&keys, &links);
    let dir = tempfile::tempdir().unwrap();
    let (downloader, _) = downloader();
    let count = AtomicUsize::new(0);
    let done = || {
        count.fetch_add(1, Ordering::Relaxed);
    };
    let stop = || count.load(Ordering::Relaxed) >= 2;
    let results = downloader.fetch_all(dir.path(), &requests, 1, &done, &stop);
    assert_eq!(results.len(), 5);
    assert!(results[..2].iter().all(Result::is_ok));
    for result in &results[2..] {
        let failure = result.as_ref().unwrap_err();
        assert_eq!(failure.error, "interrupted");
    }
    assert_eq!(server.seen().len(), 2);
    assert!(downloader.fetch_all(dir.path(), &[], 4, &done, &stop).is_empty());
}

#[test]
fn fetch_all_runs_at_most_eight_at_once() {
    let busy = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, peak) = (busy.clone(), most.clone());
    let server = Server::start(move |_, _, _| {
        let running = now.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(running, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        now.fetch_sub(1, Ordering::SeqCst);
        reply(200, &jpeg())
    });
    let links: Vec<String> =
        (0..20).map(|i| server.url(&format!("/{i}"))).collect();
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let requests = gets(&keys, &links);
    let dir = tempfile::tempdir().unwrap();
    let (downloader, _) = downloader();
    let results =
        downloader.fetch_all(dir.path(), &requests, 50, &|| {}, &|| false);
    assert!(results.iter().all(Result::is_ok));
    let most = most.load(Ordering::SeqCst);
    assert!((2..=8).contains(&most), "{most} at once");
}
