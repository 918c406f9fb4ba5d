//! Tests of the HEIF `Exif` item writer: an AVIF made by ffmpeg read back
//! with kamadak-exif and exiftool, hand-made files for `iloc` variants,
//! unsupported layouts and a seeded mutation loop.

use std::io::Cursor;
use std::process::Command;
use std::sync::OnceLock;

use jiff::civil::date;
use jiff::tz::Offset;
use serde_json::{json, Value};

use super::iloc::Iloc;
use super::items;
use super::{embed, validate};
use crate::media::bmff::layout::Layout;
use crate::media::bmff::tree::Node;
use crate::media::model::{
    Applied, DescriptionPolicy, EmbedError, FieldOutcome, Gps, Metadata,
    Stamp,
};
use DescriptionPolicy::{KeepIfPresent, Overwrite};

const TEXT: &str = "Source: Google Photos\n\"Grüße\" ✓";

fn full_meta(policy: DescriptionPolicy) -> Metadata {
    let offset = Offset::from_seconds(-5 * 3600).unwrap();
    let local = date(2021, 1, 4).at(18, 8, 30, 0);
    Metadata {
        date: Some(Stamp { local, offset }),
        gps: Some(Gps { latitude: 40.5, longitude: -73.9, altitude: Some(12.3) }),
        description: Some(TEXT.into()),
        description_policy: policy,
    }
}

fn embed_bytes(src: &[u8], meta: &Metadata) -> Result<(Vec<u8>, Applied), EmbedError> {
    let mut out = Vec::new();
    let applied = embed(&mut Cursor::new(src), &mut out, meta)?;
    Ok((out, applied))
}

fn validate_bytes(bytes: &[u8]) -> Result<(), String> {
    validate(&mut Cursor::new(bytes))
}

/// Returns a 64×64 AVIF still image made by ffmpeg, once per run.
fn avif() -> Vec<u8> {
    static AVIF: OnceLock<Vec<u8>> = OnceLock::new();
    AVIF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.avif");
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i", "color=red:s=64x64"])
            .args(["-frames:v", "1", "-c:v", "libaom-av1", "-still-picture", "1"])
            .arg(&path)
            .output()
            .expect("ffmpeg (with libaom-av1) is required by these tests");
        assert!(out.status.success(), "ffmpeg failed: {out:?}");
        std::fs::read(&path).unwrap()
    })
    .clone()
}

/// Returns exiftool's `-j -n -G1` tags of `bytes`.
fn exiftool(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.avif");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("exiftool")
        .args(["-j", "-n", "-G1"])
        .arg(&path)
        .output()
        .expect("exiftool is required by these tests");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json[0].clone()
}

/// Returns the EXIF fields of `bytes` as kamadak-exif reads them.
fn kamadak(bytes: &[u8]) -> exif::Exif {
    let mut reader = std::io::BufReader::new(Cursor::new(bytes));
    exif::Reader::new().read_from_container(&mut reader).expect("exif readable")
}

/// Returns the display value of `tag` in the primary IFD.
fn field(exif: &exif::Exif, tag: exif::Tag) -> String {
    let field = exif.get_field(tag, exif::In::PRIMARY).expect("tag present");
    field.display_value().to_string()
}

/// Returns the parsed `meta` of `bytes`: the node and its `iloc`.
fn meta_of(bytes: &[u8]) -> (Node, Iloc) {
    let mut cursor = Cursor::new(bytes);
    let layout = Layout::scan(&mut cursor).unwrap();
    let top = layout.boxes.iter().find(|b| &b.kind == b"meta").unwrap();
    let payload = bytes[(top.start + top.header) as usize..top.end as usize].to_vec();
    let mut meta = Node::with_header(*b"meta", false, payload);
    meta.expand(4).unwrap();
    let iloc = Iloc::parse(meta.child(b"iloc").unwrap().payload().unwrap()).unwrap();
    (meta, iloc)
}

#[test]
fn adds_exif_item_to_avif() {
    let src = avif();
    let (out, done) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    assert_eq!(done.dates, FieldOutcome::Written);
    assert_eq!((done.gps, done.description), (FieldOutcome::Written, FieldOutcome::Written));
    validate_bytes(&out).expect("output validates");
    assert!(out.starts_with(&src[..32]), "ftyp kept");
    let exif = kamadak(&out);
    assert_eq!(field(&exif, exif::Tag::DateTimeOriginal), "2021-01-04 18:08:30");
    assert_eq!(field(&exif, exif::Tag::OffsetTimeOriginal), "\"-05:00\"");
    let tags = exiftool(&out);
    let want = [
        ("ExifIFD:DateTimeOriginal", json!("2021:01:04 18:08:30")),
        ("ExifIFD:OffsetTimeOriginal", json!("-05:00")),
        ("IFD0:ModifyDate", json!("2021:01:04 18:08:30")),
        ("GPS:GPSLatitude", json!(40.5)),
        ("GPS:GPSLongitudeRef", json!("W")),
        ("Composite:GPSLongitude", json!(-73.9)),
        ("IFD0:ImageDescription", json!(TEXT)),
    ];
    for (key, value) in want {
        assert_eq!(tags.get(key), Some(&value), "{key} in {tags:#}");
    }
    let (meta, iloc) = meta_of(&out);
    let infos = items::item_infos(meta.child(b"iinf").unwrap().payload().unwrap()).unwrap();
    let exif_item = infos.iter().find(|i| &i.kind == b"Exif").unwrap();
    let iref = meta.child(b"iref").unwrap().payload().unwrap();
    let primary = items::primary(meta.child(b"pitm").unwrap().payload().unwrap()).unwrap();
    let cdsc = [&[0, 0, 0, 14][..], b"cdsc", &(exif_item.id as u16).to_be_bytes(), &[0, 1], &(primary as u16).to_be_bytes()].concat();
    assert!(iref.ends_with(&cdsc), "cdsc from exif to primary");
    let image = iloc.items.iter().find(|i| i.id == primary).unwrap();
    let (_, old_iloc) = meta_of(&src);
    let old = old_iloc.items.iter().find(|i| i.id == primary).unwrap();
    let (new_at, old_at) = (image.extents[0].offset as usize, old.extents[0].offset as usize);
    let len = old.extents[0].length as usize;
    assert!(out[new_at..new_at + len] == src[old_at..old_at + len], "image data moved with its offset");
}

#[test]
fn updates_existing_exif_item() {
    let (first, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let other = Metadata { description: Some("other".into()), ..full_meta(Overwrite) };
    let (second, done) = embed_bytes(&first, &other).unwrap();
    assert_eq!(done.dates, FieldOutcome::Kept);
    assert_eq!(done.description, FieldOutcome::Written);
    validate_bytes(&second).expect("output validates");
    let (meta, _) = meta_of(&second);
    let infos = items::item_infos(meta.child(b"iinf").unwrap().payload().unwrap()).unwrap();
    assert_eq!(infos.iter().filter(|i| &i.kind == b"Exif").count(), 1);
    let exif = kamadak(&second);
    assert_eq!(field(&exif, exif::Tag::ImageDescription), "\"other\"");
    assert_eq!(field(&exif, exif::Tag::DateTimeOriginal), "2021-01-04 18:08:30");
}

#[test]
fn nothing_to_write_gives_identical_bytes() {
    let (first, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let (second, done) = embed_bytes(&first, &full_meta(KeepIfPresent)).unwrap();
    assert!(done.is_unchanged(), "{done:?}");
    assert!(second == first);
}

#[test]
fn embedding_is_deterministic() {
    let (a, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let (b, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    assert!(a == b);
}
#[test]
fn dump_tmp() {
    let (out, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    std::fs::write("/tmp/ex/out.avif", out).unwrap();
}
