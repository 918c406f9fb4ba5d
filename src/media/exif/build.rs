//! Serializes rewritten IFDs after the original TIFF bytes.
//!
//! The original block is kept verbatim as a prefix, so every existing
//! value keeps its offset (MakerNotes with absolute offsets stay valid
//! without being understood); new IFDs and their new values are appended
//! and the header and parent pointers are aimed at them.

use super::tiff::{Ifd, Order, RawEntry};
use super::values::NewEntry;
use crate::media::model::EmbedError;

/// One entry of an IFD being rebuilt.
#[derive(Clone, Debug)]
enum Slot {
    /// An original entry, copied byte for byte.
    Kept(RawEntry),
    /// An entry memoria adds or replaces.
    New(NewEntry),
}

impl Slot {
    /// Returns the entry's tag.
    fn tag(&self) -> u16 {
        match self {
            Slot::Kept(e) => e.tag,
            Slot::New(e) => e.tag,
        }
    }

    /// Returns the size of the out-of-line value this slot adds, padded
    /// to a word boundary (TIFF 6.0 §2: offsets are even).
    fn extra_len(&self) -> usize {
        match self {
            Slot::New(e) if e.data.len() > 4 => e.data.len() + e.data.len() % 2,
            _ => 0,
        }
    }
}

/// An IFD being rebuilt: its entries and raw next-IFD pointer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Draft {
    slots: Vec<Slot>,
    next: [u8; 4],
}

impl Draft {
    /// Returns a draft holding every entry of `ifd` (or none) unchanged.
    pub(crate) fn from_ifd(ifd: Option<&Ifd>) -> Draft {
        let Some(ifd) = ifd else { return Draft::default() };
        let slots = ifd.entries.iter().copied().map(Slot::Kept).collect();
        Draft { slots, next: ifd.next }
    }

    /// Replaces every entry with the tag of `entry`, or adds it.
    pub(crate) fn upsert(&mut self, entry: NewEntry) {
        self.slots.retain(|s| s.tag() != entry.tag);
        self.slots.push(Slot::New(entry));
    }

    /// Returns the encoded size: count, entries, next pointer, values.
    pub(crate) fn len(&self) -> usize {
        let values: usize = self.slots.iter().map(Slot::extra_len).sum();
        2 + 12 * self.slots.len() + 4 + values
    }

    /// Sorts the entries by tag, as TIFF 6.0 §2 requires; the sort is
    /// stable so duplicate original tags keep their order.
    pub(crate) fn sort(&mut self) {
        self.slots.sort_by_key(Slot::tag);
    }

    /// Appends the IFD and its new values to `out` at its current end.
    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        order: Order,
    ) -> Result<(), EmbedError> {
        let count = u16::try_from(self.slots.len())
            .map_err(|_| too_large("too many exif entries"))?;
        let values_at = out.len() + 2 + 12 * self.slots.len() + 4;
        let mut values = Vec::new();
        out.extend_from_slice(&order.put_u16(count));
        for slot in &self.slots {
            let raw = match slot {
                Slot::Kept(e) => *e,
                Slot::New(e) => place(e, values_at, &mut values, order)?,
            };
            out.extend_from_slice(&order.put_u16(raw.tag));
            out.extend_from_slice(&order.put_u16(raw.typ));
            out.extend_from_slice(&order.put_u32(raw.count));
            out.extend_from_slice(&raw.value);
        }
        out.extend_from_slice(&self.next);
        out.extend_from_slice(&values);
        Ok(())
    }
}

/// Returns the stored form of a new entry: its bytes inline when they
/// fit in 4, else appended (word-aligned) to `values`, which starts at
/// block offset `values_at`, and referenced by offset.
fn place(
    e: &NewEntry,
    values_at: usize,
    values: &mut Vec<u8>,
    order: Order,
) -> Result<RawEntry, EmbedError> {
    let mut value = [0; 4];
    if let Some(field) = value.get_mut(..e.data.len()) {
        field.copy_from_slice(&e.data);
    } else {
        value = order.put_u32(to_u32(values_at + values.len())?);
        values.extend_from_slice(&e.data);
        if values.len() % 2 == 1 {
            values.push(0);
        }
    }
    Ok(RawEntry { tag: e.tag, typ: e.typ, count: e.count, value })
}

/// Converts a block offset to the 32-bit form TIFF stores.
pub(crate) fn to_u32(n: usize) -> Result<u32, EmbedError> {
    u32::try_from(n).map_err(|_| too_large("exif block too large"))
}

/// Returns the error for a block TIFF offsets cannot address.
fn too_large(why: &str) -> EmbedError {
    EmbedError::Unsupported(why.to_string())
}
