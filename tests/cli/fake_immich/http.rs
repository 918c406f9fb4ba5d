//! A minimal HTTP/1.1 server on 127.0.0.1 for the fake Immich: keep-alive,
//! `Content-Length` bodies streamed to the handler (no chunked requests),
//! and full control over faults (dropped connections, slow answers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One request: head parsed, body left to the handler.
pub struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub content_length: Option<u64>,
    pub chunked: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An answer.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    pub fn html(status: u16) -> Response {
        Response {
            status,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: b"<!doctype html><html><body>Immich web</body></html>"
                .to_vec(),
        }
    }
}

/// What the handler wants done with a request.
pub enum Action {
    Respond(Response),
    /// Close the connection without answering (after reading part of
    /// the body, as a reset during upload would).
    Drop,
}

/// The handler: gets the request and its body reader.
pub type Handler = Arc<dyn Fn(&Request, &mut dyn Read) -> Action + Send + Sync>;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || connection(stream, &handler));
            }
        });
        Server { addr, stop, thread: Some(thread) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves requests on one connection until it closes.
fn connection(stream: TcpStream, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    // Answers go out in one write; without this, Nagle's algorithm and
    // delayed ACKs add 40 ms to every request.
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    loop {
        let Some(request) = read_head(&mut reader) else { return };
        if request.chunked {
            let answer = Response::json(
                411,
                &serde_json::json!({"message": "Content-Length required"}),
            );
            let _ = write(&mut out, &answer, false);
            return;
        }
        let len = request.content_length.unwrap_or(0);
        let mut body = (&mut reader).take(len);
        match handler(&request, &mut body) {
            Action::Drop => {
                let _ = out.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Respond(answer) => {
                // Read what the handler left so the next request starts
                // at its head.
                if std::io::copy(&mut body, &mut std::io::sink()).is_err() {
                    return;
                }
                if write(&mut out, &answer, true).is_err() {
                    return;
                }
            }
        }
    }
}

/// Reads a request head; `None` at end of stream or on garbage.
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), decode_query(q)),
        None => (target, Vec::new()),
    };
    let find = |name: &str| {
        headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    };
    let content_length = find("content-length").and_then(|v| v.parse().ok());
    let chunked = find("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    Some(Request { method, path, query, headers, content_length, chunked })
}

/// Decodes `a=b&c=d` with `+` as space and percent escapes.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex =
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn write(
    out: &mut TcpStream,
    answer: &Response,
    keep: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n\
         connection: {}\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len(),
        if keep { "keep-alive" } else { "close" }
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&answer.body);
    out.write_all(&bytes)?;
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
