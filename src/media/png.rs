//! Writes memoria's metadata into a PNG's `eXIf` chunk (metadata.md §6
//! "PNG"), copying every other chunk unchanged.
//!
//! The file is processed chunk by chunk; chunk bodies are streamed, so
//! only the EXIF data is held in memory. CRCs are computed here
//! (ISO/IEC 15948 §5.5, the CRC-32 of ISO 3309).

use std::io::{Read, Seek, Write};

use crate::media::model::{Applied, EmbedError, Metadata};
use crate::media::{exif, stream};

/// The 8-byte PNG signature.
const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// Largest chunk length PNG allows (2^31 - 1).
const MAX_CHUNK: u32 = 0x7FFF_FFFF;

/// A chunk: its type and where it lies.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    /// Four-letter type.
    typ: [u8; 4],
    /// Offset of its length field.
    start: u64,
    /// Length of its data.
    len: u32,
}

impl Chunk {
    /// Returns the offset just past its CRC.
    fn end(&self) -> u64 {
        self.start + 12 + u64::from(self.len)
    }
}

/// The chunks up to and including IEND, and the length of the file.
struct Layout {
    chunks: Vec<Chunk>,
    len: u64,
}

/// Writes `src` with `meta` merged into its EXIF to `out` and returns what
/// was applied. The `eXIf` chunk goes after IHDR and before the first
/// IDAT, replacing any existing one wherever it was; when nothing needs
/// writing the output equals the input.
///
/// Errors: [`EmbedError::Malformed`] for a broken chunk structure or EXIF
/// block.
pub(crate) fn embed<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    meta: &Metadata,
) -> Result<Applied, EmbedError> {
    let layout = Layout::scan(src)?;
    let old = layout.chunks.iter().position(|c| &c.typ == b"eXIf");
    let existing = match old.and_then(|i| layout.chunks.get(i)) {
        Some(c) => Some(stream::read_vec(
            src,
            c.start + 8,
            c.len.into(),
            "exif chunk",
        )?),
        None => None,
    };
    let merged = exif::merge(existing.as_deref(), meta)?;
    let Some(tiff) = merged.tiff else {
        stream::copy_range(src, out, 0, layout.len)?;
        return Ok(merged.applied);
    };
    let chunk = encode_chunk(b"eXIf", &tiff)?;
    let idat = layout.chunks.iter().position(|c| &c.typ == b"IDAT");
    // An eXIf before IDAT is replaced in place; otherwise the new one goes
    // right after IHDR, before any IDAT (§6; readers may ignore it later).
    let slot = old.filter(|&i| idat.is_some_and(|d| i < d)).unwrap_or(0);
    out.write_all(SIGNATURE)?;
    for (i, c) in layout.chunks.iter().enumerate() {
        if &c.typ != b"eXIf" {
            stream::copy_range(src, out, c.start, c.end() - c.start)?;
        }
        if i == slot {
            out.write_all(&chunk)?;
        }
    }
    let tail = layout.chunks.last().map_or(8, Chunk::end);
    stream::copy_range(src, out, tail, layout.len - tail)?;
    Ok(merged.applied)
}

/// Checks a written PNG: signature, every chunk's CRC, IHDR first, an
/// IDAT, IEND last, and a readable EXIF block if there is one (§9).
pub(crate) fn validate<R: Read + Seek>(src: &mut R) -> Result<(), String> {
    check(src).map_err(stream::describe)
}

/// Runs the checks of [`validate`].
fn check<R: Read + Seek>(src: &mut R) -> Result<(), EmbedError> {
    let layout = Layout::scan(src)?;
    for c in &layout.chunks {
        if chunk_crc(src, c)? != stored_crc(src, c)? {
            let name = String::from_utf8_lossy(&c.typ);
            return Err(EmbedError::malformed(format!(
                "bad crc in {name} chunk"
            )));
        }
    }
    if !layout.chunks.iter().any(|c| &c.typ == b"IDAT") {
        return Err(EmbedError::malformed("no png idat chunk"));
    }
    if let Some(c) = layout.chunks.iter().find(|c| &c.typ == b"eXIf") {
        let tiff =
            stream::read_vec(src, c.start + 8, c.len.into(), "exif chunk")?;
        exif::check(&tiff).map_err(EmbedError::Malformed)?;
    }
    Ok(())
}

impl Layout {
    /// Reads the signature and the chunk headers up to IEND.
    fn scan<R: Read + Seek>(src: &mut R) -> Result<Layout, EmbedError> {
        let len = stream::len(src)?;
        let mut sig = [0; 8];
        stream::read_at(src, 0, &mut sig, "png signature")?;
        if &sig != SIGNATURE {
            return Err(EmbedError::malformed("no png signature"));
        }
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut pos = 8;
        while chunks.last().is_none_or(|c| &c.typ != b"IEND") {
            if pos >= len {
                return Err(EmbedError::malformed("no png iend chunk"));
            }
            let chunk = read_header(src, pos, len)?;
            if chunks.is_empty() && &chunk.typ != b"IHDR" {
                return Err(EmbedError::malformed(
                    "png does not start with ihdr",
                ));
            }
            pos = chunk.end();
            chunks.push(chunk);
        }
        Ok(Layout { chunks, len })
    }
}

/// Reads the chunk header at `pos` and checks the chunk fits the file.
fn read_header<R: Read + Seek>(
    src: &mut R,
    pos: u64,
    len: u64,
) -> Result<Chunk, EmbedError> {
    let mut head = [0; 8];
    stream::read_at(src, pos, &mut head, "png chunk header")?;
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let chunk = Chunk {
        typ: [head[4], head[5], head[6], head[7]],
        start: pos,
        len: size,
    };
    if size > MAX_CHUNK || chunk.end() > len {
        return Err(EmbedError::malformed(format!(
            "bogus chunk length at offset {pos}"
        )));
    }
    Ok(chunk)
}

/// Returns a complete chunk: length, type, data and CRC.
fn encode_chunk(typ: &[u8; 4], data: &[u8]) -> Result<Vec<u8>, EmbedError> {
    let len =
        u32::try_from(data.len()).ok().filter(|&l| l <= MAX_CHUNK).ok_or_else(
            || EmbedError::Unsupported("exif block too large".to_string()),
        )?;
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(typ);
    out.extend_from_slice(data);
    let crc = Crc::new().update(typ).update(data).finish();
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(out)
}

/// Computes the CRC of chunk `c` (type and data) by streaming its data.
fn chunk_crc<R: Read + Seek>(
    src: &mut R,
    c: &Chunk,
) -> Result<u32, EmbedError> {
    stream::move_to(src, c.start + 8)?;
    let mut crc = Crc::new().update(&c.typ);
    let mut left = u64::from(c.len);
    let mut buf = vec![0; 64 * 1024];
    while left > 0 {
        let want =
            usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let part = buf.get_mut(..want).unwrap_or_default();
        src.read_exact(part).map_err(EmbedError::Io)?;
        crc = crc.update(part);
        left -= want as u64;
    }
    Ok(crc.finish())
}

/// Returns the CRC stored after chunk `c`.
fn stored_crc<R: Read + Seek>(
    src: &mut R,
    c: &Chunk,
) -> Result<u32, EmbedError> {
    let mut crc = [0; 4];
    stream::read_at(src, c.end() - 4, &mut crc, "png chunk crc")?;
    Ok(u32::from_be_bytes(crc))
}

/// The CRC-32 lookup table (ISO/IEC 15948 Annex D), built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// A running CRC-32.
#[derive(Clone, Copy)]
struct Crc(u32);

impl Crc {
    /// Starts a CRC.
    fn new() -> Crc {
        Crc(0xFFFF_FFFF)
    }

    /// Feeds `data`.
    fn update(self, data: &[u8]) -> Crc {
        let c = data.iter().fold(self.0, |c, &b| {
            CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
        });
        Crc(c)
    }

    /// Returns the final value.
    fn finish(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::media::exif::roundtrip::assert_roundtrip;
    use crate::media::exif::testutil::{self, empty_meta, full_meta, XorShift};
    use crate::media::model::DescriptionPolicy::{KeepIfPresent, Overwrite};
    use crate::media::model::FieldOutcome;

    /// Embeds `meta` into `input` in memory.
    fn run(
        input: &[u8],
        meta: &Metadata,
    ) -> Result<(Vec<u8>, Applied), EmbedError> {
        let mut out = Vec::new();
        let applied = embed(&mut Cursor::new(input), &mut out, meta)?;
        Ok((out, applied))
    }

    /// Returns the chunks as (type, data), parsed independently.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        let (mut pos, mut out) = (8, Vec::new());
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap())
                as usize;
            let typ: [u8; 4] = png[pos + 4..pos + 8].try_into().unwrap();
            out.push((typ, png[pos + 8..pos + 8 + len].to_vec()));
            pos += 12 + len;
        }
        out
    }

    /// Returns the chunk types as text.
    fn types(png: &[u8]) -> Vec<String> {
        chunks(png)
            .iter()
            .map(|c| String::from_utf8_lossy(&c.0).into_owned())
            .collect()
    }

    /// Builds a PNG from (type, data) chunks.
    fn assemble(list: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        for (typ, data) in list {
            out.extend_from_slice(&encode_chunk(typ, data).unwrap());
        }
        out
    }

    fn plain() -> Vec<u8> {
        testutil::encoded_image(image::ImageFormat::Png)
    }

    /// A PNG whose eXIf (holding only the description "old") sits at
    /// `index` of the chunk list of [`plain`].
    fn with_exif_at(index: usize) -> Vec<u8> {
        let meta = Metadata { description: Some("old".into()), ..empty_meta() };
        let tiff = exif::merge(None, &meta).unwrap().tiff.unwrap();
        let mut list = chunks(&plain());
        list.insert(index, (*b"eXIf", tiff));
        assemble(&list)
    }

    fn description(png: &[u8]) -> Option<String> {
        testutil::description(&testutil::kamadak(png))
    }

    #[test]
    fn new_exif_goes_after_ihdr() {
        let input = plain();
        let (out, applied) = run(&input, &full_meta(Overwrite)).unwrap();
        assert_eq!(applied.dates, FieldOutcome::Written);
        assert_eq!(types(&out), ["IHDR", "eXIf", "IDAT", "IEND"]);
        testutil::assert_full_meta(&out);
        assert_roundtrip(&input, &out, "png");
        validate(&mut Cursor::new(&out)).unwrap();
        let pixels = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8();
        assert_eq!(pixels(&out), pixels(&input));
    }

    #[test]
    fn exif_after_idat_is_moved_before_it() {
        let input = with_exif_at(2);
        assert_eq!(types(&input), ["IHDR", "IDAT", "eXIf", "IEND"]);
        let (out, applied) = run(&input, &full_meta(KeepIfPresent)).unwrap();
        assert_eq!(types(&out), ["IHDR", "eXIf", "IDAT", "IEND"]);
        assert_eq!(applied.description, FieldOutcome::Kept);
        assert_eq!(description(&out).as_deref(), Some("old"));
        assert_eq!(
            testutil::field(
                &testutil::kamadak(&out),
                ::exif::Tag::GPSLatitudeRef,
                0
            )
            .as_deref(),
            Some("N")
        );
        validate(&mut Cursor::new(&out)).unwrap();
        let (out, _) = run(&input, &full_meta(Overwrite)).unwrap();
        assert_eq!(types(&out), ["IHDR", "eXIf", "IDAT", "IEND"]);
        assert_roundtrip(&input, &out, "png");
    }

    #[test]
    fn exif_before_idat_is_replaced_in_place() {
        let mut list = chunks(&with_exif_at(1));
        list.insert(1, (*b"tEXt", b"Comment\0hello".to_vec()));
        let input = assemble(&list);
        let (out, _) = run(&input, &full_meta(Overwrite)).unwrap();
        assert_eq!(types(&out), ["IHDR", "tEXt", "eXIf", "IDAT", "IEND"]);
        assert_eq!(chunks(&out)[1], list[1]);
        assert_eq!(description(&out).as_deref(), Some(testutil::TEXT));
        assert_roundtrip(&input, &out, "png");
    }

    #[test]
    fn nothing_to_do_gives_identical_bytes() {
        let input = with_exif_at(2);
        let (out, applied) = run(&input, &empty_meta()).unwrap();
        assert_eq!((out, applied.is_unchanged()), (input.clone(), true));
        let (first, _) = run(&input, &full_meta(Overwrite)).unwrap();
        let (again, _) = run(&input, &full_meta(Overwrite)).unwrap();
        assert_eq!(first, again, "deterministic");
        let (second, applied) = run(&first, &full_meta(Overwrite)).unwrap();
        assert_eq!(second, first, "idempotent");
        assert_eq!(applied.gps, FieldOutcome::Kept);
    }

    #[test]
    fn trailing_bytes_after_iend_are_kept() {
        let mut input = plain();
        input.extend_from_slice(b"trailer");
        let (out, _) = run(&input, &full_meta(Overwrite)).unwrap();
        assert!(out.ends_with(b"trailer"));
        validate(&mut Cursor::new(&out)).unwrap();
    }

    #[test]
    fn malformed_files_are_errors() {
        let good = plain();
        let list = chunks(&good);
        let mut past_end = good.clone();
        past_end[8..12].copy_from_slice(&[0, 1, 0, 0]);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("bad signature", b"\xff\xd8\xff\xe0 not a png".to_vec()),
            (
                "ihdr not first",
                assemble(&[list[1].clone(), list[0].clone(), list[2].clone()]),
            ),
            ("chunk past end", past_end),
            ("no iend", good[..good.len() - 12].to_vec()),
            ("truncated", good[..20].to_vec()),
            (
                "garbage exif",
                assemble(&[
                    list[0].clone(),
                    (*b"eXIf", b"XX*\0junk".to_vec()),
                    list[1].clone(),
                    list[2].clone(),
                ]),
            ),
        ];
        for (name, bytes) in cases {
            let result = run(&bytes, &full_meta(Overwrite));
            assert!(matches!(result, Err(EmbedError::Malformed(_))), "{name}");
            assert!(validate(&mut Cursor::new(&bytes)).is_err(), "{name}");
        }
        let mut bad_crc = good.clone();
        let n = bad_crc.len();
        bad_crc[n - 13] ^= 1;
        let err = validate(&mut Cursor::new(&bad_crc)).unwrap_err();
        assert_eq!(err, "bad crc in IDAT chunk");
        let no_idat = assemble(&[list[0].clone(), list[2].clone()]);
        assert_eq!(
            validate(&mut Cursor::new(&no_idat)).unwrap_err(),
            "no png idat chunk"
        );
    }

    #[test]
    fn crc_matches_known_value() {
        // CRC of "IEND" with no data, as every PNG ends with it.
        assert_eq!(Crc::new().update(b"IEND").finish(), 0xAE42_6082);
    }

    #[test]
    fn mutated_files_never_panic() {
        let seeds =
            [with_exif_at(2), run(&plain(), &full_meta(Overwrite)).unwrap().0];
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        for i in 0..3000 {
            let bytes = rng.mutate(&seeds[i % 2]);
            if let Ok((out, _)) = run(&bytes, &full_meta(Overwrite)) {
                let _ = validate(&mut Cursor::new(&out));
            }
            let _ = validate(&mut Cursor::new(&bytes));
        }
    }
}
