//! A streaming `multipart/form-data` parser: file parts are hashed
//! (SHA-1) and counted as they arrive, never held in memory whole, so the
//! fake takes multi-GB uploads with bounded memory.

use std::io::Read;

use sha1::{Digest, Sha1};

/// Text parts larger than this are refused.
const MAX_TEXT: usize = 1 << 20;
/// File parts up to this size are also kept (sidecars).
const KEEP_BYTES: u64 = 1 << 16;

/// One part of the form.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    /// The value of a text part.
    pub text: Option<String>,
    /// Bytes of the part's body.
    pub size: u64,
    /// Hex SHA-1 of a file part's body.
    pub sha1: Option<String>,
    /// The bytes of a small file part.
    pub bytes: Option<Vec<u8>>,
}

/// Returns the boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == "boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Parses the whole body.
pub fn parse(boundary: &str, body: &mut dyn Read) -> Result<Vec<Part>, String> {
    let mut scan = Scanner { reader: body, buf: Vec::new(), pos: 0 };
    let first = format!("--{boundary}");
    scan.until(first.as_bytes(), &mut |_| {})?;
    let delim = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    loop {
        match &scan.take(2)?[..] {
            b"--" => return Ok(parts),
            b"\r\n" => {}
            other => return Err(format!("bad boundary tail {other:?}")),
        }
        let mut part = head(&mut scan)?;
        let mut hasher = Sha1::new();
        let mut kept = Vec::new();
        let file = part.filename.is_some();
        let mut size = 0u64;
        let mut too_big = false;
        scan.until(delim.as_bytes(), &mut |chunk| {
            size += chunk.len() as u64;
            if file {
                hasher.update(chunk);
                if size <= KEEP_BYTES {
                    kept.extend_from_slice(chunk);
                }
            } else if kept.len() + chunk.len() <= MAX_TEXT {
                kept.extend_from_slice(chunk);
            } else {
                too_big = true;
            }
        })?;
        if too_big {
            return Err(format!("text part {} too large", part.name));
        }
        part.size = size;
        if file {
            part.sha1 = Some(hex(&hasher.finalize()));
            part.bytes = (size <= KEEP_BYTES).then_some(kept);
        } else {
            let text = String::from_utf8(kept)
                .map_err(|_| format!("text part {} is not UTF-8", part.name))?;
            part.text = Some(text);
        }
        parts.push(part);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a part's headers.
fn head(scan: &mut Scanner) -> Result<Part, String> {
    let mut part = Part {
        name: String::new(),
        filename: None,
        content_type: None,
        text: None,
        size: 0,
        sha1: None,
        bytes: None,
    };
    let mut named = false;
    loop {
        let mut line = Vec::new();
        scan.until(b"\r\n", &mut |c| line.extend_from_slice(c))?;
        if line.is_empty() {
            break;
        }
        let line = String::from_utf8(line)
            .map_err(|_| "part header is not UTF-8".to_string())?;
        let (key, value) =
            line.split_once(':').ok_or(format!("bad part header {line}"))?;
        match key.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                for (k, v) in disposition(value)? {
                    match k.as_str() {
                        "name" => {
                            part.name = v;
                            named = true;
                        }
                        "filename" => part.filename = Some(v),
                        other => {
                            return Err(format!(
                                "unexpected disposition parameter {other}"
                            ))
                        }
                    }
                }
            }
            "content-type" => part.content_type = Some(value.trim().into()),
            _ => {}
        }
    }
    if !named {
        return Err("part without a name".into());
    }
    Ok(part)
}

/// Parses `form-data; name="x"; filename="y"` with `\"`/`\\` escapes.
fn disposition(value: &str) -> Result<Vec<(String, String)>, String> {
    let value = value.trim();
    let rest = value
        .strip_prefix("form-data")
        .ok_or(format!("not form-data: {value}"))?;
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | ';')) {
            chars.next();
        }
        let Some(_) = chars.peek() else { return Ok(params) };
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if chars.next() != Some('"') {
            return Err(format!("unquoted parameter {key}"));
        }
        let mut text = String::new();
        loop {
            match chars.next() {
                Some('\\') => text.extend(chars.next()),
                Some('"') => break,
                Some(c) => text.push(c),
                None => return Err("unterminated quote".into()),
            }
        }
        params.push((key.trim().to_string(), text));
    }
}

/// A buffered reader that finds delimiters across chunk edges.
struct Scanner<'a> {
    reader: &'a mut dyn Read,
    buf: Vec<u8>,
    pos: usize,
}

impl Scanner<'_> {
    /// Reads more; false at end of stream.
    fn fill(&mut self) -> Result<bool, String> {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + (1 << 16), 0);
        let n = self
            .reader
            .read(&mut self.buf[start..])
            .map_err(|e| e.to_string())?;
        self.buf.truncate(start + n);
        Ok(n > 0)
    }

    /// Returns the next `n` bytes.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buf.len() - self.pos < n {
            if !self.fill()? {
                return Err("body ended early".into());
            }
        }
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(out)
    }

    /// Feeds everything before `delim` to `sink` and skips `delim`.
    fn until(
        &mut self,
        delim: &[u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
        loop {
            let window = &self.buf[self.pos..];
            if let Some(at) = find(window, delim) {
                sink(&window[..at]);
                self.pos += at + delim.len();
                return Ok(());
            }
            let safe = window.len().saturating_sub(delim.len() - 1);
            sink(&window[..safe]);
            self.pos += safe;
            if !self.fill()? {
                return Err("body ended before the boundary".into());
            }
        }
    }
}

/// Finds `needle` in `hay`, scanning for its first byte.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if hay.len() - at < needle.len() {
            return None;
        }
        if &hay[at..at + needle.len()] == needle {
            return Some(at);
        }
        from = at + 1;
    }
    None
}
