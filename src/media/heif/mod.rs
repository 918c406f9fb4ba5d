//! HEIC, HEIF and AVIF: memoria's EXIF written into the file's `Exif`
//! item (metadata.md §6 "HEIC/HEIF/AVIF"), and a structure check.
//!
//! The EXIF block comes from [`crate::media::exif::merge`]. Its payload
//! goes into a new `mdat` at the end of the file; the `meta` box is
//! rebuilt and the `iloc` offsets past it shifted. Anything this writer
//! does not fully understand is `Unsupported`, so the engine falls back
//! to a sidecar.

mod iloc;
mod items;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek, Write};

use crate::media::bmff::layout::{Layout, TopBox};
use crate::media::bmff::tree::Node;
use crate::media::model::{Applied, EmbedError, Metadata};
use crate::media::{exif, stream};
use iloc::{Extent, Iloc, Location, FILE_OFFSET, IDAT_OFFSET};
use items::ItemInfo;

/// Largest `meta` box or `Exif` payload held in memory.
const MAX_BOX: u64 = 16 << 20;
/// The payload prefix of a new `Exif` item: the 4-byte offset 6 to the
/// TIFF header, then `Exif\0\0`, as phones write it (metadata.md §6).
const EXIF_PREFIX: &[u8; 10] = b"\0\0\0\x06Exif\0\0";

/// Where the bytes of one item extent lie.
enum Span {
    /// A file range, end exclusive.
    File(u64, u64),
    /// A range of the `idat` payload, end exclusive.
    Idat(usize, usize),
}

/// The parsed `meta` box of a HEIF file.
struct Heif {
    /// The `meta` box; its children stay raw.
    meta: Node,
    /// Where `meta` lies in the file.
    top: TopBox,
    iloc: Iloc,
    infos: Vec<ItemInfo>,
    primary: u32,
}

/// Writes `src` with `meta` merged into its `Exif` item into `out`.
///
/// An existing `Exif` item keeps its offset header and prefix and gets
/// the merged block; otherwise a new item is added and linked to the
/// primary item with a `cdsc` reference. When nothing needs writing,
/// `out` receives `src` unchanged.
///
/// # Errors
///
/// `Unsupported` for layouts this writer does not handle (construction
/// method 2, image sequences, several `Exif` items, fields too small for
/// the new offsets), `Malformed` for broken structure or EXIF, `Io` for
/// read and write failures.
pub(crate) fn embed<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    meta: &Metadata,
) -> Result<Applied, EmbedError> {
    let layout = Layout::scan(src)?;
    let mut heif = Heif::load(src, &layout)?;
    heif.check_writable(src, &layout)?;
    let exif_item = heif.exif_item()?;
    let old = match exif_item {
        Some(item) => Some(heif.read_item(src, item.id, layout.len)?),
        None => None,
    };
    let (prefix, tiff) = match &old {
        Some(payload) => split_exif(payload)?,
        None => (&EXIF_PREFIX[..], None),
    };
    let merged = exif::merge(tiff, meta)?;
    let Some(tiff) = merged.tiff else {
        stream::copy_range(src, out, 0, layout.len)?;
        return Ok(merged.applied);
    };
    let payload = [prefix, &tiff].concat();
    let id = exif_item.map(|item| item.id);
    heif.write(src, out, id, &payload, layout.len)?;
    Ok(merged.applied)
}

/// Checks the structure of a HEIF file (metadata.md §9 step 3).
///
/// Top-level box sizes must match the file length, `meta` must hold
/// parsable `pitm`, `iloc` and `iinf` boxes, every in-file extent must
/// lie inside the file (or inside `idat`), and an `Exif` item must hold
/// a readable EXIF block.
///
/// # Errors
///
/// A lowercase message naming the first problem found.
pub(crate) fn validate<R: Read + Seek>(src: &mut R) -> Result<(), String> {
    let text = |e: EmbedError| e.to_string();
    let layout = Layout::scan(src).map_err(text)?;
    let heif = Heif::load(src, &layout).map_err(text)?;
    for item in &heif.iloc.items {
        heif.spans(item, layout.len).map_err(text)?;
    }
    if let Some(item) = heif.exif_item().map_err(text)? {
        let payload = heif.read_item(src, item.id, layout.len).map_err(text)?;
        let (_, tiff) = split_exif(&payload).map_err(text)?;
        exif::check(tiff.ok_or("exif item holds no tiff data")?)?;
    }
    Ok(())
}

impl Heif {
    /// Loads and parses the single top-level `meta` box.
    fn load<R: Read + Seek>(
        src: &mut R,
        layout: &Layout,
    ) -> Result<Heif, EmbedError> {
        let mut metas = layout.boxes.iter().filter(|b| &b.kind == b"meta");
        let top = *metas
            .next()
            .ok_or_else(|| EmbedError::malformed("no meta box"))?;
        if metas.next().is_some() {
            return Err(unsupported("more than one meta box"));
        }
        let len = top.end - top.start - top.header;
        if len > MAX_BOX {
            return Err(unsupported("meta box too large"));
        }
        let payload = read_at(src, top.start + top.header, len)?;
        let mut meta = Node::with_header(*b"meta", top.header == 16, payload);
        meta.expand(4).map_err(EmbedError::Malformed)?;
        let part = |kind: &[u8; 4]| {
            let node = meta.child(kind).and_then(Node::payload);
            node.ok_or_else(|| {
                EmbedError::malformed(format!("meta has no {}", name(kind)))
            })
        };
        let iloc =
            Iloc::parse(part(b"iloc")?).map_err(EmbedError::Malformed)?;
        let infos =
            items::item_infos(part(b"iinf")?).map_err(EmbedError::Malformed)?;
        let primary = items::primary(part(b"pitm")?);
        let primary = primary
            .ok_or_else(|| EmbedError::malformed("pitm is unreadable"))?;
        Ok(Heif { meta, top, iloc, infos, primary })
    }

    /// Rejects files whose layout this writer does not fully handle.
    fn check_writable<R: Read + Seek>(
        &self,
        src: &mut R,
        layout: &Layout,
    ) -> Result<(), EmbedError> {
        let handler = self.meta.child(b"hdlr").and_then(Node::payload);
        if handler.and_then(|h| h.get(8..12)) != Some(b"pict") {
            return Err(unsupported("meta handler is not pict"));
        }
        if layout.boxes.iter().any(|b| matches!(&b.kind, b"moov" | b"moof")) {
            return Err(unsupported("image sequences (moov) are not handled"));
        }
        if let Some(last) = layout.boxes.last() {
            let size = read_at(src, last.start, 4)?;
            if size == [0; 4] {
                return Err(unsupported(
                    "last box runs to the end of the file",
                ));
            }
        }
        for item in &self.iloc.items {
            self.check_location(item)?;
            // An extent past the end would point into the new mdat.
            self.spans(item, layout.len)?;
        }
        Ok(())
    }

    /// Rejects construction method 2, extents of length 0 ("to the end")
    /// in this file and extents that point into `meta` itself.
    fn check_location(&self, item: &Location) -> Result<(), EmbedError> {
        match item.construction() {
            FILE_OFFSET | IDAT_OFFSET => {}
            _ => return Err(unsupported("iloc construction method 2")),
        }
        if !item.is_in_file() {
            return Ok(());
        }
        for extent in &item.extents {
            let at = item.base.saturating_add(extent.offset);
            if extent.length == 0 {
                return Err(unsupported("iloc extent without a length"));
            }
            if (self.top.start..self.top.end).contains(&at) {
                return Err(unsupported("iloc extent inside the meta box"));
            }
        }
        Ok(())
    }

    /// Returns the single `Exif` item, if any.
    fn exif_item(&self) -> Result<Option<ItemInfo>, EmbedError> {
        let mut exifs = self.infos.iter().filter(|i| &i.kind == b"Exif");
        let first = exifs.next().copied();
        if exifs.next().is_some() {
            return Err(unsupported("more than one exif item"));
        }
        Ok(first)
    }

    /// Returns where the extents of `item` lie, checked against the file
    /// length `len` and the `idat` box; items in other files give none.
    fn spans(
        &self,
        item: &Location,
        len: u64,
    ) -> Result<Vec<Span>, EmbedError> {
        if item.data_ref != 0 {
            return Ok(Vec::new());
        }
        let idat_len =
            self.meta.child(b"idat").and_then(Node::payload).map(<[u8]>::len);
        let mut spans = Vec::new();
        for extent in &item.extents {
            let start = item.base.checked_add(extent.offset);
            let end = start.and_then(|s| s.checked_add(extent.length));
            let (Some(start), Some(end)) = (start, end) else {
                return Err(EmbedError::malformed("item extent overflows"));
            };
            let span = match (item.construction(), idat_len) {
                (FILE_OFFSET, _) if end <= len => Span::File(start, end),
                (FILE_OFFSET, _) => {
                    return Err(EmbedError::malformed(
                        "item extent past end of file",
                    ))
                }
                (IDAT_OFFSET, Some(idat)) if end <= idat as u64 => {
                    Span::Idat(start as usize, end as usize)
                }
                (IDAT_OFFSET, _) => {
                    return Err(EmbedError::malformed(
                        "item extent past end of idat",
                    ))
                }
                _ => continue,
            };
            spans.push(span);
        }
        Ok(spans)
    }

    /// Reads the data of item `id` from the file or from `idat`.
    fn read_item<R: Read + Seek>(
        &self,
        src: &mut R,
        id: u32,
        len: u64,
    ) -> Result<Vec<u8>, EmbedError> {
        let item = self.iloc.items.iter().find(|i| i.id == id);
        let item =
            item.ok_or_else(|| EmbedError::malformed("item has no location"))?;
        let total: u64 = item.extents.iter().map(|e| e.length).sum();
        if total > MAX_BOX {
            return Err(unsupported("item data too large"));
        }
        let idat = self
            .meta
            .child(b"idat")
            .and_then(Node::payload)
            .unwrap_or_default();
        let mut data = Vec::new();
        for span in self.spans(item, len)? {
            match span {
                Span::File(start, end) => {
                    data.extend(read_at(src, start, end - start)?)
                }
                Span::Idat(start, end) => data.extend_from_slice(
                    idat.get(start..end).unwrap_or_default(),
                ),
            }
        }
        Ok(data)
    }

    /// Writes the file with `payload` as the data of `Exif` item `id`
    /// (a new item when `None`) in a new `mdat` at the end.
    fn write<R: Read + Seek, W: Write>(
        &mut self,
        src: &mut R,
        out: &mut W,
        id: Option<u32>,
        payload: &[u8],
        len: u64,
    ) -> Result<(), EmbedError> {
        let id = match id {
            Some(id) => id,
            None => self.add_exif_item()?,
        };
        let meta_bytes = self.place(id, payload.len() as u64, len)?;
        stream::copy_range(src, out, 0, self.top.start)?;
        out.write_all(&meta_bytes)?;
        stream::copy_range(src, out, self.top.end, len - self.top.end)?;
        out.write_all(&mdat_header(payload.len() as u64))?;
        out.write_all(payload)?;
        Ok(())
    }

    /// Adds item info, location placeholder and `cdsc` reference for a new
    /// `Exif` item and returns its id.
    fn add_exif_item(&mut self) -> Result<u32, EmbedError> {
        let ids = self.infos.iter().map(|i| i.id);
        let max = ids.chain(self.iloc.items.iter().map(|i| i.id)).max();
        let id = max.unwrap_or(0).checked_add(1);
        let id = id.filter(|&id| self.iloc.fits_id(id));
        let id = id.ok_or_else(|| unsupported("no free item id"))?;
        let children = self
            .meta
            .children_mut()
            .ok_or_else(|| EmbedError::malformed("meta"))?;
        let iinf = children.iter_mut().find(|c| &c.kind == b"iinf");
        let iinf =
            iinf.ok_or_else(|| EmbedError::malformed("meta has no iinf"))?;
        items::add_exif_info(iinf, id).map_err(EmbedError::Unsupported)?;
        items::add_cdsc(children, id, self.primary)
            .map_err(EmbedError::Unsupported)?;
        self.infos.push(ItemInfo { id, kind: *b"Exif" });
        let extents = vec![Extent { index: 0, offset: 0, length: 0 }];
        let location =
            Location { id, method: 0, data_ref: 0, base: 0, extents };
        self.iloc.items.push(location);
        Ok(id)
    }

    /// Points item `id` at a new `mdat` appended to the file (payload of
    /// `length` bytes), shifts every in-file extent past `meta` by the
    /// size change of `meta`, and returns the new `meta` bytes.
    fn place(
        &mut self,
        id: u32,
        length: u64,
        file_len: u64,
    ) -> Result<Vec<u8>, EmbedError> {
        let target = self.iloc.items.iter_mut().find(|i| i.id == id);
        let target = target.ok_or_else(|| {
            EmbedError::malformed("exif item has no location")
        })?;
        target.method &= !0x0F;
        target.data_ref = 0;
        target.base = 0;
        target.extents = vec![Extent { index: 0, offset: 0, length }];
        let old_size = self.top.end - self.top.start;
        self.store_iloc()?;
        let delta = i128::from(self.meta.size()) - i128::from(old_size);
        let end = u64::try_from(i128::from(file_len) + delta).ok();
        let header = mdat_header(length).len() as u64;
        let data_at =
            end.ok_or_else(|| EmbedError::malformed("size overflow"))? + header;
        let iloc = &mut self.iloc;
        iloc.shift(id, self.top.end, delta).map_err(EmbedError::Unsupported)?;
        iloc.set_position(id, data_at).map_err(EmbedError::Unsupported)?;
        if !self.iloc.fits(1, length) {
            return Err(unsupported("iloc length field too small"));
        }
        self.store_iloc()?;
        Ok(self.meta.to_bytes())
    }

    /// Writes the encoded `iloc` back into `meta`.
    fn store_iloc(&mut self) -> Result<(), EmbedError> {
        let node = self.meta.child_mut(b"iloc");
        let payload = node
            .and_then(Node::payload_mut)
            .ok_or_else(|| EmbedError::malformed("iloc"))?;
        *payload = self.iloc.encode();
        Ok(())
    }
}

/// Splits an `Exif` item payload into its prefix (offset field and what
/// precedes the TIFF header) and the TIFF data, `None` when empty.
fn split_exif(payload: &[u8]) -> Result<(&[u8], Option<&[u8]>), EmbedError> {
    let head = payload
        .get(..4)
        .ok_or_else(|| EmbedError::malformed("exif item too short"))?;
    let offset = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let start = usize::try_from(offset).ok().and_then(|o| o.checked_add(4));
    let start = start.filter(|&s| s <= payload.len());
    let start = start.ok_or_else(|| {
        EmbedError::malformed("exif item offset past its data")
    })?;
    let (prefix, tiff) = payload.split_at(start);
    Ok((prefix, (!tiff.is_empty()).then_some(tiff)))
}

/// Returns the header of an `mdat` holding `length` bytes.
fn mdat_header(length: u64) -> Vec<u8> {
    match u32::try_from(length + 8) {
        Ok(size) => [&size.to_be_bytes()[..], b"mdat"].concat(),
        Err(_) => {
            [&1u32.to_be_bytes()[..], b"mdat", &(length + 16).to_be_bytes()]
                .concat()
        }
    }
}

/// Reads `len` bytes at `start` of `src`.
fn read_at<R: Read + Seek>(
    src: &mut R,
    start: u64,
    len: u64,
) -> Result<Vec<u8>, EmbedError> {
    stream::move_to(src, start)?;
    let mut data = Vec::new();
    src.take(len).read_to_end(&mut data)?;
    if data.len() as u64 != len {
        return Err(EmbedError::malformed("box data past end of file"));
    }
    Ok(data)
}

/// Returns the printable name of a box type.
fn name(kind: &[u8; 4]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

fn unsupported(why: &str) -> EmbedError {
    EmbedError::Unsupported(why.to_string())
}
