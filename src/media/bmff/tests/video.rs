//! Round trips through ffmpeg-made videos, read back with `read`,
//! exiftool and ffmpeg (metadata.md §9 step 3).

use super::fixtures::{self, Video};
use super::*;
use crate::media::bmff::layout::{self, Layout};
use crate::media::bmff::tree::Node;
use crate::media::model::ExistingDate;
use serde_json::{json, Value};
use DescriptionPolicy::{KeepIfPresent, Overwrite};
use FieldOutcome::{Kept, None as Nothing, Partial, Written};

/// Asserts that exiftool's `tags` hold the given values.
fn assert_tags(tags: &Value, want: &[(&str, Value)]) {
    for (key, value) in want {
        assert_eq!(tags.get(key), Some(value), "exiftool {key} in {tags:#}");
    }
}

/// Asserts that `out` is a valid file that decodes like `src`.
fn assert_media_intact(src: &[u8], out: &[u8], ext: &str) {
    validate_bytes(out).expect("output validates");
    assert_eq!(fixtures::decode_errors(out, ext), "", "ffmpeg errors");
    let before = fixtures::decoded_md5(src, ext);
    assert_eq!(fixtures::decoded_md5(out, ext), before, "decoded md5");
}

/// Embeds every field into `video` and checks all read-backs.
fn check_full_round_trip(video: Video) -> Vec<u8> {
    let src = fixtures::video(video);
    let (out, done) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    assert_eq!(done, applied(Written, Written, Written));
    assert_media_intact(&src, &out, video.ext());
    let existing = read_bytes(&out).unwrap();
    let (local, offset) = (stamp().local, Some(stamp().offset));
    assert_eq!(existing.date, Some(ExistingDate::Local { local, offset }));
    assert_eq!(existing.gps, Some(gps()));
    assert_eq!(existing.description.as_deref(), Some(TEXT));
    let tags = fixtures::exiftool(&out, video.ext());
    assert_eq!(tags.get("ExifTool:Warning"), None, "exiftool warns");
    assert_tags(
        &tags,
        &[
            ("QuickTime:CreateDate", json!("2021:01:04 23:08:30")),
            ("QuickTime:ModifyDate", json!("2021:01:04 23:08:30")),
            ("Track1:TrackCreateDate", json!("2021:01:04 23:08:30")),
            ("Track2:MediaModifyDate", json!("2021:01:04 23:08:30")),
            ("Keys:CreationDate", json!("2021:01:04 18:08:30-05:00")),
            ("Keys:GPSCoordinates", json!("40.5 -73.9 12.3")),
            ("UserData:GPSCoordinates", json!("40.5 -73.9 12.3")),
            ("Composite:GPSLatitude", json!(40.5)),
            ("Composite:GPSLongitude", json!(-73.9)),
            ("ItemList:Comment", json!(TEXT)),
            ("ItemList:Description", json!(TEXT)),
        ],
    );
    out
}

#[test]
fn moov_last_mp4_round_trip() {
    let src = fixtures::video(Video::MoovLast);
    let out = check_full_round_trip(Video::MoovLast);
    let mdat = top_offset(&out, b"mdat");
    assert_eq!(mdat, top_offset(&src, b"mdat"), "mdat did not move");
    assert!(mdat < top_offset(&out, b"moov"));
}

#[test]
fn moov_first_mp4_round_trip_shifts_chunk_offsets() {
    let src = fixtures::video(Video::MoovFirst);
    let out = check_full_round_trip(Video::MoovFirst);
    assert!(top_offset(&out, b"moov") < top_offset(&out, b"mdat"));
    assert!(top_offset(&out, b"mdat") > top_offset(&src, b"mdat"));
}

#[test]
fn quicktime_mov_round_trip() {
    check_full_round_trip(Video::Mov);
}

#[test]
fn existing_header_times_are_kept() {
    let src = fixtures::video(Video::WithTimes);
    let when = jiff::Timestamp::from_second(1_557_126_489).unwrap();
    let existing = read_bytes(&src).unwrap();
    assert_eq!(existing.date, Some(ExistingDate::Instant(when)));
    let (out, done) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    assert_eq!(done.dates, Partial, "header times kept, key written");
    assert_media_intact(&src, &out, "mp4");
    assert_tags(
        &fixtures::exiftool(&out, "mp4"),
        &[
            ("QuickTime:CreateDate", json!("2019:05:06 07:08:09")),
            ("Track2:MediaCreateDate", json!("2019:05:06 07:08:09")),
            ("Keys:CreationDate", json!("2021:01:04 18:08:30-05:00")),
        ],
    );
}

/// Returns metadata that differs from `full_meta` in every field.
fn other_meta() -> Metadata {
    let local = date(2022, 7, 1).at(9, 0, 0, 0);
    let other = Gps { latitude: -33.9, longitude: 151.2, altitude: None };
    Metadata {
        date: Some(Stamp { local, offset: Offset::UTC }),
        gps: Some(other),
        description: Some("other".into()),
        description_policy: KeepIfPresent,
    }
}

#[test]
fn existing_key_gps_and_description_are_kept() {
    let src = fixtures::video(Video::MoovFirst);
    let (first, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    let (second, done) = embed_bytes(&first, &other_meta()).unwrap();
    assert_eq!(done, applied(Kept, Kept, Kept));
    assert!(second == first, "nothing written: identical bytes");
}

#[test]
fn overwrite_with_same_text_changes_nothing() {
    let src = fixtures::video(Video::MoovLast);
    let (first, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    let (second, done) = embed_bytes(&first, &full_meta(Overwrite)).unwrap();
    assert_eq!(done, applied(Kept, Kept, Kept));
    assert!(second == first);
}

#[test]
fn embedding_is_deterministic() {
    for video in [Video::MoovFirst, Video::Mov] {
        let src = fixtures::video(video);
        let (a, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
        let (b, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
        assert!(a == b, "{video:?}");
    }
}

#[test]
fn nothing_to_write_gives_identical_bytes() {
    let src = fixtures::video(Video::MoovFirst);
    let (out, done) = embed_bytes(&src, &empty_meta()).unwrap();
    assert_eq!(done, applied(Nothing, Nothing, Nothing));
    assert!(out == src);
}

#[test]
fn user_data_comment_counts_as_description() {
    let src = fixtures::video(Video::MovComment);
    let existing = read_bytes(&src).unwrap();
    assert_eq!(existing.description.as_deref(), Some("hello"));
    let meta = Metadata { description: Some(TEXT.into()), ..empty_meta() };
    let keep = Metadata { description_policy: KeepIfPresent, ..meta.clone() };
    let (out, done) = embed_bytes(&src, &keep).unwrap();
    assert_eq!(done.description, Kept);
    assert!(out == src);
    let (out, done) = embed_bytes(&src, &meta).unwrap();
    assert_eq!(done.description, Written);
    assert_eq!(read_bytes(&out).unwrap().description.as_deref(), Some(TEXT));
    assert_media_intact(&src, &out, "mov");
    assert_tags(
        &fixtures::exiftool(&out, "mov"),
        &[
            ("UserData:Comment", json!(TEXT)),
            ("ItemList:Comment", json!(TEXT)),
            ("ItemList:Description", json!(TEXT)),
        ],
    );
}

#[test]
fn shorter_description_shrinks_moov_first_file() {
    let src = fixtures::video(Video::MoovFirst);
    let (first, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    let short = Metadata { description: Some("x".into()), ..empty_meta() };
    let (out, done) = embed_bytes(&first, &short).unwrap();
    assert_eq!(done.description, Written);
    assert!(out.len() < first.len());
    assert_media_intact(&src, &out, "mp4");
    assert_eq!(read_bytes(&out).unwrap().description.as_deref(), Some("x"));
}

#[test]
fn moov_tree_serializes_back_to_its_bytes() {
    for video in [Video::MoovLast, Video::Mov, Video::MovComment] {
        let src = fixtures::video(video);
        let mut cursor = Cursor::new(&src[..]);
        let top = Layout::scan(&mut cursor).unwrap().moov().unwrap();
        let moov = layout::load_moov(&mut cursor, &top).unwrap();
        let range = top.start as usize..top.end as usize;
        assert!(moov.to_bytes() == src[range], "{video:?}");
    }
}

/// Returns the sample tables of every track of `moov`.
fn sample_tables(moov: &mut Node) -> Vec<&mut Node> {
    let tracks = moov.children_mut().unwrap().iter_mut();
    tracks
        .filter_map(|t| t.child_mut(b"mdia")?.child_mut(b"minf"))
        .filter_map(|m| m.child_mut(b"stbl"))
        .collect()
}

/// Returns `src` with every `stco` turned into `co64`, shifting offsets
/// past `moov` by the growth (a hand-made co64 fixture).
fn to_co64(src: &[u8]) -> Vec<u8> {
    let mut cursor = Cursor::new(src);
    let top = Layout::scan(&mut cursor).unwrap().moov().unwrap();
    let mut moov = layout::load_moov(&mut cursor, &top).unwrap();
    for stbl in sample_tables(&mut moov) {
        let stco = stbl.child_mut(b"stco").unwrap();
        let payload = stco.payload().unwrap();
        let mut wide = payload[..8].to_vec();
        for entry in payload[8..].chunks(4) {
            let entry = u32::from_be_bytes(entry.try_into().unwrap());
            wide.extend_from_slice(&u64::from(entry).to_be_bytes());
        }
        *stco = Node::raw(*b"co64", wide);
    }
    let delta = moov.size() - (top.end - top.start);
    for stbl in sample_tables(&mut moov) {
        let co64 = stbl.child_mut(b"co64").unwrap().payload_mut().unwrap();
        for chunk in co64[8..].chunks_mut(8) {
            let entry = u64::from_be_bytes(chunk[..].try_into().unwrap());
            let entry = if entry >= top.end { entry + delta } else { entry };
            chunk.copy_from_slice(&entry.to_be_bytes());
        }
    }
    let (start, end) = (top.start as usize, top.end as usize);
    [&src[..start], &moov.to_bytes(), &src[end..]].concat()
}

#[test]
fn co64_files_round_trip() {
    for video in [Video::MoovLast, Video::MoovFirst] {
        let plain = fixtures::video(video);
        let src = to_co64(&plain);
        assert!(src.windows(4).any(|w| w == b"co64"));
        assert_media_intact(&plain, &src, "mp4");
        let (out, done) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
        assert_eq!(done, applied(Written, Written, Written));
        assert_media_intact(&plain, &out, "mp4");
        assert_eq!(read_bytes(&out).unwrap().gps, Some(gps()));
    }
}

#[test]
fn new_keys_join_an_existing_keys_box() {
    let src = fixtures::video(Video::Mov);
    let dated = Metadata { date: Some(stamp()), ..empty_meta() };
    let (first, _) = embed_bytes(&src, &dated).unwrap();
    let placed = Metadata { gps: Some(gps()), ..empty_meta() };
    let (out, done) = embed_bytes(&first, &placed).unwrap();
    assert_eq!(done, applied(Nothing, Written, Nothing));
    assert_eq!(out.windows(4).filter(|w| w == b"keys").count(), 1);
    let existing = read_bytes(&out).unwrap();
    assert_eq!(existing.gps, Some(gps()));
    assert!(matches!(existing.date, Some(ExistingDate::Local { .. })));
    assert_media_intact(&src, &out, "mov");
    assert_tags(
        &fixtures::exiftool(&out, "mov"),
        &[
            ("Keys:CreationDate", json!("2021:01:04 18:08:30-05:00")),
            ("Keys:GPSCoordinates", json!("40.5 -73.9 12.3")),
        ],
    );
}
