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
    Applied, DescriptionPolicy, EmbedError, FieldOutcome, Gps, Metadata, Stamp,
};
use DescriptionPolicy::{KeepIfPresent, Overwrite};

const TEXT: &str = "Source: Google Photos\n\"Grüße\" ✓";

fn full_meta(policy: DescriptionPolicy) -> Metadata {
    let offset = Offset::from_seconds(-5 * 3600).unwrap();
    let local = date(2021, 1, 4).at(18, 8, 30, 0);
    Metadata {
        date: Some(Stamp { local, offset }),
        gps: Some(Gps {
            latitude: 40.5,
            longitude: -73.9,
            altitude: Some(12.3),
        }),
        description: Some(TEXT.into()),
        description_policy: policy,
    }
}

fn embed_bytes(
    src: &[u8],
    meta: &Metadata,
) -> Result<(Vec<u8>, Applied), EmbedError> {
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
            .args([
                "-frames:v",
                "1",
                "-c:v",
                "libaom-av1",
                "-still-picture",
                "1",
            ])
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
    let payload =
        bytes[(top.start + top.header) as usize..top.end as usize].to_vec();
    let mut meta = Node::with_header(*b"meta", false, payload);
    meta.expand(4).unwrap();
    let iloc =
        Iloc::parse(meta.child(b"iloc").unwrap().payload().unwrap()).unwrap();
    (meta, iloc)
}

#[test]
fn adds_exif_item_to_avif() {
    let src = avif();
    let (out, done) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    assert_eq!(done.dates, FieldOutcome::Written);
    assert_eq!(
        (done.gps, done.description),
        (FieldOutcome::Written, FieldOutcome::Written)
    );
    validate_bytes(&out).expect("output validates");
    assert!(out.starts_with(&src[..32]), "ftyp kept");
    let exif = kamadak(&out);
    assert_eq!(
        field(&exif, exif::Tag::DateTimeOriginal),
        "2021-01-04 18:08:30"
    );
    assert_eq!(field(&exif, exif::Tag::OffsetTimeOriginal), "\"-05:00\"");
    let tags = exiftool(&out);
    assert_eq!(tags.get("ExifTool:Warning"), None, "exiftool warns");
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
    let infos =
        items::item_infos(meta.child(b"iinf").unwrap().payload().unwrap())
            .unwrap();
    let exif_item = infos.iter().find(|i| &i.kind == b"Exif").unwrap();
    let iref = meta.child(b"iref").unwrap().payload().unwrap();
    let primary =
        items::primary(meta.child(b"pitm").unwrap().payload().unwrap())
            .unwrap();
    let cdsc = [
        &[0, 0, 0, 14][..],
        b"cdsc",
        &(exif_item.id as u16).to_be_bytes(),
        &[0, 1],
        &(primary as u16).to_be_bytes(),
    ]
    .concat();
    assert!(iref.ends_with(&cdsc), "cdsc from exif to primary");
    let image = iloc.items.iter().find(|i| i.id == primary).unwrap();
    let (_, old_iloc) = meta_of(&src);
    let old = old_iloc.items.iter().find(|i| i.id == primary).unwrap();
    let (new_at, old_at) =
        (image.extents[0].offset as usize, old.extents[0].offset as usize);
    let len = old.extents[0].length as usize;
    assert!(
        out[new_at..new_at + len] == src[old_at..old_at + len],
        "image data moved with its offset"
    );
    assert_eq!(decoded_md5(&out), decoded_md5(&src), "still decodes");
}

/// Returns the md5 of the frames ffmpeg decodes from `bytes`.
fn decoded_md5(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.avif");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "md5", "-"])
        .output()
        .expect("ffmpeg is required by these tests");
    let md5 = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(md5.starts_with("MD5="), "no md5 from ffmpeg: {out:?}");
    md5
}

#[test]
fn updates_existing_exif_item() {
    let (first, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let other =
        Metadata { description: Some("other".into()), ..full_meta(Overwrite) };
    let (second, done) = embed_bytes(&first, &other).unwrap();
    assert_eq!(done.dates, FieldOutcome::Kept);
    assert_eq!(done.description, FieldOutcome::Written);
    validate_bytes(&second).expect("output validates");
    let (meta, _) = meta_of(&second);
    let infos =
        items::item_infos(meta.child(b"iinf").unwrap().payload().unwrap())
            .unwrap();
    assert_eq!(infos.iter().filter(|i| &i.kind == b"Exif").count(), 1);
    let exif = kamadak(&second);
    assert_eq!(field(&exif, exif::Tag::ImageDescription), "\"other\"");
    assert_eq!(
        field(&exif, exif::Tag::DateTimeOriginal),
        "2021-01-04 18:08:30"
    );
}

#[test]
fn nothing_to_write_gives_identical_bytes() {
    let (first, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let (second, done) =
        embed_bytes(&first, &full_meta(KeepIfPresent)).unwrap();
    assert!(done.is_unchanged(), "{done:?}");
    assert!(second == first);
}

#[test]
fn embedding_is_deterministic() {
    let (a, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    let (b, _) = embed_bytes(&avif(), &full_meta(Overwrite)).unwrap();
    assert!(a == b);
}

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    [&(payload.len() as u32 + 8).to_be_bytes()[..], kind, payload].concat()
}

fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], body].concat())
}

fn infe(id: u16, kind: &[u8; 4]) -> Vec<u8> {
    full(b"infe", 2, &[&id.to_be_bytes()[..], &[0, 0], kind, &[0]].concat())
}

/// The image bytes of the hand-made HEIF files.
const IMAGE: &[u8] = b"IMAGE-DATA-0123456789";
/// The `idat` bytes of the hand-made HEIF files.
const IDAT: &[u8] = b"<x:xmpmeta/>";

/// Returns a hand-made HEIF: `ftyp`, `meta` (`iloc` version 1 with 4-byte
/// base offsets; item 1 `hvc1` in `mdat`, item 2 `mime` in `idat` with
/// construction `method2`), then `mdat`; with `meta_last` the `mdat`
/// comes before `meta`.
fn hand_made(method2: u16, meta_last: bool) -> Vec<u8> {
    let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
    let meta = |base: u32| {
        let hdlr = full(b"hdlr", 0, &[&[0; 4][..], b"pict", &[0; 13]].concat());
        let pitm = full(b"pitm", 0, &1u16.to_be_bytes());
        let image = [
            &[0, 1, 0, 0, 0, 0][..],
            &base.to_be_bytes(),
            &[0, 1],
            &[0; 4],
            &(IMAGE.len() as u32).to_be_bytes(),
        ]
        .concat();
        let data = [
            &[0, 2][..],
            &method2.to_be_bytes(),
            &[0, 0],
            &[0; 4],
            &[0, 1],
            &[0; 4],
            &(IDAT.len() as u32).to_be_bytes(),
        ]
        .concat();
        let iloc = full(
            b"iloc",
            1,
            &[&[0x44, 0x40, 0, 2][..], &image, &data].concat(),
        );
        let iinf = full(
            b"iinf",
            0,
            &[&[0, 2][..], &infe(1, b"hvc1"), &infe(2, b"mime")].concat(),
        );
        let idat = bx(b"idat", IDAT);
        full(b"meta", 0, &[hdlr, pitm, iloc, iinf, idat].concat())
    };
    let mdat = bx(b"mdat", IMAGE);
    if meta_last {
        let base = (ftyp.len() + 8) as u32;
        [ftyp, mdat, meta(base)].concat()
    } else {
        let base = (ftyp.len() + meta(0).len() + 8) as u32;
        [ftyp, meta(base), mdat].concat()
    }
}

/// Returns the data of item `id` of `bytes` as its `iloc` locates it
/// (construction method 0 only).
fn item_data(bytes: &[u8], id: u32) -> Vec<u8> {
    let (_, iloc) = meta_of(bytes);
    let item = iloc.items.iter().find(|i| i.id == id).unwrap();
    let extent = item.extents[0];
    let start = (item.base + extent.offset) as usize;
    bytes[start..start + extent.length as usize].to_vec()
}

#[test]
fn hand_made_heif_shifts_base_offsets_and_keeps_idat_items() {
    for meta_last in [false, true] {
        let src = hand_made(1, meta_last);
        validate_bytes(&src).expect("hand-made input validates");
        assert_eq!(item_data(&src, 1), IMAGE);
        let (out, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
        validate_bytes(&out).expect("output validates");
        assert_eq!(item_data(&out, 1), IMAGE, "meta_last {meta_last}");
        let (_, iloc) = meta_of(&out);
        let idat_item = iloc.items.iter().find(|i| i.id == 2).unwrap();
        assert_eq!(idat_item.construction(), 1);
        assert_eq!(idat_item.extents[0].offset, 0);
        let exif = item_data(&out, 3);
        assert!(
            exif.starts_with(b"\0\0\0\x06Exif\0\0II*\0"),
            "new exif item 3"
        );
        let tiff = &exif[10..];
        let fields = exif::Reader::new().read_raw(tiff.to_vec()).unwrap();
        let date =
            fields.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY);
        assert_eq!(
            date.unwrap().display_value().to_string(),
            "2021-01-04 18:08:30"
        );
    }
}

#[test]
fn unsupported_layouts_are_refused() {
    let cases = [
        ("method 2", hand_made(2, false)),
        ("image sequence", [hand_made(1, false), bx(b"moov", &[])].concat()),
        ("size-0 mdat", {
            let mut file = hand_made(1, false);
            let at = file.len() - IMAGE.len() - 8;
            file[at..at + 4].copy_from_slice(&[0; 4]);
            file
        }),
    ];
    for (what, src) in cases {
        let result = embed_bytes(&src, &full_meta(Overwrite));
        assert!(
            matches!(result, Err(EmbedError::Unsupported(_))),
            "{what}: {result:?}"
        );
    }
}

#[test]
fn broken_files_are_malformed() {
    let src = avif();
    let cases = [
        ("empty", Vec::new()),
        ("cut", src[..src.len() - 1].to_vec()),
        ("no meta", src[..32].to_vec()),
        ("image past end", {
            let mut file = src.clone();
            file.pop();
            let at = file.windows(4).rposition(|w| w == b"mdat").unwrap() - 4;
            let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap());
            file[at..at + 4].copy_from_slice(&(size - 1).to_be_bytes());
            file
        }),
    ];
    for (what, bytes) in cases {
        let result = embed_bytes(&bytes, &full_meta(Overwrite));
        assert!(
            matches!(result, Err(EmbedError::Malformed(_))),
            "{what}: {result:?}"
        );
        assert!(validate_bytes(&bytes).is_err(), "{what}");
    }
}

#[test]
fn iloc_round_trips_through_encode() {
    for src in [avif(), hand_made(1, false)] {
        let (meta, iloc) = meta_of(&src);
        let payload = meta.child(b"iloc").unwrap().payload().unwrap();
        assert!(iloc.encode() == payload);
    }
}

#[test]
fn mutated_files_never_panic() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for src in [avif(), hand_made(1, false)] {
        for round in 0..1500 {
            let mut bytes = src.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % 300.min(bytes.len() as u64)) as usize;
                bytes[at] = match next() % 3 {
                    0 => next() as u8,
                    1 => bytes[at] ^ (1 << (next() % 8)),
                    _ => [0, 1, 0xFF, 8][(next() % 4) as usize],
                };
            }
            let valid = validate_bytes(&bytes).is_ok();
            if let Ok((out, _)) = embed_bytes(&bytes, &full_meta(Overwrite)) {
                let ok = validate_bytes(&out);
                assert!(!valid || ok.is_ok(), "round {round}: {ok:?}");
            }
        }
    }
}
