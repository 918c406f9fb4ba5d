//! The HEIF item location box `iloc` (ISO/IEC 14496-12 §8.11.3): parsed
//! into items and extents, shifted when the `meta` box changes size, and
//! encoded back with the field sizes it was found with.

use crate::media::bmff::tree::{be_u16, be_u32};

/// Construction method 0: extents are file offsets.
pub(super) const FILE_OFFSET: u16 = 0;
/// Construction method 1: extents are offsets into the `idat` box.
pub(super) const IDAT_OFFSET: u16 = 1;

/// One extent of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Extent {
    /// `extent_index` (versions 1 and 2 with a non-zero index size).
    pub(super) index: u64,
    /// `extent_offset`.
    pub(super) offset: u64,
    /// `extent_length` (0: to the end of the source).
    pub(super) length: u64,
}

/// The location of one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Location {
    /// `item_ID`.
    pub(super) id: u32,
    /// The 16 bits holding `construction_method` (versions 1 and 2).
    pub(super) method: u16,
    /// `data_reference_index` (0: this file).
    pub(super) data_ref: u16,
    /// `base_offset`.
    pub(super) base: u64,
    /// The extents.
    pub(super) extents: Vec<Extent>,
}

impl Location {
    /// Returns the construction method (0 for version 0 boxes).
    pub(super) fn construction(&self) -> u16 {
        self.method & 0x0F
    }

    /// Returns true when the extents are offsets into this file.
    pub(super) fn is_in_file(&self) -> bool {
        self.construction() == FILE_OFFSET && self.data_ref == 0
    }
}

/// A parsed `iloc` payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Iloc {
    version: u8,
    flags: [u8; 3],
    /// Field sizes in bytes: offset, length, base offset, index.
    sizes: [u8; 4],
    /// The item locations, in box order.
    pub(super) items: Vec<Location>,
}

/// A byte reader over a payload that fails instead of panicking.
struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: u8) -> Result<u64, String> {
        let n = usize::from(n);
        let bytes =
            self.data.get(self.at..self.at + n).ok_or("iloc is truncated")?;
        self.at += n;
        Ok(bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b)))
    }

    fn u16(&mut self) -> Result<u16, String> {
        let value = be_u16(self.data, self.at).ok_or("iloc is truncated")?;
        self.at += 2;
        Ok(value)
    }
}

impl Iloc {
    /// Parses an `iloc` payload (version and flags first).
    pub(super) fn parse(data: &[u8]) -> Result<Iloc, String> {
        let version = *data.first().ok_or("iloc is empty")?;
        if version > 2 {
            return Err(format!("iloc version {version} is unknown"));
        }
        let flags = [0, 1, 2].map(|i| data.get(1 + i).copied().unwrap_or(0));
        let fields = be_u16(data, 4).ok_or("iloc is truncated")?;
        let [high, low] = fields.to_be_bytes();
        // In version 0 the low nibble is reserved; it is kept as found.
        let sizes = [high >> 4, high & 0x0F, low >> 4, low & 0x0F];
        let used = if version == 0 { 3 } else { 4 };
        if sizes.iter().take(used).any(|s| ![0, 4, 8].contains(s)) {
            return Err("iloc field size is not 0, 4 or 8".into());
        }
        let mut cur = Cursor { data, at: 6 };
        let count = if version < 2 {
            u32::from(cur.u16()?)
        } else {
            let count = be_u32(data, 6).ok_or("iloc is truncated")?;
            cur.at = 10;
            count
        };
        let mut iloc = Iloc { version, flags, sizes, items: Vec::new() };
        for _ in 0..count {
            let item = iloc.parse_item(&mut cur)?;
            iloc.items.push(item);
        }
        if cur.at != data.len() {
            return Err("iloc has trailing bytes".into());
        }
        Ok(iloc)
    }

    fn parse_item(&self, cur: &mut Cursor) -> Result<Location, String> {
        let id = if self.version < 2 { cur.take(2)? } else { cur.take(4)? };
        let method = if self.version == 0 { 0 } else { cur.u16()? };
        let data_ref = cur.u16()?;
        let base = cur.take(self.sizes[2])?;
        let count = cur.u16()?;
        let mut extents = Vec::new();
        for _ in 0..count {
            let index = match self.version {
                0 => 0,
                _ => cur.take(self.sizes[3])?,
            };
            let offset = cur.take(self.sizes[0])?;
            let length = cur.take(self.sizes[1])?;
            extents.push(Extent { index, offset, length });
        }
        let id = u32::try_from(id).map_err(|_| "iloc item id too large")?;
        Ok(Location { id, method, data_ref, base, extents })
    }

    /// Returns true when `value` fits the field of size index `field`
    /// (0 offset, 1 length, 2 base offset).
    pub(super) fn fits(&self, field: usize, value: u64) -> bool {
        self.sizes.get(field).is_some_and(|&size| fits(size, value))
    }

    /// Shifts every in-file extent at or past `old_end` by `delta`,
    /// except those of item `skip`.
    pub(super) fn shift(
        &mut self,
        skip: u32,
        old_end: u64,
        delta: i128,
    ) -> Result<(), String> {
        let sizes = self.sizes;
        let items = self.items.iter_mut().filter(|i| i.id != skip);
        for item in items.filter(|i| i.is_in_file()) {
            shift_item(sizes, item, old_end, delta)?;
        }
        Ok(())
    }

    /// Points the single extent of item `id` at file offset `at`, through
    /// the extent offset or, when that field is absent, the base offset.
    pub(super) fn set_position(
        &mut self,
        id: u32,
        at: u64,
    ) -> Result<(), String> {
        let [offset_size, _, base_size, _] = self.sizes;
        let item = self.items.iter_mut().find(|i| i.id == id);
        let item = item.ok_or("item has no location")?;
        let extent = item.extents.first_mut().ok_or("item has no extent")?;
        match (offset_size, base_size) {
            (0, 0) => return Err("iloc has no offset fields".into()),
            (0, _) => item.base = at,
            _ => extent.offset = at,
        }
        if !fits(offset_size.max(base_size), at) {
            return Err("iloc offset field too small".into());
        }
        Ok(())
    }

    /// Returns true when an item id of `id` can be stored.
    pub(super) fn fits_id(&self, id: u32) -> bool {
        self.version == 2 || id <= u32::from(u16::MAX)
    }

    /// Encodes the payload with the field sizes it was parsed with.
    pub(super) fn encode(&self) -> Vec<u8> {
        let [o, l, b, i] = self.sizes;
        let mut out = vec![self.version];
        out.extend_from_slice(&self.flags);
        out.extend_from_slice(&[o << 4 | l, b << 4 | i]);
        let count = self.items.len();
        put(&mut out, count as u64, if self.version < 2 { 2 } else { 4 });
        for item in &self.items {
            self.encode_item(item, &mut out);
        }
        out
    }

    fn encode_item(&self, item: &Location, out: &mut Vec<u8>) {
        let [o, l, b, i] = self.sizes;
        put(out, u64::from(item.id), if self.version < 2 { 2 } else { 4 });
        if self.version > 0 {
            put(out, u64::from(item.method), 2);
        }
        put(out, u64::from(item.data_ref), 2);
        put(out, item.base, b);
        put(out, item.extents.len() as u64, 2);
        for extent in &item.extents {
            if self.version > 0 {
                put(out, extent.index, i);
            }
            put(out, extent.offset, o);
            put(out, extent.length, l);
        }
    }
}

/// Shifts the extents of one in-file item that lie at or past `old_end`:
/// through the base offset when all of them move and the field exists,
/// else through each extent offset.
fn shift_item(
    sizes: [u8; 4],
    item: &mut Location,
    old_end: u64,
    delta: i128,
) -> Result<(), String> {
    let [offset_size, _, base_size, _] = sizes;
    let base = item.base;
    let moved: Vec<bool> = item
        .extents
        .iter()
        .map(|e| base.saturating_add(e.offset) >= old_end)
        .collect();
    if !moved.contains(&true) {
        return Ok(());
    }
    let too_small = || "iloc field too small for shifted offset".to_string();
    if base_size > 0 && moved.iter().all(|&m| m) {
        item.base = shifted(base, delta)
            .filter(|&b| fits(base_size, b))
            .ok_or_else(too_small)?;
        return Ok(());
    }
    for (extent, _) in item.extents.iter_mut().zip(moved).filter(|(_, m)| *m) {
        let offset =
            shifted(extent.offset, delta).filter(|&o| fits(offset_size, o));
        extent.offset = offset.ok_or_else(too_small)?;
    }
    Ok(())
}

/// Returns `value + delta` when it stays within u64.
fn shifted(value: u64, delta: i128) -> Option<u64> {
    u64::try_from(i128::from(value) + delta).ok()
}

/// Returns true when `value` fits a field of `size` bytes.
fn fits(size: u8, value: u64) -> bool {
    match size {
        8 => true,
        4 => value <= u64::from(u32::MAX),
        _ => value == 0,
    }
}

/// Appends the low `size` bytes of `value`, big-endian.
fn put(out: &mut Vec<u8>, value: u64, size: u8) {
    let bytes = value.to_be_bytes();
    out.extend_from_slice(
        bytes.get(8 - usize::from(size)..).unwrap_or_default(),
    );
}
