//! Low-level reading of a TIFF-structured EXIF block: byte order, IFDs as
//! raw 12-byte entries, and the value bytes of an entry.
//!
//! Only what the merger inspects is decoded; every other entry stays an
//! opaque [`RawEntry`] copied verbatim, so values this module does not
//! understand (MakerNotes, unknown types) keep their original offsets.

use std::borrow::Cow;

/// Byte order of a TIFF block (TIFF 6.0 §2, "Image File Header").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// `II`, least significant byte first.
    Little,
    /// `MM`, most significant byte first.
    Big,
}

impl Order {
    /// Returns the 16-bit value of `b` in this order.
    pub(crate) fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Order::Little => u16::from_le_bytes(b),
            Order::Big => u16::from_be_bytes(b),
        }
    }

    /// Returns the 32-bit value of `b` in this order.
    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Order::Little => u32::from_le_bytes(b),
            Order::Big => u32::from_be_bytes(b),
        }
    }

    /// Returns the bytes of `v` in this order.
    pub(crate) fn put_u16(self, v: u16) -> [u8; 2] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }

    /// Returns the bytes of `v` in this order.
    pub(crate) fn put_u32(self, v: u32) -> [u8; 4] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }
}

/// TIFF field types used by the writer (TIFF 6.0 §2, Exif 2.32 §4.6.2).
pub(crate) mod types {
    /// 8-bit unsigned integer.
    pub(crate) const BYTE: u16 = 1;
    /// NUL-terminated 7-bit text (memoria stores UTF-8 in it, §6).
    pub(crate) const ASCII: u16 = 2;
    /// 16-bit unsigned integer.
    pub(crate) const SHORT: u16 = 3;
    /// 32-bit unsigned integer.
    pub(crate) const LONG: u16 = 4;
    /// Two LONGs: numerator, denominator.
    pub(crate) const RATIONAL: u16 = 5;
    /// Opaque bytes.
    pub(crate) const UNDEFINED: u16 = 7;
    /// A LONG that points at a sub-IFD (TIFF Technical Note 1).
    pub(crate) const IFD: u16 = 13;
}

/// Returns the size in bytes of one value of TIFF type `typ`, or None for
/// a type this module does not know.
pub(crate) fn type_size(typ: u16) -> Option<usize> {
    match typ {
        1 | 2 | 6 | 7 | 129 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// One IFD entry exactly as stored: tag, type, count and the 4-byte
/// value-or-offset field, still in the block's byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawEntry {
    /// Tag number.
    pub(crate) tag: u16,
    /// Field type.
    pub(crate) typ: u16,
    /// Number of values.
    pub(crate) count: u32,
    /// The value itself when it fits in 4 bytes, else its offset.
    pub(crate) value: [u8; 4],
}

/// An IFD: its entries in stored order and the raw next-IFD pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ifd {
    /// Offset of the IFD inside the block.
    pub(crate) offset: usize,
    /// Entries in the order they were stored.
    pub(crate) entries: Vec<RawEntry>,
    /// The next-IFD pointer, kept raw so IFD1 stays linked.
    pub(crate) next: [u8; 4],
}

impl Ifd {
    /// Returns the first entry with `tag`.
    pub(crate) fn find(&self, tag: u16) -> Option<&RawEntry> {
        self.entries.iter().find(|e| e.tag == tag)
    }
}

/// A TIFF block being read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tiff<'a> {
    /// The whole block, starting at the byte-order mark.
    pub(crate) data: &'a [u8],
    /// Its byte order.
    pub(crate) order: Order,
}

impl<'a> Tiff<'a> {
    /// Reads the 8-byte header; returns the block and IFD0's offset.
    pub(crate) fn from_bytes(
        data: &'a [u8],
    ) -> Result<(Tiff<'a>, u32), String> {
        let order = match data.get(..4) {
            Some(b"II*\0") => Order::Little,
            Some(b"MM\0*") => Order::Big,
            _ => return Err("bad tiff header".to_string()),
        };
        let tiff = Tiff { data, order };
        let ifd0 = tiff.u32_at(4).ok_or("truncated tiff header")?;
        Ok((tiff, ifd0))
    }

    /// Returns the 16-bit value at `pos`, if in range.
    fn u16_at(&self, pos: usize) -> Option<u16> {
        let b = self.data.get(pos..pos.checked_add(2)?)?;
        Some(self.order.u16([b[0], b[1]]))
    }

    /// Returns the 32-bit value at `pos`, if in range.
    fn u32_at(&self, pos: usize) -> Option<u32> {
        let b = self.data.get(pos..pos.checked_add(4)?)?;
        Some(self.order.u32([b[0], b[1], b[2], b[3]]))
    }

    /// Reads the IFD at `offset`; `name` labels errors.
    ///
    /// A missing next-IFD pointer at the very end of the block is read as
    /// 0, as some writers omit it after the last IFD.
    pub(crate) fn ifd(&self, offset: u32, name: &str) -> Result<Ifd, String> {
        let start = offset as usize;
        let count = self
            .u16_at(start)
            .ok_or_else(|| format!("{name} offset {offset} out of range"))?;
        let end = start + 2 + 12 * usize::from(count);
        if end > self.data.len() {
            return Err(format!("{name} entries out of range"));
        }
        let entries = (0..usize::from(count))
            .filter_map(|i| self.entry(start + 2 + 12 * i))
            .collect();
        let next = match self.data.get(end..end + 4) {
            Some(b) => [b[0], b[1], b[2], b[3]],
            None => [0; 4],
        };
        Ok(Ifd { offset: start, entries, next })
    }

    /// Reads the 12-byte entry at `pos` (already bounds-checked).
    fn entry(&self, pos: usize) -> Option<RawEntry> {
        let value = self.data.get(pos + 8..pos + 12)?;
        Some(RawEntry {
            tag: self.u16_at(pos)?,
            typ: self.u16_at(pos + 2)?,
            count: self.u32_at(pos + 4)?,
            value: [value[0], value[1], value[2], value[3]],
        })
    }

    /// Returns the value bytes of `e`: inline, or at its offset.
    ///
    /// Errors when the type is unknown or the value lies outside the block.
    pub(crate) fn value(&self, e: &RawEntry) -> Result<Cow<'a, [u8]>, String> {
        let size = type_size(e.typ)
            .and_then(|s| s.checked_mul(e.count as usize))
            .ok_or_else(|| format!("tag {:#06x} has unknown type", e.tag))?;
        if let Some(inline) = e.value.get(..size) {
            return Ok(Cow::Owned(inline.to_vec()));
        }
        let start = self.order.u32(e.value) as usize;
        start
            .checked_add(size)
            .and_then(|end| self.data.get(start..end))
            .map(Cow::Borrowed)
            .ok_or_else(|| format!("tag {:#06x} value out of range", e.tag))
    }

    /// Returns the offset stored in a sub-IFD pointer entry.
    pub(crate) fn pointer(&self, e: &RawEntry) -> Result<u32, String> {
        let is_long = matches!(e.typ, types::LONG | types::IFD);
        if !is_long || e.count != 1 {
            return Err(format!("bad pointer tag {:#06x}", e.tag));
        }
        Ok(self.order.u32(e.value))
    }
}
