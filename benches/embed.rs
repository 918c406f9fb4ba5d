//! The metadata writer against a plain copy of the same file, in one
//! process and the same run: a 12-megapixel JPEG and a 200 MB MP4
//! (moov last, as cameras write it) each get a date with offset, GPS and a
//! description, against `std::fs::copy`.
//!
//! Run with `cargo bench --bench embed`. Each side runs five times,
//! alternating, into fresh files with earlier output flushed to disk
//! between runs; the medians and their ratio are printed.

#[allow(dead_code)]
mod common;
// The bench drives the media layer directly; it is self-contained (it
// uses nothing outside `crate::media`), so it compiles here as is. Most
// of it, and its test helpers (benches build with cfg(test)), is unused by
// this one entry point.
#[allow(unused)]
#[path = "../src/media/mod.rs"]
mod media;

use std::path::Path;
use std::time::Duration;

use common::{
    clear, inflate_mp4, median, small_mp4, time, twelve_megapixel_jpeg, ROUNDS,
};
use media::model::{DescriptionPolicy, Existing, Gps, Metadata, Stamp};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let jpeg = root.join("photo.jpg");
    std::fs::write(&jpeg, twelve_megapixel_jpeg()).expect("photo");
    let mp4 = root.join("video.mp4");
    inflate_mp4(&small_mp4(root), &mp4, 200 << 20, 7);
    compare("12 MP JPEG", &jpeg, &root.join("out"));
    compare("200 MB MP4", &mp4, &root.join("out"));
}

/// Times `media::write` and `std::fs::copy` of `src` alternately and
/// prints the medians.
fn compare(what: &str, src: &Path, out: &Path) {
    std::fs::create_dir_all(out).expect("out folder");
    let ext = src.extension().and_then(|e| e.to_str()).unwrap_or("bin");
    let copied = out.join(format!("copy.{ext}"));
    let written = out.join(format!("written.{ext}"));
    let meta = metadata();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        clear(&copied);
        theirs.push(time(|| {
            std::fs::copy(src, &copied).expect("copy");
        }));
        clear(&written);
        ours.push(time(|| {
            let done =
                media::write(src, &written, &meta, &Existing::default(), None)
                    .expect("write");
            assert_eq!(done.route, media::Route::InFile);
        }));
    }
    report(what, median(ours), median(theirs));
}

fn report(what: &str, ours: Duration, theirs: Duration) {
    println!(
        "{what}: embed {:.1} ms, copy {:.1} ms, ratio {:.2}",
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3,
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}

/// Returns a full set of metadata: date with offset, position, caption.
fn metadata() -> Metadata {
    let local = jiff::civil::date(2021, 7, 3).at(20, 0, 30, 0);
    let offset = jiff::tz::Offset::from_hours(2).expect("valid offset");
    Metadata {
        date: Some(Stamp { local, offset }),
        gps: Some(Gps {
            latitude: 41.8902,
            longitude: 12.4922,
            altitude: Some(21.0),
        }),
        description: Some("Source: Google Photos/bench".to_string()),
        description_policy: DescriptionPolicy::KeepIfPresent,
    }
}
