//! A stand-in for Snapchat's memory download links (platforms.md §9b.10):
//! an HTTP server on 127.0.0.1 that answers the GET link
//! (`/dmd/mm?…&mid=…`) with the memory or a ZIP of main and overlay, the
//! POST link (`/dmd/memories`) with the URL of the file on the same server
//! (`/files/<mid>.<ext>`), plays scripted failures per memory, records
//! every request and measures how many run at once.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::fake_immich::http::{Action, Request, Response, Server};

/// The `ts` parameter of every link: 2026-01-13T20:10:41.137Z.
pub const TS: &str = "1768335041137";

/// What a memory's link delivers when it works.
#[derive(Clone, Debug)]
pub enum Answer {
    /// The memory itself (JPEG or MP4 bytes).
    Media(Vec<u8>),
    /// A ZIP holding `<mid>-main.jpg` and `<mid>-overlay.png`.
    Zip { main: Vec<u8>, overlay: Vec<u8> },
}

/// A scripted failure; every one carries `Retry-After: 0`.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// An empty answer with this status.
    Status(u16),
    /// A 200 answer with an HTML page.
    Html,
    /// A 200 answer with the first half of the memory's ZIP.
    TruncatedZip,
}

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The memory the request was about (the `mid` of the query or of
    /// the form body, or the stem of a `/files/` path).
    pub mid: Option<String>,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

struct Memory {
    answer: Answer,
    /// Played one per request on the GET link, before it answers.
    get_faults: VecDeque<Fault>,
    /// Played on every request about this memory, on any path.
    always: Option<Fault>,
}

#[derive(Default)]
struct State {
    port: OnceLock<u16>,
    memories: Mutex<HashMap<String, Memory>>,
    log: Mutex<Vec<Logged>>,
    violations: Mutex<Vec<String>>,
    refuse_all: AtomicBool,
    delay_ms: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// The running link server.
pub struct SnapServer {
    state: Arc<State>,
    server: Server,
}

impl SnapServer {
    pub fn start() -> SnapServer {
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let server = Server::start(Arc::new(move |req, body| {
            Action::Respond(handle(&shared, req, body))
        }));
        state.port.set(server.addr.port()).unwrap();
        SnapServer { state, server }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The GET link (`Media Download Url`) of memory `mid`.
    pub fn get_link(&self, mid: &str) -> String {
        format!("{}/dmd/mm?uid=u1&sid=s1&mid={mid}&ts={TS}&sig=x", self.base())
    }

    /// The POST link (`Download Link`) of memory `mid`.
    pub fn post_link(&self, mid: &str) -> String {
        format!("{}/dmd/memories?{}", self.base(), post_query(mid))
    }

    /// Makes memory `mid` downloadable.
    pub fn add(&self, mid: &str, answer: Answer) {
        self.state.memories.lock().unwrap().insert(
            mid.to_string(),
            Memory { answer, get_faults: VecDeque::new(), always: None },
        );
    }

    /// Plays `faults` on the next requests of memory `mid`'s GET link.
    pub fn fail_get(&self, mid: &str, faults: &[Fault]) {
        let mut memories = self.state.memories.lock().unwrap();
        let memory = memories.get_mut(mid).expect("memory added first");
        memory.get_faults.extend(faults.iter().cloned());
    }

    /// Answers every request about memory `mid` with `fault`.
    pub fn fail_always(&self, mid: &str, fault: Fault) {
        let mut memories = self.state.memories.lock().unwrap();
        let memory = memories.get_mut(mid).expect("memory added first");
        memory.always = Some(fault);
    }

    /// Answers every request with 403 (links expired).
    pub fn refuse_all(&self, on: bool) {
        self.state.refuse_all.store(on, Ordering::SeqCst);
    }

    /// Slows every answer down by `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.state.delay_ms.store(delay.as_millis() as usize, Ordering::SeqCst);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// The requests about memory `mid`.
    pub fn requests_for(&self, mid: &str) -> Vec<Logged> {
        self.requests()
            .into_iter()
            .filter(|r| r.mid.as_deref() == Some(mid))
            .collect()
    }

    /// Forgets the requests so far and the in-flight maximum.
    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
        self.state.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests that broke the protocol (wrong method, content type or
    /// form body, unknown path or memory).
    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }
}

/// The query of the POST link, which is also the expected form body.
pub fn post_query(mid: &str) -> String {
    format!("uid=u1&sid=s1&mid={mid}&ts={TS}&proxy=true&sig=x")
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a State);

impl<'a> InFlight<'a> {
    fn enter(state: &'a State) -> InFlight<'a> {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn handle(state: &State, req: &Request, body: &mut dyn Read) -> Response {
    let _guard = InFlight::enter(state);
    let mut bytes = Vec::new();
    let _ = body.read_to_end(&mut bytes);
    let form = crate::fake_immich::http::decode_query(
        &String::from_utf8_lossy(&bytes),
    );
    let param = |pairs: &[(String, String)], name: &str| {
        pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    };
    let mid = match req.path.as_str() {
        "/dmd/mm" => param(&req.query, "mid"),
        "/dmd/memories" => param(&form, "mid"),
        p => p.strip_prefix("/files/").map(|f| {
            f.rsplit_once('.').map_or(f, |(stem, _)| stem).to_string()
        }),
    };
    state.log.lock().unwrap().push(Logged {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: bytes.clone(),
        mid: mid.clone(),
    });
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        std::thread::sleep(Duration::from_millis(delay as u64));
    }
    if state.refuse_all.load(Ordering::SeqCst) {
        return fault_answer(&Fault::Status(403), None);
    }
    let violation = |text: String| {
        state.violations.lock().unwrap().push(text);
        status(400)
    };
    let Some(mid) = mid else {
        return violation(format!("{} {}: no memory", req.method, req.path));
    };
    let mut memories = state.memories.lock().unwrap();
    let Some(memory) = memories.get_mut(&mid) else {
        return violation(format!(
            "{} {}: unknown memory {mid}",
            req.method, req.path
        ));
    };
    if let Some(fault) = &memory.always {
        return fault_answer(fault, Some(&memory.answer));
    }
    match (req.path.as_str(), req.method.as_str()) {
        ("/dmd/mm", "GET") => {
            if let Some(fault) = memory.get_faults.pop_front() {
                return fault_answer(&fault, Some(&memory.answer));
            }
            match &memory.answer {
                Answer::Media(b) => media(b.clone()),
                Answer::Zip { .. } => media(zip_of(&mid, &memory.answer)),
            }
        }
        ("/dmd/memories", "POST") => {
            let ctype = req.header("content-type").unwrap_or("");
            if ctype != "application/x-www-form-urlencoded" {
                return violation(format!(
                    "POST {mid}: content type {ctype:?}"
                ));
            }
            let text = String::from_utf8_lossy(&bytes);
            if text != post_query(&mid) {
                return violation(format!("POST {mid}: body {text:?}"));
            }
            let port = state.port.get().copied().unwrap_or(0);
            let ext = ext_of(main_of(&memory.answer));
            Response {
                status: 200,
                content_type: "text/plain",
                headers: Vec::new(),
                body: format!("http://127.0.0.1:{port}/files/{mid}.{ext}\n")
                    .into_bytes(),
            }
        }
        (p, "GET") if p.starts_with("/files/") => {
            media(main_of(&memory.answer).to_vec())
        }
        (p, m) => violation(format!("{m} {p}: unexpected request")),
    }
}

fn main_of(answer: &Answer) -> &[u8] {
    match answer {
        Answer::Media(b) => b,
        Answer::Zip { main, .. } => main,
    }
}

/// `jpg` for JPEG bytes, `png` for PNG, else `mp4`.
fn ext_of(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        "jpg"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else {
        "mp4"
    }
}

/// The ZIP answer of a memory.
fn zip_of(mid: &str, answer: &Answer) -> Vec<u8> {
    match answer {
        Answer::Zip { main, overlay } => zip(&[
            (&format!("{mid}-main.{}", ext_of(main)), main),
            (&format!("{mid}-overlay.{}", ext_of(overlay)), overlay),
        ]),
        Answer::Media(b) => {
            zip(&[(&format!("{mid}-main.{}", ext_of(b)), b.as_slice())])
        }
    }
}

fn media(body: Vec<u8>) -> Response {
    // A misleading type on purpose: answers are judged by their bytes.
    Response {
        status: 200,
        content_type: "application/octet-stream",
        headers: Vec::new(),
        body,
    }
}

fn status(code: u16) -> Response {
    Response {
        status: code,
        content_type: "text/plain",
        headers: vec![("Retry-After".into(), "0".into())],
        body: Vec::new(),
    }
}

fn fault_answer(fault: &Fault, answer: Option<&Answer>) -> Response {
    match fault {
        Fault::Status(code) => status(*code),
        Fault::Html => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: vec![("Retry-After".into(), "0".into())],
            body:
                b"<!DOCTYPE html><html><body>Something went wrong</body></html>"
                    .to_vec(),
        },
        Fault::TruncatedZip => {
            let full = answer.map_or_else(
                || zip(&[("x-main.jpg", b"xxxx".as_slice())]),
                |a| zip_of("x", a),
            );
            Response {
                status: 200,
                content_type: "application/zip",
                headers: vec![("Retry-After".into(), "0".into())],
                body: full[..full.len() / 2].to_vec(),
            }
        }
    }
}

/// CRC-32 (IEEE, as in ZIP).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc =
                if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Builds a ZIP of stored (uncompressed) entries.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    // 2026-01-13 01:55:38 as a DOS date and time.
    let (time, date): (u16, u16) =
        ((1 << 11) | (55 << 5) | 19, (46 << 9) | (1 << 5) | 13);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let fixed = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&time.to_le_bytes());
            h.extend_from_slice(&date.to_le_bytes());
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            h
        };
        out.extend(fixed(0x0403_4b50, false));
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend(fixed(0x0201_4b50, true));
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Sends one raw HTTP/1.1 request and returns status, lower-cased
/// headers and body.
fn raw(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::Write;
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    // The server keeps connections alive: read exactly one answer.
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    let code = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut answer_headers = Vec::new();
    loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        answer_headers
            .push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = answer_headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    (code, answer_headers, body)
}

#[test]
fn the_link_server_answers_scripts_and_records_requests() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let srv = SnapServer::start();
    let photo = crate::support::jpeg(1);
    srv.add("AB-1", Answer::Media(photo.clone()));
    srv.add(
        "CD-2",
        Answer::Zip { main: photo.clone(), overlay: crate::support::png(2) },
    );
    srv.fail_get("AB-1", &[Fault::Status(429), Fault::Html]);
    let get = srv.get_link("AB-1");
    let target = get.trim_start_matches(&srv.base()).to_string();
    let tag = [("X-Snap-Route-Tag", "mem-dmd")];

    // Scripted failures first, each with Retry-After: 0, then the memory.
    let (code, headers, _) = raw(&srv.base(), "GET", &target, &tag, b"");
    assert_eq!(code, 429);
    assert!(headers.contains(&("retry-after".into(), "0".into())));
    let (code, _, body) = raw(&srv.base(), "GET", &target, &tag, b"");
    assert_eq!(code, 200);
    assert!(body.starts_with(b"<!DOCTYPE html>"));
    let (code, _, body) = raw(&srv.base(), "GET", &target, &tag, b"");
    assert_eq!((code, body == photo), (200, true));

    // The ZIP answer: two stored entries named after the memory.
    let cd = srv.get_link("CD-2");
    let (code, _, body) =
        raw(&srv.base(), "GET", cd.trim_start_matches(&srv.base()), &[], b"");
    assert_eq!(code, 200);
    assert!(body.starts_with(b"PK\x03\x04"));
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("CD-2-main.jpg") && text.contains("CD-2-overlay.png")
    );
    assert_eq!(&body[body.len() - 22..body.len() - 18], b"PK\x05\x06");
    assert_eq!(body[body.len() - 12], 2, "two entries");

    // The POST link: form body checked, answered with a file URL that
    // serves the memory.
    let form = post_query("AB-1");
    let ctype = [("Content-Type", "application/x-www-form-urlencoded")];
    let (code, _, body) =
        raw(&srv.base(), "POST", "/dmd/memories", &ctype, form.as_bytes());
    assert_eq!(code, 200);
    let url = String::from_utf8(body).unwrap();
    assert_eq!(url.trim(), format!("{}/files/AB-1.jpg", srv.base()));
    let (code, _, body) = raw(&srv.base(), "GET", "/files/AB-1.jpg", &[], b"");
    assert_eq!((code, body == photo), (200, true));
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());
    let (code, _, _) =
        raw(&srv.base(), "POST", "/dmd/memories", &[], form.as_bytes());
    assert_eq!(code, 400);
    assert_eq!(srv.violations().len(), 1);

    // Everything was recorded.
    let log = srv.requests_for("AB-1");
    assert_eq!(log.len(), 6);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/dmd/mm");
    assert!(log[0].query.contains(&("mid".into(), "AB-1".into())));
    assert!(log[0].query.contains(&("ts".into(), TS.into())));
    assert_eq!(log[0].header("x-snap-route-tag"), Some("mem-dmd"));
    assert_eq!(log[3].method, "POST");
    assert_eq!(log[3].body, form.as_bytes());
    assert_eq!(log[4].path, "/files/AB-1.jpg");
    assert_eq!(srv.max_in_flight(), 1);

    // Failing always, and refusing everything.
    srv.fail_always("CD-2", Fault::Status(404));
    let (code, _, _) =
        raw(&srv.base(), "GET", cd.trim_start_matches(&srv.base()), &[], b"");
    assert_eq!(code, 404);
    srv.refuse_all(true);
    srv.clear_log();
    let (code, _, _) = raw(&srv.base(), "GET", &target, &tag, b"");
    assert_eq!(code, 403);
    assert_eq!(srv.requests().len(), 1);
}
