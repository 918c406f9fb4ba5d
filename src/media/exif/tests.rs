//! Tests of the EXIF merger on hand-built TIFF blocks: fill-if-empty,
//! description policies, preservation of unknown data, malformed input.

use ::exif::{In, Tag};

use super::testutil::{self, empty_meta, full_meta, stamp, XorShift, TEXT};
use super::*;
use crate::media::model::DescriptionPolicy::{KeepIfPresent, Overwrite};
use crate::media::model::FieldOutcome::{Kept, Partial, Written};

/// An entry for [`block`]: tag, type, count, value bytes (block order).
struct T(u16, u16, u32, Vec<u8>);

/// Returns an ASCII entry.
fn ascii(tag: u16, text: &str) -> T {
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    T(tag, 2, data.len() as u32, data)
}

/// Returns a RATIONAL×3 entry (big-endian).
fn dms(tag: u16, values: [(u32, u32); 3]) -> T {
    let data =
        values.iter().flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()]);
    T(tag, 5, 3, data.flatten().collect())
}

/// Appends an IFD at the (even) end of `out`, values after it; returns
/// its offset. Independent of the writer under test.
fn put_ifd(out: &mut Vec<u8>, entries: &[T], next: u32) -> u32 {
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let at = out.len();
    let mut values_at = at + 2 + 12 * entries.len() + 4;
    let mut values = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for T(tag, typ, count, data) in entries {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&typ.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        if data.len() <= 4 {
            let mut field = data.clone();
            field.resize(4, 0);
            out.extend_from_slice(&field);
        } else {
            out.extend_from_slice(&(values_at as u32).to_be_bytes());
            values.extend_from_slice(data);
            values.resize(values.len() + data.len() % 2, 0);
            values_at += data.len() + data.len() % 2;
        }
    }
    out.extend_from_slice(&next.to_be_bytes());
    out.extend_from_slice(&values);
    at as u32
}

/// Builds a big-endian block: sub-IFDs first, IFD0 last; the Exif and
/// GPS pointers are added when those lists are non-empty, and IFD1 is
/// linked from IFD0 when `ifd1` is non-empty.
fn block(mut ifd0: Vec<T>, exif: &[T], gps: &[T], ifd1: &[T]) -> Vec<u8> {
    let mut out = b"MM\0*\0\0\0\0".to_vec();
    let mut sub = |out: &mut Vec<u8>, tag, list: &[T]| {
        if !list.is_empty() {
            let at = put_ifd(out, list, 0);
            ifd0.push(T(tag, 4, 1, at.to_be_bytes().to_vec()));
        }
    };
    sub(&mut out, EXIF_POINTER, exif);
    sub(&mut out, GPS_POINTER, gps);
    let next = if ifd1.is_empty() { 0 } else { put_ifd(&mut out, ifd1, 0) };
    ifd0.sort_by_key(|t| t.0);
    let at = put_ifd(&mut out, &ifd0, next);
    out[4..8].copy_from_slice(&at.to_be_bytes());
    out
}

/// Merges and returns the new block, which must exist.
fn merged(existing: &[u8], meta: &Metadata) -> (Vec<u8>, Applied) {
    let m = merge(Some(existing), meta).expect("merge succeeds");
    (m.tiff.expect("a change"), m.applied)
}

/// Reads a raw TIFF block with kamadak-exif.
fn read(tiff: &[u8]) -> ::exif::Exif {
    ::exif::Reader::new()
        .read_raw(tiff.to_vec())
        .expect("kamadak reads the block")
}

/// Returns the display value of `tag` in IFD0/sub-IFDs.
fn text(exif: &::exif::Exif, tag: Tag) -> Option<String> {
    testutil::field(exif, tag, 0)
}

#[test]
fn new_block_holds_every_tag() {
    let m = merge(None, &full_meta(KeepIfPresent)).unwrap();
    let applied = Applied {
        dates: Written,
        gps: Written,
        description: Written,
        exif_rebuilt: false,
    };
    assert_eq!(m.applied, applied);
    let tiff = m.tiff.unwrap();
    assert_eq!(&tiff[..4], b"II*\0");
    let exif = read(&tiff);
    assert_eq!(text(&exif, Tag::ExifVersion).as_deref(), Some("2.32"));
    let components = exif.get_field(Tag::ComponentsConfiguration, In::PRIMARY);
    let bytes = match components.map(|f| &f.value) {
        Some(::exif::Value::Undefined(bytes, _)) => bytes.clone(),
        other => panic!("ComponentsConfiguration: {other:?}"),
    };
    assert_eq!(bytes, [1, 2, 3, 0]);
    assert_eq!(
        text(&exif, Tag::DateTimeOriginal).as_deref(),
        Some("2021-01-04 18:08:30")
    );
    assert_eq!(testutil::description(&exif).as_deref(), Some(TEXT));
    check(&tiff).unwrap();
}

#[test]
fn entries_have_spec_types_and_counts() {
    let tiff = merge(None, &full_meta(Overwrite)).unwrap().tiff.unwrap();
    let exif = read(&tiff);
    let shape = |tag| {
        let f = exif.get_field(tag, In::PRIMARY).unwrap();
        let count = match &f.value {
            ::exif::Value::Ascii(v) => v.iter().map(|s| s.len() + 1).sum(),
            ::exif::Value::Byte(v) | ::exif::Value::Undefined(v, _) => v.len(),
            ::exif::Value::Rational(v) => v.len(),
            other => panic!("unexpected {other:?}"),
        };
        (format!("{:?}", f.value).split('(').next().unwrap().to_string(), count)
    };
    let ascii = |n| ("Ascii".to_string(), n);
    assert_eq!(shape(Tag::DateTime), ascii(20));
    assert_eq!(shape(Tag::DateTimeOriginal), ascii(20));
    assert_eq!(shape(Tag::OffsetTimeDigitized), ascii(7));
    assert_eq!(shape(Tag::GPSLatitudeRef), ascii(2));
    assert_eq!(shape(Tag::GPSVersionID), ("Byte".to_string(), 4));
    assert_eq!(shape(Tag::GPSLatitude), ("Rational".to_string(), 3));
    assert_eq!(shape(Tag::GPSAltitudeRef), ("Byte".to_string(), 1));
    assert_eq!(shape(Tag::GPSAltitude), ("Rational".to_string(), 1));
    assert_eq!(shape(Tag::ExifVersion), ("Undefined".to_string(), 4));
    assert_eq!(shape(Tag::ImageDescription), ascii(TEXT.len() + 1));
}

#[test]
fn fill_if_empty_keeps_camera_dates_and_fills_the_rest() {
    let exif = [
        ascii(0x9003, "2019:05:05 10:00:00"),
        T(0x9000, 7, 4, b"0220".to_vec()),
    ];
    let old =
        block(vec![ascii(0x0132, "0000:00:00 00:00:00")], &exif, &[], &[]);
    let (tiff, applied) = merged(&old, &full_meta(KeepIfPresent));
    assert_eq!(applied.dates, Partial);
    let exif = read(&tiff);
    assert_eq!(
        text(&exif, Tag::DateTimeOriginal).unwrap(),
        "2019-05-05 10:00:00"
    );
    assert_eq!(
        text(&exif, Tag::DateTimeDigitized).unwrap(),
        "2021-01-04 18:08:30"
    );
    assert_eq!(text(&exif, Tag::DateTime).unwrap(), "2021-01-04 18:08:30");
    assert_eq!(text(&exif, Tag::OffsetTimeOriginal), None);
    assert_eq!(text(&exif, Tag::OffsetTime).unwrap(), "\"-05:00\"");
    assert_eq!(text(&exif, Tag::OffsetTimeDigitized).unwrap(), "\"-05:00\"");
    assert_eq!(text(&exif, Tag::ExifVersion).unwrap(), "2.32");
}

#[test]
fn existing_offset_tag_is_kept_and_newer_version_too() {
    let exif = [
        ascii(0x9003, "2019:05:05 10:00:00"),
        ascii(0x9004, " "),
        T(0x9000, 7, 4, b"0300".to_vec()),
        ascii(0x9012, "+01:00"),
    ];
    let old =
        block(vec![ascii(0x0132, "2019:05:06 10:00:00")], &exif, &[], &[]);
    let (tiff, applied) = merged(&old, &full_meta(KeepIfPresent));
    assert_eq!(applied.dates, Partial);
    let exif = read(&tiff);
    assert_eq!(
        text(&exif, Tag::DateTimeDigitized).unwrap(),
        "2021-01-04 18:08:30"
    );
    assert_eq!(text(&exif, Tag::OffsetTimeDigitized).unwrap(), "\"+01:00\"");
    assert_eq!(text(&exif, Tag::OffsetTime), None);
    assert_eq!(text(&exif, Tag::ExifVersion).unwrap(), "3.0");
}

#[test]
fn all_present_means_no_change() {
    let exif = [
        ascii(0x9003, "2019:05:05 10:00:00"),
        ascii(0x9004, "2019:05:05 10:00:00"),
    ];
    let gps = [
        ascii(1, "S"),
        dms(2, [(0, 1), (22278, 1000), (0, 1)]),
        dms(4, [(36, 1), (3, 1), (0, 1)]),
    ];
    let ifd0 =
        vec![ascii(0x0132, "2019:05:06 10:00:00"), ascii(0x010E, "camera")];
    let old = block(ifd0, &exif, &gps, &[]);
    let m = merge(Some(&old), &full_meta(KeepIfPresent)).unwrap();
    assert_eq!(m.tiff, None);
    let applied = Applied {
        dates: Kept,
        gps: Kept,
        description: Kept,
        exif_rebuilt: false,
    };
    assert_eq!(m.applied, applied);
    let m = merge(Some(&old), &empty_meta()).unwrap();
    assert_eq!(m.tiff, None);
    assert!(m.applied.is_unchanged());
}

#[test]
fn gps_without_position_is_completed_and_extra_tags_kept() {
    let gps = [
        T(0, 1, 4, vec![2, 2, 0, 0]),
        ascii(0x0012, "WGS-84"),
        dms(2, [(0, 1); 3]),
        dms(4, [(0, 1); 3]),
    ];
    let old = block(vec![], &[], &gps, &[]);
    let (tiff, applied) = merged(&old, &full_meta(KeepIfPresent));
    assert_eq!(applied.gps, Written);
    let exif = read(&tiff);
    assert_eq!(text(&exif, Tag::GPSVersionID).unwrap(), "2.3.0.0");
    assert_eq!(text(&exif, Tag::GPSMapDatum).unwrap(), "\"WGS-84\"");
    assert_eq!(text(&exif, Tag::GPSLatitude).unwrap(), "40 deg 30 min 0 sec");
}

#[test]
fn description_policies() {
    let old = |d: &str| block(vec![ascii(0x010E, d)], &[], &[], &[]);
    let only_text =
        |policy| Metadata { date: None, gps: None, ..full_meta(policy) };
    let m = merge(Some(&old("camera")), &only_text(KeepIfPresent)).unwrap();
    assert_eq!((m.tiff, m.applied.description), (None, Kept));
    let (tiff, applied) = merged(&old("   "), &only_text(KeepIfPresent));
    assert_eq!(applied.description, Written);
    assert_eq!(testutil::description(&read(&tiff)).unwrap(), TEXT);
    let (tiff, applied) = merged(&old("camera"), &only_text(Overwrite));
    assert_eq!(applied.description, Written);
    assert_eq!(testutil::description(&read(&tiff)).unwrap(), TEXT);
    // Overwriting with the same text changes nothing, so reruns are stable.
    let m = merge(Some(&tiff), &only_text(Overwrite)).unwrap();
    assert_eq!((m.tiff, m.applied.description), (None, Written));
}

#[test]
fn preserves_unknown_data_ifd1_and_offsets() {
    // A MakerNote-like blob addressing the block by absolute offset.
    let note = T(0x927C, 7, 40, (0..40).collect());
    let odd = T(0xC000, 0x99, 3, vec![1, 2, 3, 4]);
    let ifd1 =
        [T(0x0103, 3, 1, vec![0, 6, 0, 0]), ascii(0x0131, "thumb writer 1.0")];
    let old = block(vec![ascii(0x010F, "Maker"), odd], &[note], &[], &ifd1);
    let (tiff, _) = merged(&old, &full_meta(Overwrite));
    assert_eq!(tiff[..4], old[..4]);
    assert_eq!(
        tiff[8..old.len()],
        old[8..],
        "original bytes are a verbatim prefix"
    );
    let before = testutil::all_fields(&read(&old));
    let after = testutil::all_fields(&read(&tiff));
    let pointer =
        |t: &Tag| matches!(*t, Tag::ExifIFDPointer | Tag::GPSInfoIFDPointer);
    // kamadak-exif shows an unknown type by the offset of its entry,
    // which moves with IFD0; its raw entry is compared below instead.
    let unknown = |v: &str| v.starts_with("Unknown");
    for f in before.iter().filter(|f| !pointer(&f.0) && !unknown(&f.2)) {
        assert!(after.contains(f), "{f:?} lost");
    }
    assert!(
        after.iter().any(|f| f.0 == Tag::Software && f.1 == 1),
        "ifd1 kept"
    );
    let raw = Doc::parse(&tiff).unwrap();
    let kept = raw.ifd0.find(0xC000).unwrap();
    assert_eq!((kept.typ, kept.count, kept.value), (0x99, 3, [1, 2, 3, 4]));
}

#[test]
fn little_endian_blocks_stay_little_endian() {
    let base =
        merge(None, &Metadata { gps: None, ..full_meta(Overwrite) }).unwrap();
    let base = base.tiff.unwrap();
    let (tiff, applied) = merged(&base, &full_meta(Overwrite));
    assert_eq!((applied.dates, applied.gps), (Kept, Written));
    assert_eq!(&tiff[..4], b"II*\0");
    testutil::assert_full_meta_tiff(&tiff);
}

#[test]
fn merge_is_deterministic_and_idempotent() {
    let old = block(vec![ascii(0x010F, "Maker")], &[], &[], &[]);
    let (a, _) = merged(&old, &full_meta(Overwrite));
    let (b, _) = merged(&old, &full_meta(Overwrite));
    assert_eq!(a, b);
    let again = merge(Some(&a), &full_meta(Overwrite)).unwrap();
    assert_eq!(again.tiff, None);
    assert_eq!(again.applied.dates, Kept);
}

#[test]
fn out_of_range_year_writes_no_dates() {
    let mut meta = full_meta(Overwrite);
    let local = jiff::civil::date(0, 1, 1).at(0, 0, 0, 0);
    meta.date = Some(Stamp { local, ..stamp() });
    let m = merge(None, &meta).unwrap();
    assert_eq!(m.applied.dates, FieldOutcome::None);
    assert_eq!(text(&read(&m.tiff.unwrap()), Tag::DateTimeOriginal), None);
}

#[test]
fn malformed_blocks_are_errors() {
    let good =
        block(vec![ascii(0x010F, "Maker")], &[ascii(0x9003, "x")], &[], &[]);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage header", b"XX*\0\0\0\0\x08".to_vec()),
        ("short header", b"MM\0*\0".to_vec()),
        ("ifd0 past end", b"MM\0*\0\0\xff\xff".to_vec()),
        ("ifd0 in header", b"MM\0*\0\0\0\x02\0\0\0\0".to_vec()),
        ("entries past end", b"MM\0*\0\0\0\x08\0\x09\0\0".to_vec()),
    ];
    let self_loop = {
        let mut b = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        b.extend_from_slice(&[
            0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0,
        ]);
        b
    };
    cases.push(("exif ifd loops to ifd0", self_loop));
    let next_loop = b"MM\0*\0\0\0\x08\0\0\0\0\0\x08".to_vec();
    cases.push(("ifd0 next pointer loops", next_loop));
    let mut bad_value = good.clone();
    // The date's count now reaches far past the block.
    let pos = bad_value.windows(2).position(|w| w == [0x90, 0x03]).unwrap();
    bad_value[pos + 4..pos + 8].copy_from_slice(&[0, 1, 0, 0]);
    cases.push(("date value out of range", bad_value));
    for (name, bytes) in cases {
        let result = merge(Some(&bytes), &full_meta(Overwrite));
        assert!(
            matches!(result, Err(EmbedError::Malformed(_))),
            "{name}: {result:?}"
        );
        assert!(check(&bytes).is_err(), "{name}");
    }
}

#[test]
fn mutated_blocks_never_panic() {
    let seeds = [
        block(
            vec![ascii(0x010F, "M")],
            &[ascii(0x9003, "2019:05:05 10:00:00")],
            &[dms(2, [(1, 1); 3])],
            &[ascii(1, "x")],
        ),
        merge(None, &full_meta(Overwrite)).unwrap().tiff.unwrap(),
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..4000 {
        let seed = &seeds[i % seeds.len()];
        let bytes = rng.mutate(seed);
        if let Ok(Merged { tiff: Some(tiff), .. }) =
            merge(Some(&bytes), &full_meta(Overwrite))
        {
            check(&tiff).expect("a merged block is readable");
        }
    }
}
