//! The top level of an ISO-BMFF file: box positions read by seeking over
//! headers (media data is never loaded), and the one `moov` box loaded
//! into a tree with the parts the writer needs expanded.

use std::io::{Read, Seek, SeekFrom};

use super::tree::{FourCc, Node};
use crate::media::model::EmbedError;
use crate::media::stream;

/// Largest `moov` loaded into memory; bigger ones go to the sidecar
/// route rather than risk the memory of a worker thread.
const MAX_MOOV: u64 = 256 << 20;

/// One top-level box.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopBox {
    /// Box type.
    pub(crate) kind: FourCc,
    /// Offset of the header.
    pub(crate) start: u64,
    /// Length of the header (8, or 16 for a 64-bit size).
    pub(crate) header: u64,
    /// Offset just past the box.
    pub(crate) end: u64,
}

/// The top-level boxes of a file and its length.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Boxes in file order, covering the file exactly.
    pub(crate) boxes: Vec<TopBox>,
    /// File length.
    pub(crate) len: u64,
}

impl Layout {
    /// Scans the top-level box headers of `src`.
    ///
    /// Every box must lie inside the file and the boxes must cover it
    /// exactly; size 0 means "to the end of the file" and thus ends the
    /// scan.
    pub(crate) fn scan<R: Read + Seek>(
        src: &mut R,
    ) -> Result<Layout, EmbedError> {
        let len = src.seek(SeekFrom::End(0))?;
        if len == 0 {
            return Err(EmbedError::malformed("empty file"));
        }
        let mut boxes = Vec::new();
        let mut pos = 0;
        while pos < len {
            let top = read_top(src, pos, len)?;
            pos = top.end;
            boxes.push(top);
        }
        Ok(Layout { boxes, len })
    }

    /// Returns the single `moov` box.
    pub(crate) fn moov(&self) -> Result<TopBox, EmbedError> {
        let mut moovs = self.boxes.iter().filter(|b| &b.kind == b"moov");
        let moov =
            moovs.next().ok_or_else(|| EmbedError::malformed("no moov box"))?;
        if moovs.next().is_some() {
            return Err(EmbedError::malformed("more than one moov box"));
        }
        Ok(*moov)
    }

    /// Returns the payload ranges of every `mdat` (end exclusive).
    pub(crate) fn mdats(&self) -> Vec<(u64, u64)> {
        let mdats = self.boxes.iter().filter(|b| &b.kind == b"mdat");
        mdats.map(|b| (b.start + b.header, b.end)).collect()
    }

    /// Returns true when the file has a movie fragment (`moof`).
    pub(crate) fn is_fragmented(&self) -> bool {
        self.boxes.iter().any(|b| &b.kind == b"moof")
    }
}

/// Reads the header of the top-level box at `pos`.
fn read_top<R: Read + Seek>(
    src: &mut R,
    pos: u64,
    len: u64,
) -> Result<TopBox, EmbedError> {
    if len - pos < 8 {
        return Err(EmbedError::malformed(format!(
            "truncated box header at offset {pos}"
        )));
    }
    stream::move_to(src, pos)?;
    let mut head = [0u8; 8];
    src.read_exact(&mut head)?;
    let [s0, s1, s2, s3, k0, k1, k2, k3] = head;
    let kind = [k0, k1, k2, k3];
    let name = String::from_utf8_lossy(&kind).into_owned();
    let (size, header) = match u32::from_be_bytes([s0, s1, s2, s3]) {
        0 => (len - pos, 8),
        1 => (read_large(src, pos, len, &name)?, 16),
        n => (u64::from(n), 8),
    };
    if size < header {
        return Err(EmbedError::malformed(format!(
            "box {name} at {pos} has size {size}"
        )));
    }
    if size > len - pos {
        let why =
            format!("box {name} at {pos} extends past the end of the file");
        return Err(EmbedError::malformed(why));
    }
    Ok(TopBox { kind, start: pos, header, end: pos + size })
}

/// Reads the 64-bit size that follows a header whose size field is 1.
fn read_large<R: Read>(
    src: &mut R,
    pos: u64,
    len: u64,
    name: &str,
) -> Result<u64, EmbedError> {
    if len - pos < 16 {
        let why = format!("truncated 64-bit size of box {name} at {pos}");
        return Err(EmbedError::malformed(why));
    }
    let mut size = [0u8; 8];
    src.read_exact(&mut size)?;
    Ok(u64::from_be_bytes(size))
}

/// Loads `moov` and expands the boxes the writer and checker look into.
pub(crate) fn load_moov<R: Read + Seek>(
    src: &mut R,
    moov: &TopBox,
) -> Result<Node, EmbedError> {
    let len = moov.end - moov.start - moov.header;
    if len > MAX_MOOV {
        let why = format!("moov box of {len} bytes is too large");
        return Err(EmbedError::Unsupported(why));
    }
    stream::move_to(src, moov.start + moov.header)?;
    let mut payload = Vec::new();
    src.take(len).read_to_end(&mut payload)?;
    if payload.len() as u64 != len {
        return Err(EmbedError::malformed("moov box is truncated"));
    }
    let mut node = Node::with_header(*b"moov", moov.header == 16, payload);
    expand_moov(&mut node).map_err(EmbedError::malformed)?;
    Ok(node)
}

/// Expands `moov`, its tracks down to `stbl` (strict: chunk offsets live
/// there) and its metadata boxes (lenient: an unparsable one stays raw,
/// is read as absent and is never edited).
fn expand_moov(moov: &mut Node) -> Result<(), String> {
    moov.expand(0)?;
    for child in moov.children_mut().into_iter().flatten() {
        match &child.kind {
            b"trak" => expand_track(child)?,
            b"meta" => expand_meta(child),
            b"udta" => expand_udta(child),
            _ => {}
        }
    }
    Ok(())
}

/// Expands `udta` and its `meta` boxes, leaving an unparsable one raw.
fn expand_udta(udta: &mut Node) {
    if udta.expand(0).is_ok() {
        let metas = udta.children_mut().into_iter().flatten();
        metas.filter(|c| &c.kind == b"meta").for_each(expand_meta);
    }
}

/// Expands `trak`, `mdia`, `minf` and `stbl`.
fn expand_track(trak: &mut Node) -> Result<(), String> {
    trak.expand(0)?;
    let Some(mdia) = trak.child_mut(b"mdia") else { return Ok(()) };
    mdia.expand(0)?;
    let Some(minf) = mdia.child_mut(b"minf") else { return Ok(()) };
    minf.expand(0)?;
    let Some(stbl) = minf.child_mut(b"stbl") else { return Ok(()) };
    stbl.expand(0)
}

/// Expands a `meta` box and its `ilst`.
///
/// ISO `meta` is a full box (version and flags before the children);
/// QuickTime's `meta` may lack them, so a payload whose second word is
/// `hdlr` has no prefix; otherwise the full-box form is tried first.
fn expand_meta(meta: &mut Node) {
    let quicktime = meta.payload().and_then(|p| p.get(4..8)) == Some(b"hdlr");
    let order = if quicktime { [0, 4] } else { [4, 0] };
    if !order.iter().any(|&prefix| meta.expand(prefix).is_ok()) {
        return;
    }
    if let Some(ilst) = meta.child_mut(b"ilst") {
        // An unparsable ilst stays raw and is read as empty.
        let _ = ilst.expand(0);
    }
}
