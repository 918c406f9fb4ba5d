//! Builders and parsers for the QuickTime metadata atoms memoria writes:
//! user-data text atoms (`udta/©xyz`), `ilst` items with `data` atoms,
//! `keys` and `hdlr` boxes (metadata.md §6 "MP4 family").

use super::tree::{be_u16, be_u32, fourcc, parse_children, FourCc, Node};

/// `udta/©xyz`: position as ISO 6709 text.
pub(super) const XYZ: FourCc = [0xA9, b'x', b'y', b'z'];
/// `©cmt`: comment, in `ilst` or as a `udta` text atom.
pub(super) const CMT: FourCc = [0xA9, b'c', b'm', b't'];
/// `desc`: description `ilst` item.
pub(super) const DESC: FourCc = *b"desc";
/// The key that plays the role of `DateTimeOriginal`.
pub(super) const KEY_DATE: &str = "com.apple.quicktime.creationdate";
/// The key that carries the ISO 6709 position.
pub(super) const KEY_GPS: &str = "com.apple.quicktime.location.ISO6709";
/// Language code of a new text atom: 0x15C7, "und" packed as ISO 639-2/T
/// (metadata.md §6 "MP4 family").
const LANGUAGE_UND: u16 = 0x15C7;
/// `data` atom type indicator for UTF-8 text.
const TYPE_UTF8: u32 = 1;
/// `data` atom type indicator for UTF-16 (big-endian) text.
const TYPE_UTF16: u32 = 2;

/// Returns a user-data text atom: 16-bit length, 16-bit language, text.
///
/// `language` is kept from an atom being replaced; new atoms get "und".
/// Text longer than 65535 bytes is cut at a character boundary, since
/// the length field is 16 bits.
pub(super) fn text_atom(
    kind: FourCc,
    text: &str,
    language: Option<u16>,
) -> Node {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = text.as_bytes().get(..end).unwrap_or_default();
    let length = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    let mut payload = length.to_be_bytes().to_vec();
    payload.extend_from_slice(&language.unwrap_or(LANGUAGE_UND).to_be_bytes());
    payload.extend_from_slice(bytes);
    Node::raw(kind, payload)
}

/// Returns the first string of a user-data text atom and its language.
pub(super) fn parse_text_atom(payload: &[u8]) -> Option<(String, u16)> {
    let length = usize::from(be_u16(payload, 0)?);
    let language = be_u16(payload, 2)?;
    let bytes = payload.get(4..4 + length)?;
    Some((String::from_utf8_lossy(bytes).into_owned(), language))
}

/// Returns an `ilst` item holding one UTF-8 `data` atom.
pub(super) fn data_item(kind: FourCc, text: &str) -> Node {
    let mut payload = TYPE_UTF8.to_be_bytes().to_vec();
    payload.extend_from_slice(&0u32.to_be_bytes());
    payload.extend_from_slice(text.as_bytes());
    Node::raw(kind, Node::raw(*b"data", payload).to_bytes())
}

/// Returns the text of the first `data` atom of an `ilst` item, when it
/// is UTF-8 or UTF-16 text.
pub(super) fn item_text(item: &Node) -> Option<String> {
    let (children, _) = parse_children(item.payload()?).ok()?;
    let data = children.iter().find(|c| &c.kind == b"data")?.payload()?;
    let value = data.get(8..)?;
    match be_u32(data, 0)? & 0x00FF_FFFF {
        TYPE_UTF8 => Some(String::from_utf8_lossy(value).into_owned()),
        TYPE_UTF16 => {
            let units = value
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            Some(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or('\u{FFFD}'))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Returns the handler type of a `meta` box (from its `hdlr` child).
pub(super) fn handler(meta: &Node) -> Option<FourCc> {
    fourcc(meta.child(b"hdlr")?.payload()?, 8)
}

/// Returns a new `meta` with handler `kind`: `hdlr`, then for `mdta` an
/// empty `keys`, then an empty `ilst`.
///
/// The `mdta` box is written in QuickTime form, without version and
/// flags, as iPhones write it; exiftool reads a full-box `moov/meta` as
/// ending at its zero version word and misses the keys. The `mdir` box
/// in `udta` is an ISO full box, as iTunes and ffmpeg write it.
pub(super) fn new_meta(kind: FourCc) -> Node {
    let mut children = vec![hdlr(kind)];
    let mut prefix = vec![0; 4];
    if &kind == b"mdta" {
        children.push(new_keys());
        prefix.clear();
    }
    children.push(Node::tree(*b"ilst", Vec::new(), Vec::new()));
    Node::tree(*b"meta", prefix, children)
}

/// Returns a `hdlr` box; `mdir` gets manufacturer `appl` as iTunes
/// writes it.
fn hdlr(kind: FourCc) -> Node {
    let mut payload = vec![0; 8];
    payload.extend_from_slice(&kind);
    let maker = if &kind == b"mdir" { *b"appl" } else { [0; 4] };
    payload.extend_from_slice(&maker);
    payload.extend_from_slice(&[0; 9]);
    Node::raw(*b"hdlr", payload)
}

/// Returns an empty `keys` box (version 0, no entries).
pub(super) fn new_keys() -> Node {
    Node::raw(*b"keys", vec![0; 8])
}

/// Returns the names of a `keys` box in order (index 1 first); keys of
/// a namespace other than `mdta` get an empty name so they never match.
pub(super) fn key_names(keys: &Node) -> Option<Vec<Vec<u8>>> {
    let payload = keys.payload()?;
    let count = be_u32(payload, 4)?;
    let mut names = Vec::new();
    let mut at = 8usize;
    for _ in 0..count {
        let size = usize::try_from(be_u32(payload, at)?).ok()?;
        let entry = payload.get(at..at.checked_add(size)?)?;
        let name = match (entry.get(4..8), entry.get(8..)) {
            (Some(b"mdta"), Some(name)) => name.to_vec(),
            (Some(_), Some(_)) => Vec::new(),
            _ => return None,
        };
        names.push(name);
        at += size;
    }
    Some(names)
}

/// Appends key `name` (namespace `mdta`) to a `keys` box and returns its
/// 1-based index; `None` when the box cannot be parsed.
pub(super) fn add_key(keys: &mut Node, name: &str) -> Option<u32> {
    let count = key_names(keys)?.len();
    let index = u32::try_from(count).ok()?.checked_add(1)?;
    let payload = keys.payload_mut()?;
    let size = u32::try_from(name.len() + 8).ok()?;
    payload.get_mut(4..8)?.copy_from_slice(&index.to_be_bytes());
    let end = payload_end(payload, count)?;
    let mut entry = size.to_be_bytes().to_vec();
    entry.extend_from_slice(b"mdta");
    entry.extend_from_slice(name.as_bytes());
    payload.splice(end..end, entry);
    Some(index)
}

/// Returns the offset just past the `count` entries of a `keys` payload.
fn payload_end(payload: &[u8], count: usize) -> Option<usize> {
    let mut at = 8usize;
    for _ in 0..count {
        at = at.checked_add(usize::try_from(be_u32(payload, at)?).ok()?)?;
    }
    Some(at)
}

/// Returns the value of each key of an `mdta` `meta` box, in `ilst`
/// order: (key name, text).
pub(super) fn mdta_values(meta: &Node) -> Vec<(Vec<u8>, String)> {
    let Some(names) = meta.child(b"keys").and_then(key_names) else {
        return Vec::new();
    };
    let Some(ilst) = meta.child(b"ilst") else { return Vec::new() };
    let items = ilst_items(ilst);
    let value = |item: &Node| {
        let index = usize::try_from(u32::from_be_bytes(item.kind)).ok()?;
        let name = names.get(index.checked_sub(1)?)?;
        Some((name.clone(), item_text(item)?))
    };
    items.iter().filter_map(value).collect()
}

/// Returns the items of an `ilst`, parsing a raw one on the fly.
pub(super) fn ilst_items(ilst: &Node) -> Vec<Node> {
    match ilst.payload() {
        Some(bytes) => {
            parse_children(bytes).map(|(c, _)| c).unwrap_or_default()
        }
        None => ilst.children().to_vec(),
    }
}
