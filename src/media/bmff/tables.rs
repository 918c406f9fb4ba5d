//! Fixed-layout tables inside `moov`: the creation and modification
//! times of `mvhd`/`tkhd`/`mdhd`, and the `stco`/`co64` chunk offsets
//! that must follow a `moov` size change (metadata.md §6 "MP4 family").

use super::tree::{be_u32, be_u64, Node};
use crate::media::model::{EmbedError, FieldOutcome};

/// How many date carriers were written and how many were already set.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tally {
    /// Carriers memoria filled.
    pub(super) written: usize,
    /// Carriers that already held a value.
    pub(super) kept: usize,
}

impl Tally {
    /// Returns the report outcome for these counts, as for EXIF dates.
    pub(super) fn outcome(self) -> FieldOutcome {
        match (self.written, self.kept) {
            (0, 0) => FieldOutcome::None,
            (_, 0) => FieldOutcome::Written,
            (0, _) => FieldOutcome::Kept,
            _ => FieldOutcome::Partial,
        }
    }
}

/// Returns the creation time of an `mvhd`/`tkhd`/`mdhd` payload.
pub(super) fn creation_time(payload: &[u8]) -> Option<u64> {
    match payload.first()? {
        0 => be_u32(payload, 4).map(u64::from),
        1 => be_u64(payload, 4),
        _ => None,
    }
}

/// Fills every zero creation and modification time of `mvhd`, `tkhd`
/// and `mdhd` with `secs` (since 1904), keeping each box's version.
///
/// A value that does not fit a version-0 box (after 2040) is not written.
pub(super) fn fill_times(moov: &mut Node, secs: Option<u64>) -> Tally {
    let mut tally = Tally::default();
    let Some(children) = moov.children_mut() else { return tally };
    for child in children {
        match &child.kind {
            b"mvhd" => fill_box(child, secs, &mut tally),
            b"trak" => {
                if let Some(tkhd) = child.child_mut(b"tkhd") {
                    fill_box(tkhd, secs, &mut tally);
                }
                let mdia = child.child_mut(b"mdia");
                if let Some(mdhd) = mdia.and_then(|m| m.child_mut(b"mdhd")) {
                    fill_box(mdhd, secs, &mut tally);
                }
            }
            _ => {}
        }
    }
    tally
}

/// Fills the two time fields of one header box.
fn fill_box(node: &mut Node, secs: Option<u64>, tally: &mut Tally) {
    let Some(payload) = node.payload_mut() else { return };
    let width = match payload.first() {
        Some(0) => 4,
        Some(1) => 8,
        _ => return,
    };
    for at in [4, 4 + width] {
        let Some(field) = payload.get_mut(at..at + width) else { return };
        if field.iter().any(|&b| b != 0) {
            tally.kept += 1;
            continue;
        }
        let bytes = match (width, secs) {
            (4, Some(s)) => {
                u32::try_from(s).ok().map(|v| v.to_be_bytes().to_vec())
            }
            (_, Some(s)) => Some(s.to_be_bytes().to_vec()),
            _ => None,
        };
        if let Some(bytes) = bytes {
            field.copy_from_slice(&bytes);
            tally.written += 1;
        }
    }
}

/// A parsed `stco` (32-bit) or `co64` (64-bit) chunk offset table.
struct Table {
    wide: bool,
    version_flags: [u8; 4],
    entries: Vec<u64>,
    /// Bytes after the entries, kept as found.
    rest: Vec<u8>,
}

impl Table {
    /// Parses a raw `stco`/`co64` box.
    fn parse(node: &Node) -> Result<Table, String> {
        let wide = &node.kind == b"co64";
        let name = if wide { "co64" } else { "stco" };
        let payload = node.payload().ok_or(format!("{name} not raw"))?;
        let short = || format!("{name} box shorter than its entry count");
        let count = be_u32(payload, 4).ok_or_else(short)?;
        let width = if wide { 8 } else { 4 };
        let end = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(width)?.checked_add(8))
            .filter(|&end| end <= payload.len())
            .ok_or_else(short)?;
        let body = payload.get(8..end).unwrap_or_default();
        let entries = body
            .chunks_exact(width)
            .map(|c| c.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
            .collect();
        let mut version_flags = [0; 4];
        version_flags.copy_from_slice(payload.get(..4).unwrap_or(&[0; 4]));
        let rest = payload.get(end..).unwrap_or_default().to_vec();
        Ok(Table { wide, version_flags, entries, rest })
    }

    /// Returns the box payload for the current entries and width.
    fn encode(&self) -> Vec<u8> {
        let width = if self.wide { 8 } else { 4 };
        let mut out = Vec::with_capacity(8 + width * self.entries.len());
        out.extend_from_slice(&self.version_flags);
        let count = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for &entry in &self.entries {
            let bytes = entry.to_be_bytes();
            out.extend_from_slice(bytes.get(8 - width..).unwrap_or_default());
        }
        out.extend_from_slice(&self.rest);
        out
    }
}

/// Returns every `stco`/`co64` box of the tracks of `moov`.
fn chunk_tables(moov: &mut Node) -> Vec<&mut Node> {
    let tracks = moov.children_mut().into_iter().flatten();
    tracks
        .filter(|t| &t.kind == b"trak")
        .filter_map(|t| t.child_mut(b"mdia")?.child_mut(b"minf"))
        .filter_map(|m| m.child_mut(b"stbl")?.children_mut())
        .flat_map(|c| c.iter_mut())
        .filter(|c| matches!(&c.kind, b"stco" | b"co64"))
        .collect()
}

/// Returns true when any track has a `saio` box, whose offsets can be
/// absolute file positions this writer does not rewrite.
fn has_aux_offsets(moov: &Node) -> bool {
    moov.children()
        .iter()
        .filter_map(|t| t.child(b"mdia")?.child(b"minf")?.child(b"stbl"))
        .any(|stbl| stbl.child(b"saio").is_some())
}

/// Shifts every chunk offset at or past `old_end` (the old end of
/// `moov`) by the change of the `moov` size, converting an `stco` to
/// `co64` when a shifted entry would not fit 32 bits.
///
/// The conversion grows `moov` again, so the size is recomputed until no
/// further table needs it.
pub(super) fn relocate(
    moov: &mut Node,
    old_end: u64,
    old_size: u64,
) -> Result<(), EmbedError> {
    let aux = has_aux_offsets(moov);
    let base = i128::from(moov.size());
    let mut nodes = chunk_tables(moov);
    let mut tables = Vec::with_capacity(nodes.len());
    for node in &nodes {
        tables.push(Table::parse(node).map_err(EmbedError::Malformed)?);
    }
    let delta = settle(&mut tables, base, old_end, old_size)?;
    let moved = tables.iter().flat_map(|t| &t.entries).any(|&e| e >= old_end);
    if delta == 0 || !moved {
        return Ok(());
    }
    if aux {
        let why = "sample auxiliary offsets (saio) cannot be relocated";
        return Err(EmbedError::Unsupported(why.to_string()));
    }
    for (node, table) in nodes.iter_mut().zip(&mut tables) {
        for entry in table.entries.iter_mut().filter(|e| **e >= old_end) {
            *entry = shift(*entry, delta).ok_or_else(overflow)?;
        }
        if table.wide {
            node.kind = *b"co64";
        }
        if let Some(payload) = node.payload_mut() {
            *payload = table.encode();
        }
    }
    Ok(())
}

/// Widens each `stco` whose shifted entries overflow 32 bits and returns
/// the final size change of `moov`.
fn settle(
    tables: &mut [Table],
    base: i128,
    old_end: u64,
    old_size: u64,
) -> Result<i128, EmbedError> {
    let mut size = base;
    loop {
        let delta = size - i128::from(old_size);
        let mut grew = false;
        for table in tables.iter_mut().filter(|t| !t.wide) {
            let moved = table.entries.iter().filter(|&&e| e >= old_end);
            let mut shifted = moved.map(|&e| shift(e, delta));
            if shifted.any(|e| e.is_none_or(|e| e > u64::from(u32::MAX))) {
                table.wide = true;
                size += 4 * table.entries.len() as i128;
                grew = true;
            }
        }
        if !grew {
            return Ok(delta);
        }
    }
}

/// Returns `entry + delta` when it stays within u64.
fn shift(entry: u64, delta: i128) -> Option<u64> {
    u64::try_from(i128::from(entry) + delta).ok()
}

fn overflow() -> EmbedError {
    EmbedError::Malformed("chunk offset out of range after shift".into())
}

/// Checks that every chunk offset lies inside one of `mdats` (payload
/// ranges, end exclusive), as metadata.md §9 step 3 requires.
pub(super) fn check_offsets(
    moov: &mut Node,
    mdats: &[(u64, u64)],
) -> Result<(), String> {
    for node in chunk_tables(moov) {
        let table = Table::parse(node)?;
        let inside =
            |e: &u64| mdats.iter().any(|&(s, end)| (s..end).contains(e));
        if let Some(bad) = table.entries.iter().find(|e| !inside(e)) {
            return Err(format!("chunk offset {bad} lies outside every mdat"));
        }
    }
    Ok(())
}
