//! Edits the base's EXIF block for a composite (metadata.md §11.2 step 5):
//! `Orientation` becomes 1, `PixelXDimension`/`PixelYDimension` the size
//! of the upright composite, and IFD1 with its thumbnail is removed.
//!
//! Entries are rewritten in place (12 bytes each, values inline), so every
//! offset in the block, maker notes included, stays valid. IFD1 is
//! unlinked; its bytes are cut off when they end the block and zeroed
//! otherwise. The later metadata merge (`exif::merge`) works on the result.

use std::ops::Range;

use crate::media::exif::types::{LONG, SHORT};
use crate::media::exif::{EXIF_POINTER, GPS_POINTER};

/// IFD0 `Orientation`.
const ORIENTATION: u16 = 0x0112;
/// Exif IFD pointer to the Interop IFD.
const INTEROP_POINTER: u16 = 0xA005;
/// Exif IFD `PixelXDimension` and `PixelYDimension`.
const PIXEL_X: u16 = 0xA002;
const PIXEL_Y: u16 = 0xA003;
/// IFD1 thumbnail locations: JPEG data, or a single uncompressed strip.
const THUMB_OFFSET: u16 = 0x0201;
const THUMB_LENGTH: u16 = 0x0202;
const STRIP_OFFSETS: u16 = 0x0111;
const STRIP_BYTES: u16 = 0x0117;

/// Returns `block` (a TIFF-structured EXIF block) edited for an upright
/// composite of `width` × `height`.
///
/// Errors name the structure that could not be read (header, IFD0, Exif,
/// GPS or Interop IFD); the caller then drops the block.
pub(super) fn patch(
    block: &[u8],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, String> {
    let mut tiff = Tiff::parse(block)?;
    let ifd0 = tiff.ifd(tiff.first, "ifd0")?;
    let exif = tiff.sub_ifd(&ifd0, EXIF_POINTER, "exif ifd")?;
    let gps = tiff.sub_ifd(&ifd0, GPS_POINTER, "gps ifd")?;
    let interop = match &exif {
        Some(exif) => tiff.sub_ifd(exif, INTEROP_POINTER, "interop ifd")?,
        None => None,
    };
    if let Some(entry) = ifd0.find(ORIENTATION) {
        tiff.set(entry, SHORT, 1);
    }
    if let Some(exif) = &exif {
        for (tag, value) in [(PIXEL_X, width), (PIXEL_Y, height)] {
            if let Some(entry) = exif.find(tag) {
                let typ = if entry.typ == SHORT && value <= 0xFFFF {
                    SHORT
                } else {
                    LONG
                };
                tiff.set(entry, typ, value);
            }
        }
    }
    let kept: Vec<&Ifd> =
        [Some(&ifd0), exif.as_ref(), gps.as_ref(), interop.as_ref()]
            .into_iter()
            .flatten()
            .collect();
    tiff.drop_ifd1(&ifd0, &kept)?;
    Ok(tiff.data)
}

/// Byte order of a TIFF block.
#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

/// One 12-byte IFD entry.
#[derive(Clone, Copy)]
struct Entry {
    /// Offset of the entry in the block.
    at: usize,
    tag: u16,
    typ: u16,
    count: u32,
    /// The value field (the value itself, or its offset).
    field: u32,
}

/// An IFD: its entries and the offset of its next-IFD pointer.
struct Ifd {
    at: usize,
    entries: Vec<Entry>,
    next_at: usize,
}

impl Ifd {
    /// Returns the first entry with `tag`.
    fn find(&self, tag: u16) -> Option<Entry> {
        self.entries.iter().find(|e| e.tag == tag).copied()
    }
}

/// A TIFF block being edited.
struct Tiff {
    data: Vec<u8>,
    order: Order,
    /// Offset of IFD0.
    first: usize,
}

impl Tiff {
    /// Reads the header: byte order, magic 42 and the IFD0 offset.
    fn parse(block: &[u8]) -> Result<Tiff, String> {
        let order = match block.get(..4) {
            Some(b"II*\0") => Order::Little,
            Some(b"MM\0*") => Order::Big,
            _ => return Err("no tiff header in exif block".to_string()),
        };
        let mut tiff = Tiff { data: block.to_vec(), order, first: 0 };
        tiff.first = tiff.u32_at(4).ok_or("truncated tiff header")? as usize;
        Ok(tiff)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] =
            self.data.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self.order {
            Order::Little => u16::from_le_bytes(b),
            Order::Big => u16::from_be_bytes(b),
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] =
            self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self.order {
            Order::Little => u32::from_le_bytes(b),
            Order::Big => u32::from_be_bytes(b),
        })
    }

    /// Writes `bytes` at `at`; callers pass ranges read before.
    fn put(&mut self, at: usize, bytes: &[u8]) {
        let end = at.saturating_add(bytes.len());
        if let Some(dst) = self.data.get_mut(at..end) {
            dst.copy_from_slice(bytes);
        }
    }

    fn put_u16(&mut self, at: usize, v: u16) {
        let b = match self.order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        self.put(at, &b);
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        let b = match self.order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        self.put(at, &b);
    }

    /// Reads the IFD at `at` (`name` is for errors).
    fn ifd(&self, at: usize, name: &str) -> Result<Ifd, String> {
        let bad = || format!("{name} at offset {at} outside exif block");
        if at < 8 {
            return Err(bad());
        }
        let count = usize::from(self.u16_at(at).ok_or_else(bad)?);
        let next_at = at + 2 + 12 * count;
        self.u32_at(next_at).ok_or_else(bad)?;
        let entries =
            (0..count).filter_map(|i| self.entry(at + 2 + 12 * i)).collect();
        Ok(Ifd { at, entries, next_at })
    }

    /// Reads the entry at `at` (inside a checked IFD table).
    fn entry(&self, at: usize) -> Option<Entry> {
        Some(Entry {
            at,
            tag: self.u16_at(at)?,
            typ: self.u16_at(at + 2)?,
            count: self.u32_at(at + 4)?,
            field: self.u32_at(at + 8)?,
        })
    }

    /// Reads the IFD that `ifd`'s `tag` points at; 0 means none.
    fn sub_ifd(
        &self,
        ifd: &Ifd,
        tag: u16,
        name: &str,
    ) -> Result<Option<Ifd>, String> {
        match ifd.find(tag).map(|e| e.field) {
            None | Some(0) => Ok(None),
            Some(at) => self.ifd(at as usize, name).map(Some),
        }
    }

    /// Rewrites `entry` as one inline SHORT or LONG holding `value`.
    fn set(&mut self, entry: Entry, typ: u16, value: u32) {
        self.put_u16(entry.at + 2, typ);
        self.put_u32(entry.at + 4, 1);
        self.put_u32(entry.at + 8, 0);
        match u16::try_from(value) {
            Ok(short) if typ == SHORT => self.put_u16(entry.at + 8, short),
            _ => self.put_u32(entry.at + 8, value),
        }
    }

    /// Returns the out-of-line value of `entry`, or None when it is inline
    /// or of a type whose size is unknown.
    fn value_range(&self, entry: &Entry) -> Option<Range<usize>> {
        let size = type_size(entry.typ)?.checked_mul(entry.count as usize)?;
        let start = entry.field as usize;
        (size > 4).then_some(start..start.saturating_add(size))
    }

    /// Returns the bytes `ifd` occupies: its table and out-of-line values.
    fn ranges(&self, ifd: &Ifd) -> Vec<Range<usize>> {
        let table = ifd.at..ifd.next_at + 4;
        let values = ifd.entries.iter().filter_map(|e| self.value_range(e));
        std::iter::once(table).chain(values).collect()
    }

    /// Unlinks IFD1 from IFD0 and removes its bytes: cut off when they end
    /// the block, else zeroed where no kept IFD uses them.
    fn drop_ifd1(&mut self, ifd0: &Ifd, kept: &[&Ifd]) -> Result<(), String> {
        let next = self.u32_at(ifd0.next_at).ok_or("truncated ifd0")?;
        if next == 0 {
            return Ok(());
        }
        self.put_u32(ifd0.next_at, 0);
        let Ok(ifd1) = self.ifd(next as usize, "ifd1") else { return Ok(()) };
        let mut owned = self.ranges(&ifd1);
        owned.extend(thumbnail(&ifd1));
        let len = self.data.len();
        let owned: Vec<Range<usize>> = owned
            .into_iter()
            .map(|r| r.start.min(len)..r.end.min(len))
            .filter(|r| !r.is_empty())
            .collect();
        let used: Vec<Range<usize>> =
            kept.iter().flat_map(|ifd| self.ranges(ifd)).collect();
        let used_end = used.iter().map(|r| r.end).max().unwrap_or(8);
        match tail_start(&owned, len) {
            Some(cut) if cut >= used_end => self.data.truncate(cut),
            _ => {
                let free =
                    |r: &&Range<usize>| !used.iter().any(|u| overlap(u, r));
                for r in owned.iter().filter(free) {
                    if let Some(bytes) = self.data.get_mut(r.clone()) {
                        bytes.fill(0);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Returns the thumbnail data IFD1 points at: a JPEG, or a single strip.
fn thumbnail(ifd1: &Ifd) -> Option<Range<usize>> {
    let pairs = [(THUMB_OFFSET, THUMB_LENGTH), (STRIP_OFFSETS, STRIP_BYTES)];
    pairs.into_iter().find_map(|(offset, length)| {
        let (offset, length) = (ifd1.find(offset)?, ifd1.find(length)?);
        if offset.count != 1 || length.count != 1 {
            return None;
        }
        let start = offset.field as usize;
        Some(start..start.saturating_add(length.field as usize))
    })
}

/// Returns where `ranges` start when, taken together, they cover the end
/// of a block of `len` bytes without gaps (one pad byte allowed).
fn tail_start(ranges: &[Range<usize>], len: usize) -> Option<usize> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| r.start);
    let start = sorted.first()?.start;
    let mut end = start;
    for r in &sorted {
        if r.start > end + 1 {
            return None;
        }
        end = end.max(r.end);
    }
    (end + 1 >= len).then_some(start)
}

/// Returns true when two ranges share a byte.
fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Returns the size of one value of TIFF type `typ` (TIFF 6.0 §2).
fn type_size(typ: u16) -> Option<usize> {
    match typ {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use ::exif::{In, Tag};

    use super::*;
    use crate::media::exif::testutil::XorShift;

    /// Writes TIFF values in one byte order.
    struct Writer {
        big: bool,
        data: Vec<u8>,
    }

    impl Writer {
        fn u16(&mut self, v: u16) {
            let b = if self.big { v.to_be_bytes() } else { v.to_le_bytes() };
            self.data.extend_from_slice(&b);
        }

        fn u32(&mut self, v: u32) {
            let b = if self.big { v.to_be_bytes() } else { v.to_le_bytes() };
            self.data.extend_from_slice(&b);
        }

        /// Writes an IFD of (tag, type, count, field) and its next pointer.
        fn ifd(&mut self, entries: &[(u16, u16, u32, u32)], next: u32) {
            self.u16(entries.len() as u16);
            for &(tag, typ, count, field) in entries {
                self.u16(tag);
                self.u16(typ);
                self.u32(count);
                if typ == SHORT && count == 1 {
                    self.u16(field as u16);
                    self.u16(0);
                } else {
                    self.u32(field);
                }
            }
            self.u32(next);
        }
    }

    /// Offsets in [`block`]: IFD0's next pointer, IFD1 and the thumbnail
    /// (add 18 to the last two when the GPS IFD comes first).
    const NEXT0: usize = 8 + 2 + 4 * 12;
    const IFD1: usize = 8 + 2 + 4 * 12 + 4 + 8 + 30;
    const THUMB: usize = IFD1 + 30;

    /// Returns a block: IFD0 (Make, Orientation 6, Exif and GPS pointers),
    /// Make's text, an Exif IFD with a 64×48 size, IFD1 with a 10-byte
    /// JPEG thumbnail, then (with `gps_last`) the GPS IFD, else the GPS
    /// IFD sits before IFD1. IFD1's next pointer is `ifd1_at`.
    fn block(big: bool, gps_last: bool, ifd1_at: u32) -> Vec<u8> {
        let mut w = Writer { big, data: Vec::new() };
        w.data.extend_from_slice(if big { b"MM\0*" } else { b"II*\0" });
        w.u32(8);
        let make_at = 8 + 2 + 4 * 12 + 4;
        let exif_at = make_at + 8;
        let gps_at = if gps_last { THUMB + 10 } else { exif_at + 30 };
        let shift = if gps_last { 0 } else { 18 };
        let ifd1 = if ifd1_at == 0 { (IFD1 + shift) as u32 } else { ifd1_at };
        w.ifd(
            &[
                (0x010F, 2, 8, make_at as u32),
                (ORIENTATION, SHORT, 1, 6),
                (EXIF_POINTER, LONG, 1, exif_at as u32),
                (GPS_POINTER, LONG, 1, gps_at as u32),
            ],
            ifd1,
        );
        w.data.extend_from_slice(b"TestCam\0");
        w.ifd(&[(PIXEL_X, SHORT, 1, 64), (PIXEL_Y, SHORT, 1, 48)], 0);
        let gps = |w: &mut Writer| w.ifd(&[(0, 1, 4, 0x0203_0000)], 0);
        if !gps_last {
            gps(&mut w);
        }
        let thumb_at = (THUMB + shift) as u32;
        w.ifd(
            &[(THUMB_OFFSET, LONG, 1, thumb_at), (THUMB_LENGTH, LONG, 1, 10)],
            0,
        );
        w.data.extend_from_slice(b"\xff\xd8thumb!\xff\xd9");
        if gps_last {
            gps(&mut w);
        }
        w.data
    }

    fn read(block: &[u8]) -> ::exif::Exif {
        ::exif::Reader::new().read_raw(block.to_vec()).expect("kamadak reads")
    }

    fn uint(exif: &::exif::Exif, tag: Tag) -> Option<u32> {
        exif.get_field(tag, In::PRIMARY)?.value.get_uint(0)
    }

    fn assert_patched(exif: &::exif::Exif, width: u32, height: u32) {
        assert_eq!(uint(exif, Tag::Orientation), Some(1));
        assert_eq!(uint(exif, Tag::PixelXDimension), Some(width));
        assert_eq!(uint(exif, Tag::PixelYDimension), Some(height));
        let make = exif.get_field(Tag::Make, In::PRIMARY).unwrap();
        assert_eq!(make.display_value().to_string(), "\"TestCam\"");
        assert!(exif.get_field(Tag::GPSVersionID, In::PRIMARY).is_some());
        assert!(exif.fields().all(|f| f.ifd_num != In::THUMBNAIL));
    }

    #[test]
    fn trailing_ifd1_is_cut_off() {
        for big in [false, true] {
            let input = block(big, false, 0);
            let before = read(&input);
            assert!(before.fields().any(|f| f.ifd_num == In::THUMBNAIL));
            assert_eq!(uint(&before, Tag::Orientation), Some(6));
            let out = patch(&input, 48, 64).unwrap();
            assert_eq!(out.len(), IFD1 + 18, "big endian: {big}");
            // Make's text and the GPS IFD before IFD1 are untouched.
            let make = NEXT0 + 4..NEXT0 + 12;
            assert_eq!(out[make.clone()], input[make]);
            assert_eq!(out[IFD1..], input[IFD1..IFD1 + 18]);
            assert_patched(&read(&out), 48, 64);
        }
    }

    #[test]
    fn inner_ifd1_is_zeroed() {
        let input = block(true, true, 0);
        let out = patch(&input, 48, 64).unwrap();
        assert_eq!(out.len(), input.len());
        assert!(out[IFD1..THUMB + 10].iter().all(|&b| b == 0));
        assert_eq!(out[THUMB + 10..], input[THUMB + 10..]);
        assert_patched(&read(&out), 48, 64);
    }

    #[test]
    fn large_sizes_become_longs() {
        let out = patch(&block(false, false, 0), 70_000, 64).unwrap();
        let exif = read(&out);
        let x = exif.get_field(Tag::PixelXDimension, In::PRIMARY).unwrap();
        assert!(matches!(x.value, ::exif::Value::Long(_)), "{:?}", x.value);
        assert_patched(&exif, 70_000, 64);
    }

    #[test]
    fn ifd1_looping_to_ifd0_damages_nothing() {
        let input = block(false, true, 8);
        let out = patch(&input, 48, 64).unwrap();
        assert_eq!(out.len(), input.len());
        assert_patched(&read(&out), 48, 64);
    }

    #[test]
    fn unreadable_blocks_are_errors() {
        let good = block(false, false, 0);
        let mut ifd0_in_header = good.clone();
        ifd0_in_header[4] = 4;
        let mut exif_outside = good.clone();
        // The Exif pointer's value field: IFD0 entry 3 at 8 + 2 + 2 × 12.
        exif_outside[8 + 2 + 24 + 8..8 + 2 + 24 + 12]
            .copy_from_slice(&5000u32.to_le_bytes());
        let cases: [(&str, &[u8]); 5] = [
            ("empty", b""),
            ("no header", b"XX*\0\x08\0\0\0"),
            ("truncated header", b"II*\0\x08"),
            ("ifd0 in header", &ifd0_in_header),
            ("exif ifd outside", &exif_outside),
        ];
        for (name, bytes) in cases {
            assert!(patch(bytes, 1, 1).is_err(), "{name}");
        }
        let mut ifd1_outside = good.clone();
        ifd1_outside[NEXT0..NEXT0 + 4].copy_from_slice(&9000u32.to_le_bytes());
        let out = patch(&ifd1_outside, 48, 64).unwrap();
        assert!(read(&out).fields().all(|f| f.ifd_num != In::THUMBNAIL));
        assert_eq!(out.len(), good.len(), "nothing cut for a bad pointer");
    }

    #[test]
    fn mutated_blocks_never_panic() {
        let seeds = [block(false, false, 0), block(true, true, 0)];
        let mut rng = XorShift(0x0123_4567_89AB_CDEF);
        for i in 0..5000 {
            let _ = patch(&rng.mutate(&seeds[i % 2]), 48, 64);
        }
    }
}
