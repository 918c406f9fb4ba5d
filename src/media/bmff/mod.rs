//! ISO-BMFF (MP4, MOV, M4V, 3GP, M4A) metadata: embedding memoria's
//! dates, position and description into `moov`, checking the structure
//! of a written file, and reading what a file already carries
//! (metadata.md §2.4, §3, §5, §6 "MP4 family", §9).
//!
//! Only `moov` is held in memory; media data is streamed. The engine
//! picks this module by container and falls back to a sidecar on error.

mod atoms;
mod edit;
mod inspect;
pub(crate) mod layout;
mod tables;
pub(crate) mod tree;
mod values;

pub(crate) use values::iso6709;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek, Write};

use crate::media::model::{Applied, EmbedError, Existing, Metadata};
use crate::media::stream;
use inspect::Found;
use layout::{Layout, TopBox};
use tree::Node;

/// Writes `src` with `meta` embedded into `out`.
///
/// Boxes before and after `moov` are copied in bounded chunks; `moov` is
/// rebuilt and chunk offsets past it are shifted by its size change.
/// When nothing needs writing, `out` receives `src` unchanged.
///
/// # Errors
///
/// `Unsupported` for fragmented files and `moov` boxes this writer cannot
/// edit safely, `Malformed` for broken structure, `Io` for read or write
/// failures; nothing useful is in `out` after an error.
pub(crate) fn embed<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    meta: &Metadata,
) -> Result<Applied, EmbedError> {
    let layout = Layout::scan(src)?;
    let top = layout.moov()?;
    let mut moov = layout::load_moov(src, &top)?;
    if layout.is_fragmented() || moov.child(b"mvex").is_some() {
        return Err(EmbedError::Unsupported("fragmented mp4".into()));
    }
    let applied = edit::apply(&mut moov, meta)?;
    if applied.is_unchanged() {
        stream::copy_range(src, out, 0, layout.len)?;
        return Ok(applied);
    }
    tables::relocate(&mut moov, top.end, top.end - top.start)?;
    write_with_moov(src, out, &layout, &top, &moov)?;
    Ok(applied)
}

/// Checks the structure of an ISO-BMFF file (metadata.md §9 step 3).
///
/// Top-level box sizes must match the file length, `moov` must parse
/// down to every track's sample table, and every `stco`/`co64` chunk
/// offset must lie inside an `mdat` payload.
///
/// # Errors
///
/// A lowercase message naming the first problem found.
pub(crate) fn validate<R: Read + Seek>(src: &mut R) -> Result<(), String> {
    let layout = Layout::scan(src).map_err(|e| e.to_string())?;
    let top = layout.moov().map_err(|e| e.to_string())?;
    let mut moov = layout::load_moov(src, &top).map_err(|e| e.to_string())?;
    tables::check_offsets(&mut moov, &layout.mdats())
}

/// Reads the metadata a file already carries (metadata.md §5).
///
/// The date is the `creationdate` key when present and parseable, else
/// the non-zero `mvhd` creation time; the position comes from the ISO
/// 6709 key or `udta/©xyz`; the description from `©cmt` or `desc`.
///
/// # Errors
///
/// A lowercase message when the box structure or `moov` is broken.
pub(crate) fn read<R: Read + Seek>(src: &mut R) -> Result<Existing, String> {
    let layout = Layout::scan(src).map_err(|e| e.to_string())?;
    let top = layout.moov().map_err(|e| e.to_string())?;
    let moov = layout::load_moov(src, &top).map_err(|e| e.to_string())?;
    Ok(Found::inspect(&moov).existing())
}

/// Writes everything before `moov`, the new `moov`, then everything
/// after it.
fn write_with_moov<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    layout: &Layout,
    top: &TopBox,
    moov: &Node,
) -> Result<(), EmbedError> {
    stream::copy_range(src, out, 0, top.start)?;
    out.write_all(&moov.to_bytes())?;
    stream::copy_range(src, out, top.end, layout.len - top.end)?;
    Ok(())
}
