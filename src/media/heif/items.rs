//! HEIF item boxes inside `meta` besides `iloc`: the primary item
//! (`pitm`), item information (`iinf`/`infe`) and item references
//! (`iref`), ISO/IEC 14496-12 §8.11 and ISO/IEC 23008-12 §9.

use crate::media::bmff::tree::{
    be_u16, be_u32, fourcc, parse_children, FourCc, Node,
};

/// One item information entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ItemInfo {
    /// `item_ID`.
    pub(super) id: u32,
    /// `item_type` (`hvc1`, `av01`, `grid`, `Exif`, `mime`, …).
    pub(super) kind: FourCc,
}

/// Returns the primary item id of a `pitm` payload.
pub(super) fn primary(pitm: &[u8]) -> Option<u32> {
    match pitm.first()? {
        0 => be_u16(pitm, 4).map(u32::from),
        1 => be_u32(pitm, 4),
        _ => None,
    }
}

/// Returns the width in bytes of the entry count of an `iinf` payload.
fn count_width(iinf: &[u8]) -> usize {
    if iinf.first() == Some(&0) {
        2
    } else {
        4
    }
}

/// Parses the entries of an `iinf` payload.
///
/// Only `infe` versions 2 and 3 carry an item type; older entries get a
/// blank type.
pub(super) fn item_infos(iinf: &[u8]) -> Result<Vec<ItemInfo>, String> {
    let width = count_width(iinf);
    let count = match width {
        2 => be_u16(iinf, 4).map(u32::from),
        _ => be_u32(iinf, 4),
    };
    let count = count.ok_or("iinf is truncated")?;
    let rest = iinf.get(4 + width..).ok_or("iinf is truncated")?;
    let (entries, _) =
        parse_children(rest).map_err(|e| format!("iinf: {e}"))?;
    let infos: Vec<ItemInfo> = entries
        .iter()
        .filter(|e| &e.kind == b"infe")
        .map(|e| parse_infe(e.payload().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    if infos.len() as u64 != u64::from(count) {
        return Err("iinf entry count does not match its entries".into());
    }
    Ok(infos)
}

/// Parses one `infe` payload.
fn parse_infe(infe: &[u8]) -> Result<ItemInfo, String> {
    let short = || "infe is truncated".to_string();
    let (id, kind_at) = match infe.first() {
        Some(2) => (be_u16(infe, 4).map(u32::from), 8),
        Some(3) => (be_u32(infe, 4), 10),
        // Versions 0 and 1 predate item types; such an item is never the
        // Exif item, so its type stays blank.
        Some(0 | 1) => {
            let id = be_u16(infe, 4).map(u32::from).ok_or_else(short)?;
            return Ok(ItemInfo { id, kind: [0; 4] });
        }
        Some(v) => return Err(format!("infe version {v} is unknown")),
        None => return Err(short()),
    };
    let id = id.ok_or_else(short)?;
    let kind = fourcc(infe, kind_at).ok_or_else(short)?;
    Ok(ItemInfo { id, kind })
}

/// Appends an `infe` for a new `Exif` item `id` to a raw `iinf` and
/// raises its entry count.
pub(super) fn add_exif_info(iinf: &mut Node, id: u32) -> Result<(), String> {
    let payload = iinf.payload_mut().ok_or("iinf is not raw")?;
    let width = count_width(payload);
    let field = payload.get_mut(4..4 + width).ok_or("iinf is truncated")?;
    let count = field.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)) + 1;
    if width == 2 && count > u64::from(u16::MAX) {
        return Err("iinf entry count overflows".into());
    }
    let bytes = count.to_be_bytes();
    field.copy_from_slice(bytes.get(8 - width..).unwrap_or_default());
    // Version 2 holds a 16-bit id, version 3 a 32-bit one (§8.11.6).
    let mut infe = match u16::try_from(id) {
        Ok(short) => [&[2, 0, 0, 0][..], &short.to_be_bytes()].concat(),
        Err(_) => [&[3, 0, 0, 0][..], &id.to_be_bytes()].concat(),
    };
    infe.extend_from_slice(&[0, 0]);
    infe.extend_from_slice(b"Exif");
    infe.push(0);
    Node::raw(*b"infe", infe).write_to(payload);
    Ok(())
}

/// Adds a `cdsc` reference from `from` to `to` (metadata.md §6: the Exif
/// item describes the primary item), creating `iref` after `iinf` when
/// the `meta` has none.
pub(super) fn add_cdsc(
    meta: &mut Vec<Node>,
    from: u32,
    to: u32,
) -> Result<(), String> {
    let wide = from > u32::from(u16::MAX) || to > u32::from(u16::MAX);
    if !meta.iter().any(|c| &c.kind == b"iref") {
        let at = meta.iter().position(|c| &c.kind == b"iinf");
        let version = u8::from(wide);
        let iref = Node::raw(*b"iref", vec![version, 0, 0, 0]);
        meta.insert(at.map_or(meta.len(), |i| i + 1), iref);
    }
    let iref = meta.iter_mut().find(|c| &c.kind == b"iref");
    let payload = iref.and_then(Node::payload_mut).ok_or("iref is not raw")?;
    let body = match payload.first() {
        Some(0) if !wide => {
            [(from as u16).to_be_bytes(), [0, 1], (to as u16).to_be_bytes()]
                .concat()
        }
        Some(1) => {
            [&from.to_be_bytes()[..], &[0, 1], &to.to_be_bytes()].concat()
        }
        _ => return Err("iref cannot hold the item ids".into()),
    };
    Node::raw(*b"cdsc", body).write_to(payload);
    Ok(())
}
