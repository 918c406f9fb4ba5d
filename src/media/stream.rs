//! Positioned reads and range copies shared by the container writers,
//! which stream a file instead of loading it (metadata.md §9): memory stays
//! flat for multi-gigabyte media.
//!
//! A read that runs past the end of the file is a structural error of the
//! file ([`EmbedError::Malformed`]), not an I/O failure.

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::media::model::EmbedError;

/// Returns the length of `src` in bytes.
pub(crate) fn len<R: Seek>(src: &mut R) -> Result<u64, EmbedError> {
    Ok(src.seek(SeekFrom::End(0))?)
}

/// Fills `buf` from offset `pos`; `what` names the structure for errors.
pub(crate) fn read_at<R: Read + Seek>(
    src: &mut R,
    pos: u64,
    buf: &mut [u8],
    what: &str,
) -> Result<(), EmbedError> {
    move_to(src, pos)?;
    src.read_exact(buf).map_err(|err| truncated(err, what))
}

/// Moves `src` to offset `pos` by a relative seek, which a `BufReader`
/// serves from its buffer when `pos` is in it: parsing a header reads a
/// few bytes at a time, and an absolute seek would drop the buffer and
/// read it again for every one of them.
pub(crate) fn move_to<R: Seek>(
    src: &mut R,
    pos: u64,
) -> Result<(), EmbedError> {
    let here = src.stream_position()?;
    if pos != here {
        match i64::try_from(pos).ok().zip(i64::try_from(here).ok()) {
            Some((to, from)) => src.seek_relative(to - from)?,
            None => {
                src.seek(SeekFrom::Start(pos))?;
            }
        }
    }
    Ok(())
}

/// Returns `len` bytes read from offset `pos`.
pub(crate) fn read_vec<R: Read + Seek>(
    src: &mut R,
    pos: u64,
    len: u64,
    what: &str,
) -> Result<Vec<u8>, EmbedError> {
    let size = usize::try_from(len)
        .map_err(|_| EmbedError::Unsupported(format!("{what} too large")))?;
    let mut buf = vec![0; size];
    read_at(src, pos, &mut buf, what)?;
    Ok(buf)
}

/// Copies `len` bytes from offset `pos` of `src` to `out`.
pub(crate) fn copy_range<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    pos: u64,
    len: u64,
) -> Result<(), EmbedError> {
    move_to(src, pos)?;
    let copied = io::copy(&mut src.by_ref().take(len), out)?;
    if copied != len {
        return Err(EmbedError::Malformed(format!(
            "file ends {} bytes early",
            len - copied
        )));
    }
    Ok(())
}

/// Maps an end-of-file while reading `what` to a structural error.
fn truncated(err: io::Error, what: &str) -> EmbedError {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        EmbedError::Malformed(format!("truncated {what}"))
    } else {
        EmbedError::Io(err)
    }
}

/// Returns `err` as the text `validate` functions report.
pub(crate) fn describe(err: EmbedError) -> String {
    match err {
        EmbedError::Malformed(why) | EmbedError::Unsupported(why) => why,
        EmbedError::Io(err) => format!("read failed: {err}"),
    }
}
