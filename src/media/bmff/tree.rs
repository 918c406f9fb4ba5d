//! In-memory box tree for the `moov` box of an ISO-BMFF file.
//!
//! Only the boxes the writer must look into are expanded into children;
//! everything else stays raw bytes, so an unmodified tree serializes back
//! to the exact bytes it was parsed from (metadata.md §6 "MP4 family":
//! every other box is kept unchanged and in order).

/// A four-character box type.
pub(crate) type FourCc = [u8; 4];

/// One box: its type, header form and content.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// Box type.
    pub(crate) kind: FourCc,
    /// True when the box was stored with a 64-bit size; kept on rewrite so
    /// untouched boxes keep their bytes.
    large: bool,
    /// Content after the header.
    pub(crate) body: Body,
}

/// The content of a box.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// Bytes not looked into.
    Raw(Vec<u8>),
    /// A container: optional bytes before the children (the version and
    /// flags of a full-box `meta`), the children, and trailing bytes (the
    /// 32-bit zero terminator QuickTime allows at the end of `udta`).
    Tree { prefix: Vec<u8>, children: Vec<Node>, tail: Vec<u8> },
}

/// A box header found in a byte slice.
struct Header {
    kind: FourCc,
    header_len: usize,
    total_len: usize,
    large: bool,
}

impl Node {
    /// Returns a raw box with a 32-bit size header.
    pub(crate) fn raw(kind: FourCc, payload: Vec<u8>) -> Node {
        Node { kind, large: false, body: Body::Raw(payload) }
    }

    /// Returns a container box with the given prefix and children.
    pub(crate) fn tree(
        kind: FourCc,
        prefix: Vec<u8>,
        children: Vec<Node>,
    ) -> Node {
        let body = Body::Tree { prefix, children, tail: Vec::new() };
        Node { kind, large: false, body }
    }

    /// Returns a raw box whose header form is `large`.
    pub(crate) fn with_header(
        kind: FourCc,
        large: bool,
        payload: Vec<u8>,
    ) -> Node {
        Node { kind, large, body: Body::Raw(payload) }
    }

    /// Returns the raw payload, or `None` for an expanded container.
    pub(crate) fn payload(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Raw(bytes) => Some(bytes),
            Body::Tree { .. } => None,
        }
    }

    /// Returns the raw payload for editing, or `None` for a container.
    pub(crate) fn payload_mut(&mut self) -> Option<&mut Vec<u8>> {
        match &mut self.body {
            Body::Raw(bytes) => Some(bytes),
            Body::Tree { .. } => None,
        }
    }

    /// Returns the children of an expanded container (empty when raw).
    pub(crate) fn children(&self) -> &[Node] {
        match &self.body {
            Body::Tree { children, .. } => children,
            Body::Raw(_) => &[],
        }
    }

    /// Returns the children of an expanded container for editing.
    pub(crate) fn children_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.body {
            Body::Tree { children, .. } => Some(children),
            Body::Raw(_) => None,
        }
    }

    /// Returns the first child of type `kind`.
    pub(crate) fn child(&self, kind: &FourCc) -> Option<&Node> {
        self.children().iter().find(|c| &c.kind == kind)
    }

    /// Returns the first child of type `kind` for editing.
    pub(crate) fn child_mut(&mut self, kind: &FourCc) -> Option<&mut Node> {
        self.children_mut()?.iter_mut().find(|c| &c.kind == kind)
    }

    /// Expands a raw box into children, skipping `prefix_len` leading
    /// bytes; a box already expanded is left alone.
    pub(crate) fn expand(&mut self, prefix_len: usize) -> Result<(), String> {
        let Body::Raw(bytes) = &mut self.body else { return Ok(()) };
        let kind = String::from_utf8_lossy(&self.kind).into_owned();
        let Some((prefix, rest)) = bytes.split_at_checked(prefix_len) else {
            return Err(format!("{kind} box too short"));
        };
        let (children, tail) =
            parse_children(rest).map_err(|e| format!("{kind}: {e}"))?;
        let prefix = prefix.to_vec();
        self.body = Body::Tree { prefix, children, tail };
        Ok(())
    }

    /// Returns the serialized size of the box, header included.
    pub(crate) fn size(&self) -> u64 {
        let payload = self.payload_len();
        payload + self.header_len(payload)
    }

    fn payload_len(&self) -> u64 {
        match &self.body {
            Body::Raw(bytes) => bytes.len() as u64,
            Body::Tree { prefix, children, tail } => {
                let inner: u64 = children.iter().map(Node::size).sum();
                prefix.len() as u64 + inner + tail.len() as u64
            }
        }
    }

    fn header_len(&self, payload: u64) -> u64 {
        if self.large || payload + 8 > u64::from(u32::MAX) {
            16
        } else {
            8
        }
    }

    /// Appends the serialized box to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let payload = self.payload_len();
        let total = payload + self.header_len(payload);
        match u32::try_from(total) {
            Ok(size) if self.header_len(payload) == 8 => {
                out.extend_from_slice(&size.to_be_bytes());
                out.extend_from_slice(&self.kind);
            }
            _ => {
                out.extend_from_slice(&1u32.to_be_bytes());
                out.extend_from_slice(&self.kind);
                out.extend_from_slice(&total.to_be_bytes());
            }
        }
        match &self.body {
            Body::Raw(bytes) => out.extend_from_slice(bytes),
            Body::Tree { prefix, children, tail } => {
                out.extend_from_slice(prefix);
                children.iter().for_each(|c| c.write_to(out));
                out.extend_from_slice(tail);
            }
        }
    }

    /// Returns the serialized box.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

/// Splits `data` into raw child boxes plus trailing bytes.
///
/// Trailing bytes are accepted only when they are all zero and either
/// shorter than a header or start with a zero size (the QuickTime `udta`
/// terminator); anything else is an error.
pub(crate) fn parse_children(
    mut data: &[u8],
) -> Result<(Vec<Node>, Vec<u8>), String> {
    let mut children = Vec::new();
    while !data.is_empty() {
        let header = match read_header(data)? {
            Some(header) => header,
            None if data.iter().all(|&b| b == 0) => break,
            None => return Err("truncated box or box of size 0".to_string()),
        };
        let (boxed, rest) = data.split_at(header.total_len);
        let payload = boxed.get(header.header_len..).unwrap_or_default();
        let node = Node::with_header(header.kind, header.large, payload.into());
        children.push(node);
        data = rest;
    }
    Ok((children, data.to_vec()))
}

/// Reads the header at the start of `data`; `None` when fewer than eight
/// bytes remain or the size is zero (a terminator, see `parse_children`).
fn read_header(data: &[u8]) -> Result<Option<Header>, String> {
    let (Some(size), Some(kind)) = (be_u32(data, 0), fourcc(data, 4)) else {
        return Ok(None);
    };
    let (total, header_len, large) = match size {
        0 => return Ok(None),
        1 => {
            let large = be_u64(data, 8).ok_or("truncated 64-bit box size")?;
            (large, 16, true)
        }
        n => (u64::from(n), 8, false),
    };
    let name = String::from_utf8_lossy(&kind).into_owned();
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    if total < header_len {
        return Err(format!("box {name} has invalid size {total}"));
    }
    if total > data.len() {
        return Err(format!("box {name} extends past its parent"));
    }
    Ok(Some(Header { kind, header_len, total_len: total, large }))
}

/// Returns the big-endian u16 at `at`, if in bounds.
pub(crate) fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(bytes.try_into().ok()?))
}

/// Returns the big-endian u32 at `at`, if in bounds.
pub(crate) fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Returns the big-endian u64 at `at`, if in bounds.
pub(crate) fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// Returns the four bytes at `at`, if in bounds.
pub(crate) fn fourcc(data: &[u8], at: usize) -> Option<FourCc> {
    data.get(at..at.checked_add(4)?)?.try_into().ok()
}
