//! Content sniffing: the real format of a media file from its first bytes,
//! and the extension it should carry (metadata.md §8).
//!
//! Pure functions over a byte prefix (callers read up to 4 KiB); the engine
//! uses [`corrected_ext`] before naming. Nothing here reads files.

use crate::media::kind::class_of_ext;

/// Raw formats built on TIFF whose own extension is more precise than
/// `.tiff` (metadata.md §8).
const RAW: &[&str] =
    &["dng", "cr2", "nef", "arw", "cr3", "raf", "orf", "rw2", "pef", "srw"];

/// `ftyp` brands of HEVC-coded HEIF images.
const HEIC_BRANDS: &[&[u8; 4]] =
    &[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"];

/// `ftyp` brands of AV1-coded HEIF images.
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];

/// Returns the extension (lower case, no dot) the content of `head`
/// denotes, or `None` when it matches no row of metadata.md §8.
///
/// `head` is the start of the file; 64 bytes recognise every format,
/// more lets the WebM/Matroska `DocType` and an ID3 tag's successor be
/// found.
pub(crate) fn detect(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("jpg");
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("png");
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some("gif");
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Some("tiff");
    }
    if head.starts_with(b"RIFF") {
        return riff(head);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return ftyp(head);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(ebml(head));
    }
    if head.starts_with(b"BM") {
        return is_bmp(head).then_some("bmp");
    }
    if head.starts_with(b"ID3") {
        return id3(head);
    }
    is_mpeg_audio(head).then_some("mp3")
}

/// Returns the extension a file should carry: the detected one when it
/// is in the same class as `original_ext` (or that one is missing or
/// unknown), else `original_ext` lower-cased (metadata.md §8).
///
/// Raw extensions survive TIFF content: a `.dng` stays `.dng`.
pub(crate) fn corrected_ext(original_ext: &str, head: &[u8]) -> String {
    let original = original_ext.trim_start_matches('.').to_ascii_lowercase();
    let Some(detected) = detect(head) else { return original };
    if detected == "tiff" && RAW.contains(&original.as_str()) {
        return original;
    }
    match class_of_ext(&original) {
        None => detected.to_string(),
        Some(class) if class_of_ext(detected) == Some(class) => {
            detected.to_string()
        }
        Some(_) => original,
    }
}

/// Classifies a RIFF container by its form type at bytes 8..12.
fn riff(head: &[u8]) -> Option<&'static str> {
    match head.get(8..12)? {
        b"WEBP" => Some("webp"),
        b"AVI " => Some("avi"),
        b"WAVE" => Some("wav"),
        _ => None,
    }
}

/// Classifies an ISO base media file by its `ftyp` brands.
fn ftyp(head: &[u8]) -> Option<&'static str> {
    let major: &[u8; 4] = head.get(8..12)?.try_into().ok()?;
    if HEIC_BRANDS.contains(&major) {
        return Some("heic");
    }
    if AVIF_BRANDS.contains(&major) {
        return Some("avif");
    }
    if major == b"mif1" || major == b"msf1" {
        return Some(heif_by_compatible(head));
    }
    Some(match major {
        b"qt  " => "mov",
        b"M4V " | b"M4VH" | b"M4VP" => "m4v",
        [b'3', b'g', b'p' | b'2', _] => "3gp",
        b"M4A " => "m4a",
        _ => "mp4",
    })
}

/// Returns `heic` or `avif` when a compatible brand says so, else `heif`
/// (a generic `mif1`/`msf1` file without a more specific brand).
fn heif_by_compatible(head: &[u8]) -> &'static str {
    let brands = compatible_brands(head);
    if brands.iter().any(|b| HEIC_BRANDS.contains(b)) {
        "heic"
    } else if brands.iter().any(|b| AVIF_BRANDS.contains(b)) {
        "avif"
    } else {
        "heif"
    }
}

/// Returns the compatible brands of the `ftyp` box at the start of
/// `head`: the 4-byte codes from offset 16 to the end of the box (or of
/// `head`, whichever comes first).
fn compatible_brands(head: &[u8]) -> Vec<&[u8; 4]> {
    let size = read_u32_be(head, 0).map_or(0, |s| s as usize);
    // Size 0 means "to the end of the file", 1 a 64-bit size; ftyp boxes
    // are tiny, so both are read up to what `head` holds.
    let end = if size < 16 { head.len() } else { size.min(head.len()) };
    head.get(16..end)
        .unwrap_or_default()
        .chunks_exact(4)
        .filter_map(|c| c.try_into().ok())
        .collect()
}

/// Returns `webm` when the EBML header's `DocType` (element 0x4282) is
/// `webm`, else `mkv` (Matroska is the default DocType).
fn ebml(head: &[u8]) -> &'static str {
    match doc_type(head) {
        Some(b"webm") => "webm",
        _ => "mkv",
    }
}

/// Finds the `DocType` element in the EBML header and returns its string.
fn doc_type(head: &[u8]) -> Option<&[u8]> {
    // Only the header's own body is searched, up to what `head` holds.
    let (size, width) = vint(head.get(4..)?)?;
    let body = head.get(4 + width..)?;
    let body = body.get(..size.min(body.len()))?;
    let at = body.windows(2).position(|w| w == [0x42, 0x82])? + 2;
    let (len, width) = vint(body.get(at..)?)?;
    let start = at + width;
    let text = body.get(start..start.checked_add(len)?)?;
    // A string element may be padded with zero bytes.
    let used = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    text.get(..used)
}

/// Decodes an EBML variable-size integer: (value, width in bytes).
fn vint(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.first()?;
    let width = first.leading_zeros() as usize + 1;
    if width > 8 {
        return None;
    }
    let mask = if width == 8 { 0 } else { 0xFF >> width };
    let mut value = u64::from(first & mask);
    for &b in bytes.get(1..width)? {
        value = (value << 8) | u64::from(b);
    }
    Some((usize::try_from(value).ok()?, width))
}

/// Returns true when a `BM` file has a plausible BITMAPFILEHEADER: a DIB
/// header size of a known version and a file size that holds both
/// headers.
fn is_bmp(head: &[u8]) -> bool {
    let (Some(file_size), Some(dib)) =
        (read_u32_le(head, 2), read_u32_le(head, 14))
    else {
        return false;
    };
    // BITMAPCOREHEADER, BITMAPINFOHEADER, V2/V3 (56), V4, V5.
    matches!(dib, 12 | 40 | 56 | 108 | 124) && file_size >= 14 + dib
}

/// Returns `mp3` for an ID3v2 tag unless the frame right after the tag
/// is visible and is AAC (ADTS), which also carries ID3 tags.
fn id3(head: &[u8]) -> Option<&'static str> {
    let Some(size) = id3_len(head) else { return Some("mp3") };
    match head.get(size..) {
        Some(next) if is_adts(next) => None,
        _ => Some("mp3"),
    }
}

/// Returns the total length of an ID3v2 tag: 10-byte header, syncsafe
/// body size, plus a 10-byte footer when flag bit 4 is set.
fn id3_len(head: &[u8]) -> Option<usize> {
    let bytes = head.get(6..10)?;
    if bytes.iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let body = bytes.iter().fold(0usize, |acc, &b| (acc << 7) | b as usize);
    let footer = if head.get(5)? & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// Returns true for an MPEG audio frame header: 11-bit sync, a defined
/// version and layer, and a usable bitrate and sample rate index.
fn is_mpeg_audio(head: &[u8]) -> bool {
    let [a, b, c, ..] = *head else { return false };
    let version = (b >> 3) & 0b11;
    let layer = (b >> 1) & 0b11;
    let bitrate = c >> 4;
    let rate = (c >> 2) & 0b11;
    a == 0xFF
        && b & 0xE0 == 0xE0
        && version != 0b01
        && layer != 0b00
        && bitrate != 0b1111
        && rate != 0b11
}

/// Returns true for an AAC ADTS header: 12-bit sync and layer 00.
fn is_adts(head: &[u8]) -> bool {
    matches!(head, [0xFF, b, ..] if b & 0xF6 == 0xF0)
}

fn read_u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(raw))
}

fn read_u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns `prefix` padded with zeros to 64 bytes, the size callers
    /// read at least.
    fn pad(prefix: &[u8]) -> Vec<u8> {
        let mut bytes = prefix.to_vec();
        bytes.resize(bytes.len().max(64), 0);
        bytes
    }

    /// An `ftyp` box with a major brand and compatible brands.
    fn ftyp_box(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut bytes = size.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 2, 0]);
        compatible.iter().for_each(|b| bytes.extend_from_slice(*b));
        // The next box, whose bytes must not be taken for brands.
        bytes.extend_from_slice(b"\0\0\0\x10heicheicheic");
        pad(&bytes)
    }

    /// A RIFF header with form type `form`.
    fn riff_of(form: &[u8; 4]) -> Vec<u8> {
        pad(&[b"RIFF\x24\x08\0\0".as_slice(), form, b"LIST"].concat())
    }

    /// A BMP file header with file size `size` and DIB header size `dib`.
    fn bmp(size: u32, dib: u32) -> Vec<u8> {
        let mut bytes = b"BM".to_vec();
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 54, 0, 0, 0]);
        bytes.extend_from_slice(&dib.to_le_bytes());
        pad(&bytes)
    }

    /// An EBML header whose DocType element holds `doc_type` (none when
    /// empty).
    fn ebml_header(doc_type: &[u8]) -> Vec<u8> {
        let mut body = vec![0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01];
        body.extend_from_slice(&[0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 8]);
        if !doc_type.is_empty() {
            body.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]);
            body.extend_from_slice(doc_type);
        }
        body.extend_from_slice(&[0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 2]);
        let mut bytes = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | body.len() as u8];
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&[0x18, 0x53, 0x80, 0x67]);
        pad(&bytes)
    }

    /// An ID3v2.4 tag with a `body`-byte body, followed by `next`.
    fn id3_tag(body: usize, next: &[u8]) -> Vec<u8> {
        let mut bytes = b"ID3\x04\x00\x00\x00\x00".to_vec();
        bytes.extend_from_slice(&[(body >> 7) as u8 & 0x7F, body as u8 & 0x7F]);
        bytes.resize(10 + body, 0);
        bytes.extend_from_slice(next);
        pad(&bytes)
    }

    #[test]
    fn detects_every_row_of_the_table() {
        let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
            ("jpeg jfif", pad(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some("jpg")),
            ("jpeg exif", pad(b"\xFF\xD8\xFF\xE1\x12\x34Exif"), Some("jpg")),
            ("png", pad(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("png")),
            ("gif87a", pad(b"GIF87a"), Some("gif")),
            ("gif89a", pad(b"GIF89a"), Some("gif")),
            ("webp", riff_of(b"WEBP"), Some("webp")),
            ("avi", riff_of(b"AVI "), Some("avi")),
            ("wav", riff_of(b"WAVE"), Some("wav")),
            ("other riff", riff_of(b"RMID"), None),
            ("bmp core", bmp(1000, 12), Some("bmp")),
            ("bmp info", bmp(1000, 40), Some("bmp")),
            ("bmp v3", bmp(1000, 56), Some("bmp")),
            ("bmp v4", bmp(1000, 108), Some("bmp")),
            ("bmp v5", bmp(1000, 124), Some("bmp")),
            ("bmp odd dib", bmp(1000, 41), None),
            ("bmp tiny size", bmp(20, 40), None),
            ("text with BM", pad(b"BMW drivers meet on Sunday"), None),
            ("tiff le", pad(b"II*\0\x08\0\0\0"), Some("tiff")),
            ("tiff be", pad(b"MM\0*\0\0\0\x08"), Some("tiff")),
            ("mkv", ebml_header(b"matroska"), Some("mkv")),
            ("webm", ebml_header(b"webm"), Some("webm")),
            ("ebml no doctype", ebml_header(b""), Some("mkv")),
            ("id3", id3_tag(20, b"\xFF\xFB\x90\x64"), Some("mp3")),
            ("id3 beyond head", id3_tag(5000, b""), Some("mp3")),
            ("id3 then adts", id3_tag(20, b"\xFF\xF1\x50\x80"), None),
            ("mpeg1 layer3", pad(b"\xFF\xFB\x90\x64"), Some("mp3")),
            ("mpeg1 layer2", pad(b"\xFF\xFD\x90\x64"), Some("mp3")),
            ("mpeg2 layer3", pad(b"\xFF\xF3\x90\x64"), Some("mp3")),
            ("mpeg2.5 layer3", pad(b"\xFF\xE3\x90\x64"), Some("mp3")),
            ("adts aac", pad(b"\xFF\xF1\x50\x80"), None),
            ("reserved version", pad(b"\xFF\xEB\x90\x64"), None),
            ("bad bitrate", pad(b"\xFF\xFB\xF0\x64"), None),
            ("bad sample rate", pad(b"\xFF\xFB\x9C\x64"), None),
            ("text", pad(b"hello world"), None),
            ("empty", Vec::new(), None),
            ("short jpeg", b"\xFF\xD8".to_vec(), None),
            ("short riff", b"RIFF\0\0".to_vec(), None),
        ];
        for (name, head, want) in cases {
            assert_eq!(detect(&head), want, "{name}");
        }
    }

    #[test]
    fn detects_ftyp_brands() {
        type Brand = [u8; 4];
        let cases: &[(&Brand, &[&Brand], &str)] = &[
            (b"heic", &[b"mif1", b"heic"], "heic"),
            (b"heix", &[b"mif1"], "heic"),
            (b"hevc", &[b"msf1"], "heic"),
            (b"hevx", &[], "heic"),
            (b"heim", &[], "heic"),
            (b"heis", &[], "heic"),
            (b"mif1", &[b"mif1"], "heif"),
            (b"msf1", &[b"iso8"], "heif"),
            (b"mif1", &[b"mif1", b"heic"], "heic"),
            (b"msf1", &[b"msf1", b"hevc"], "heic"),
            (b"mif1", &[b"mif1", b"avif", b"miaf"], "avif"),
            (b"avif", &[b"mif1"], "avif"),
            (b"avis", &[b"msf1"], "avif"),
            (b"qt  ", &[b"qt  "], "mov"),
            (b"M4V ", &[b"M4V "], "m4v"),
            (b"M4VH", &[], "m4v"),
            (b"M4VP", &[], "m4v"),
            (b"3gp4", &[b"isom"], "3gp"),
            (b"3gp5", &[], "3gp"),
            (b"3g2a", &[], "3gp"),
            (b"M4A ", &[b"isom"], "m4a"),
            (b"isom", &[b"iso2", b"avc1", b"mp41"], "mp4"),
            (b"mp41", &[], "mp4"),
            (b"mp42", &[b"heic"], "mp4"),
            (b"avc1", &[], "mp4"),
            (b"iso2", &[], "mp4"),
        ];
        for (major, compatible, want) in cases {
            let head = ftyp_box(major, compatible);
            let name = String::from_utf8_lossy(*major);
            assert_eq!(detect(&head), Some(*want), "major {name}");
        }
        assert_eq!(detect(b"\0\0\0\x14ftyp"), None, "truncated ftyp");
    }

    #[test]
    fn corrects_extensions() {
        let jpeg = pad(b"\xFF\xD8\xFF\xE0");
        let png = pad(b"\x89PNG\r\n\x1a\n");
        let tiff = pad(b"II*\0\x08\0\0\0");
        let mp4 = ftyp_box(b"isom", &[b"mp41"]);
        let mov = ftyp_box(b"qt  ", &[]);
        let heif = ftyp_box(b"mif1", &[]);
        let mp3 = id3_tag(20, b"\xFF\xFB\x90\x64");
        let aac = id3_tag(20, b"\xFF\xF1\x50\x80");
        let text = pad(b"not media");
        let cases: &[(&str, &[u8], &str)] = &[
            // The consequences listed in metadata.md §8.
            ("jpeg", &jpeg, "jpg"),
            ("tif", &tiff, "tiff"),
            ("png", &jpeg, "jpg"),
            ("heic", &jpeg, "jpg"),
            ("mov", &mp4, "mp4"),
            // Same class or no usable original: the content wins.
            ("JPG", &jpeg, "jpg"),
            ("jpg", &png, "png"),
            (".PNG", &png, "png"),
            ("mp4", &mov, "mov"),
            ("heic", &heif, "heif"),
            ("aac", &mp3, "mp3"),
            ("", &jpeg, "jpg"),
            ("bin", &png, "png"),
            ("", &mp4, "mp4"),
            // Raw formats keep their extension over TIFF content.
            ("dng", &tiff, "dng"),
            ("CR2", &tiff, "cr2"),
            ("nef", &tiff, "nef"),
            ("arw", &tiff, "arw"),
            ("orf", &tiff, "orf"),
            ("rw2", &tiff, "rw2"),
            ("pef", &tiff, "pef"),
            ("srw", &tiff, "srw"),
            ("raf", &tiff, "raf"),
            // A different class or unknown content keeps the original.
            ("mp4", &jpeg, "mp4"),
            ("m4a", &mp4, "m4a"),
            ("JPG", &text, "jpg"),
            ("Dat", &text, "dat"),
            ("aac", &aac, "aac"),
            ("", &text, ""),
        ];
        for (ext, head, want) in cases {
            assert_eq!(corrected_ext(ext, head), *want, "original {ext:?}");
        }
    }

    #[test]
    fn reads_vints_safely() {
        assert_eq!(vint(&[0x84]), Some((4, 1)));
        assert_eq!(vint(&[0x40, 0x02]), Some((2, 2)));
        assert_eq!(vint(&[0x01, 0, 0, 0, 0, 0, 0, 0x05]), Some((5, 8)));
        assert_eq!(vint(&[0x40]), None, "truncated");
        assert_eq!(vint(&[0x00]), None, "invalid width");
        assert_eq!(vint(&[]), None);
        // A DocType whose size runs past the head is ignored.
        let mut head = vec![0x1A, 0x45, 0xDF, 0xA3, 0x8A, 0x42, 0x82, 0x88];
        head.extend_from_slice(b"webm");
        assert_eq!(detect(&head), Some("mkv"));
        // A DocType outside the EBML header does not count.
        let mut head = vec![0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x86, 0x81];
        head.extend_from_slice(&[0x01, 0x42, 0x82, 0x84]);
        head.extend_from_slice(b"webm");
        assert_eq!(detect(&head), Some("mkv"));
    }
}
