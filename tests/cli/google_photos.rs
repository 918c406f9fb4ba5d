//! A realistic Google Photos takeout end to end.

use serde_json::json;

use crate::support::*;

const TRIP: &str = "google-alice-20250101/Takeout/Google Photos/2021 Rome Trip";
const YEAR: &str =
    "google-alice-20250101/Takeout/Google Photos/Photos from 2021";

/// 2021-07-03T18:00:30Z: 20:00:30 in Rome (+02:00).
const ROME_TIME: i64 = 1_625_335_230;
/// 2021-01-01T09:30:00Z: 04:30 in New York (-05:00).
const NY_TIME: i64 = 1_609_493_400;

fn sidecar(
    title: &str,
    at: i64,
    geo: Option<(f64, f64)>,
    caption: &str,
) -> serde_json::Value {
    let mut v = json!({
        "title": title,
        "description": caption,
        "photoTakenTime": {"timestamp": at.to_string()},
        "creationTime": {"timestamp": (at + 3600).to_string()},
    });
    if let Some((lat, lon)) = geo {
        v["geoData"] =
            json!({"latitude": lat, "longitude": lon, "altitude": 21.0});
    }
    v
}

/// Builds the takeout described in the module tests.
fn takeout(env: &TestEnv) {
    env.json(
        &format!("{TRIP}/metadata.json"),
        &json!({"title": "Trip to Rome"}),
    );
    env.write(&format!("{TRIP}/IMG_0001.jpg"), &jpeg(1));
    env.json(
        &format!("{TRIP}/IMG_0001.jpg.supplemental-metadata.json"),
        &sidecar(
            "IMG_0001.jpg",
            ROME_TIME,
            Some((41.8902, 12.4922)),
            "Colosseum \"at\" dusk",
        ),
    );
    env.write(&format!("{TRIP}/IMG_0001-edited.jpg"), &jpeg(2));
    env.write(&format!("{TRIP}/IMG_0003.jpg"), &jpeg(3));
    mp4(&env.path(TRIP), "IMG_0003.MP4", 3, false);
    env.json(
        &format!("{TRIP}/IMG_0003.jpg.json"),
        &sidecar(
            "IMG_0003.jpg",
            ROME_TIME + 4770,
            Some((41.8902, 12.4922)),
            "",
        ),
    );
    // The same bytes in the year folder: a duplicate of the album copy.
    env.write(&format!("{YEAR}/IMG_0001.jpg"), &jpeg(1));
    env.json(
        &format!("{YEAR}/IMG_0001.jpg.json"),
        &sidecar("IMG_0001.jpg", ROME_TIME, None, ""),
    );
    // A long name whose sidecar name Takeout cut to 51 characters.
    let long = "PXL_20210101_093000123.PORTRAIT.ORIGINAL_BURST_COVER_TOP.jpg";
    env.write(&format!("{YEAR}/{long}"), &jpeg(4));
    let cut = &format!("{long}.supplemental-metadata")[..46];
    env.json(&format!("{YEAR}/{cut}.json"), &sidecar(long, NY_TIME, None, ""));
    env.write(&format!("{YEAR}/screenshot.png"), &png(5));
    env.json(
        &format!("{YEAR}/screenshot.png.supplemental-metadata.json"),
        &sidecar(
            "screenshot.png",
            NY_TIME + 9000,
            Some((40.7128, -74.006)),
            "Boarding pass",
        ),
    );
    env.write(&format!("{YEAR}/lonely.jpg"), &jpeg(6));
    env.json(
        &format!("{YEAR}/gone.jpg.json"),
        &sidecar("gone.jpg", NY_TIME, None, ""),
    );
    env.write(&format!("{YEAR}/notes.txt"), b"not media");
}

#[test]
fn takeout_is_written_dated_located_and_reported() {
    let env = TestEnv::new();
    takeout(&env);
    let before = env.snapshot("google-alice-20250101");
    env.run(&[
        "google-alice-20250101",
        "-o",
        "out",
        "--timezone",
        "America/New_York",
        "-w",
        "2",
    ])
    .expect_code(0);
    assert_eq!(
        before,
        env.snapshot("google-alice-20250101"),
        "inputs untouched"
    );

    let tree = env.tree("out");
    let expected = [
        "photos/gphotos-alice-20210101_1.jpg",
        "photos/gphotos-alice-20210101_2.png",
        "photos/gphotos-alice-20210703_1.jpg",
        "photos/gphotos-alice-20210703_2.jpg",
        "photos/gphotos-alice-20210703_3.jpg",
        "photos/gphotos-alice-20210703_3.mp4",
        "photos/issues/failed-matching/media/lonely.jpg",
        "photos/issues/failed-matching/metadata/gone.json",
        "photos/issues/failure-report.json",
        "report.json",
    ];
    assert_eq!(tree, expected);

    // Rome: local wall clock and offset from the GPS position.
    let out = env.path("out/photos/gphotos-alice-20210703_1.jpg");
    assert_eq!(
        exif_text(&out, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2021:07:03 20:00:30")
    );
    assert_eq!(
        exif_text(&out, exif::Tag::OffsetTimeOriginal).as_deref(),
        Some("+02:00")
    );
    assert_eq!(
        exif_text(&out, exif::Tag::ImageDescription).as_deref(),
        Some("Source: Google Photos/alice\nCaption: \"Colosseum \"at\" dusk\"")
    );
    let lat =
        exif_coord(&out, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef)
            .unwrap();
    let lon =
        exif_coord(&out, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef)
            .unwrap();
    assert!((lat - 41.8902).abs() < 1e-5 && (lon - 12.4922).abs() < 1e-5);
    assert_eq!(mtime(&out), ROME_TIME);
    let tool = exiftool(&out);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2021:07:03 20:00:30");
    assert_eq!(tool["ExifIFD:CreateDate"], "2021:07:03 20:00:30");
    assert_eq!(tool["IFD0:ModifyDate"], "2021:07:03 20:00:30");
    assert_eq!(tool["ExifIFD:OffsetTime"], "+02:00");
    assert!((tool["GPS:GPSLatitude"].as_f64().unwrap() - 41.8902).abs() < 1e-5);
    assert!(
        (tool["GPS:GPSLongitude"].as_f64().unwrap() - 12.4922).abs() < 1e-5
    );

    // The edited copy survives beside its original.
    let edited = env.path("out/photos/gphotos-alice-20210703_2.jpg");
    assert_eq!(
        exif_text(&edited, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2021:07:03 20:00:30")
    );

    // The live-photo video shares the still's number and gets QuickTime
    // dates from the same sidecar.
    let video = exiftool(&env.path("out/photos/gphotos-alice-20210703_3.mp4"));
    assert_eq!(video["Keys:CreationDate"], "2021:07:03 21:20:00+02:00");
    assert_eq!(
        mtime(&env.path("out/photos/gphotos-alice-20210703_3.mp4")),
        ROME_TIME + 4770
    );

    // No GPS: the --timezone zone decides the local time.
    let cut = env.path("out/photos/gphotos-alice-20210101_1.jpg");
    assert_eq!(
        exif_text(&cut, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2021:01:01 04:30:00")
    );
    assert_eq!(
        exif_text(&cut, exif::Tag::OffsetTimeOriginal).as_deref(),
        Some("-05:00")
    );
    let shot = exiftool(&env.path("out/photos/gphotos-alice-20210101_2.png"));
    assert_eq!(shot["ExifIFD:DateTimeOriginal"], "2021:01:01 07:00:00");

    // report.json: every input with one fate.
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    let counts = &report["processors"][0]["counts"];
    assert_eq!(counts["written"], 6);
    assert_eq!(counts["duplicate"], 1);
    assert_eq!(counts["unmatched"], 1);
    assert_eq!(counts["skipped"], 1);
    assert_eq!(counts["orphaned_metadata"], 1);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 9);
    let inputs: Vec<&str> =
        files.iter().map(|f| f["input"].as_str().unwrap()).collect();
    let mut sorted = inputs.clone();
    sorted.sort();
    assert_eq!(inputs, sorted, "files sorted by input");
    let dup = files.iter().find(|f| f["fate"] == "duplicate").unwrap();
    assert_eq!(
        dup["input"],
        format!("Takeout/Google Photos/Photos from 2021/IMG_0001.jpg")
    );
    assert_eq!(dup["output"], "photos/gphotos-alice-20210703_1.jpg");
    let primary = files
        .iter()
        .find(|f| {
            f["input"] == "Takeout/Google Photos/2021 Rome Trip/IMG_0001.jpg"
        })
        .unwrap();
    assert_eq!(primary["date"]["zone"], "Europe/Rome");
    assert_eq!(primary["date"]["zone_source"], "gps");
    assert_eq!(primary["date"]["offset"], "+02:00");
    assert_eq!(primary["match"]["rule"], "exact");
    assert_eq!(
        primary["albums"],
        json!(["Google Photos/alice", "Trip to Rome"])
    );
    assert_eq!(
        primary["context"]["albums"],
        json!(["Trip to Rome", "Photos from 2021"])
    );
    let sha = primary["sha1"].as_str().unwrap();
    assert_eq!(sha.len(), 40);
    let cutf = files
        .iter()
        .find(|f| f["input"].as_str().unwrap().contains("PXL_"))
        .unwrap();
    assert_eq!(cutf["match"]["rule"], "cut");
    assert_eq!(cutf["date"]["zone_source"], "timezone");

    // issues/: the unmatched copy is byte-identical and keeps its mtime.
    let lonely = env.path(&format!("{YEAR}/lonely.jpg"));
    let copy = env.path("out/photos/issues/failed-matching/media/lonely.jpg");
    assert_eq!(std::fs::read(&lonely).unwrap(), std::fs::read(&copy).unwrap());
    assert_eq!(mtime(&lonely), mtime(&copy));
    let failure = env.read_json("out/photos/issues/failure-report.json");
    assert_eq!(failure["summary"]["failed_matching"], 2);
    assert_eq!(
        failure["failed_matching"]["orphaned_media"][0]["reason"],
        "No matching metadata found"
    );
    assert_eq!(
        failure["failed_matching"]["orphaned_metadata"][0]["reason"],
        "Media file not found in filesystem"
    );
    let saved =
        env.read_json("out/photos/issues/failed-matching/metadata/gone.json");
    assert_eq!(saved["title"], "gone.jpg");

    // Summary on stderr.
    let run = env.run(&[
        "google-alice-20250101",
        "-o",
        "out",
        "--timezone",
        "America/New_York",
    ]);
    run.expect_code(0);
    assert!(run.stderr().contains("OVERALL SUMMARY"));
    assert!(run.stderr().contains(
        "Files: 6 written, 1 duplicates merged, 1 unmatched, 0 failed"
    ));
}

#[test]
fn rerun_replaces_its_own_output_byte_for_byte() {
    let env = TestEnv::new();
    takeout(&env);
    let args = ["google-alice-20250101", "-o", "out", "--timezone", "UTC"];
    env.run(&args).expect_code(0);
    let first = env.snapshot("out/photos");
    env.run(&args).expect_code(0);
    let second = env.snapshot("out/photos");
    let strip = |m: &std::collections::BTreeMap<
        String,
        (Vec<u8>, std::time::SystemTime),
    >| {
        m.iter()
            .filter(|(k, _)| !k.ends_with("failure-report.json"))
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&first),
        strip(&second),
        "same names and bytes, no _2 copies"
    );
}

#[test]
fn camera_date_wins_over_the_sidecar_and_is_never_replaced() {
    let env = TestEnv::new();
    let photo = env.write(&format!("{TRIP}/camera.jpg"), &jpeg(9));
    exiftool_set(
        &photo,
        &[
            "-DateTimeOriginal=2020:05:06 07:08:09",
            "-Make=Canon",
            "-Model=EOS 40D",
        ],
    );
    env.json(
        &format!("{TRIP}/camera.jpg.json"),
        &sidecar("camera.jpg", ROME_TIME, Some((41.8902, 12.4922)), ""),
    );
    env.run(&["google-alice-20250101", "-o", "out"]).expect_code(0);
    let out = env.path("out/photos/gphotos-alice-20200506.jpg");
    let tool = exiftool(&out);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2020:05:06 07:08:09");
    assert_eq!(
        tool["ExifIFD:CreateDate"], "2020:05:06 07:08:09",
        "filled from the file's own date"
    );
    assert_eq!(tool["IFD0:Make"], "Canon");
    assert_eq!(tool["IFD0:Model"], "EOS 40D");
    // Offsets go only with the date tags memoria fills (metadata.md §4.2).
    assert_eq!(
        tool["ExifIFD:OffsetTimeDigitized"], "+02:00",
        "GPS zone in May"
    );
    assert!(tool.get("ExifIFD:OffsetTimeOriginal").is_none());
    let report = env.read_json("out/report.json");
    assert_eq!(report["files"][0]["date"]["source"], "file");
}

#[test]
fn dry_run_plans_without_writing() {
    let env = TestEnv::new();
    takeout(&env);
    let run = env.run(&[
        "google-alice-20250101",
        "-o",
        "out",
        "--dry-run",
        "--timezone",
        "UTC",
    ]);
    run.expect_code(0);
    assert!(!env.path("out").exists(), "dry run creates nothing");
    let plan = run.stdout();
    assert!(
        plan.contains("# google-alice-20250101 · Google Photos → photos/"),
        "{plan}"
    );
    assert!(plan.contains("WRITE      photos/gphotos-alice-20210703_1.jpg <- Takeout/Google Photos/2021 Rome Trip/IMG_0001.jpg"), "{plan}");
    assert!(plan.contains("DUPLICATE  Takeout/Google Photos/Photos from 2021/IMG_0001.jpg = Takeout/Google Photos/2021 Rome Trip/IMG_0001.jpg"), "{plan}");
    assert!(plan.contains("UNMATCHED  Takeout/Google Photos/Photos from 2021/lonely.jpg -> photos/issues/failed-matching/media/lonely.jpg"), "{plan}");
    assert!(plan.contains("SKIP       Takeout/Google Photos/Photos from 2021/notes.txt (not media)"), "{plan}");
}

#[test]
fn originals_run_exports_in_parallel_into_their_own_folders() {
    let env = TestEnv::new();
    for (user, seed) in [("bob", 20u8), ("carol", 30u8)] {
        let album =
            format!("exports/google-{user}-20250101/Google Photos/Album");
        env.write(&format!("{album}/a.jpg"), &jpeg(seed));
        env.json(
            &format!("{album}/a.jpg.json"),
            &sidecar("a.jpg", NY_TIME, None, ""),
        );
    }
    env.write("exports/.hidden/x.txt", b"x");
    env.write("exports/plain-file.txt", b"x");
    let run = env.run(&[
        "--originals",
        "exports",
        "-o",
        "lib",
        "--parallel-exports",
        "2",
        "--workers",
        "1",
        "--timezone",
        "America/New_York",
    ]);
    run.expect_code(0);
    assert!(run.stderr().contains("Found 2 export(s) to process in:"));
    assert_eq!(
        env.tree("lib/google-bob-20250101/photos"),
        ["gphotos-bob-20210101.jpg"]
    );
    assert_eq!(
        env.tree("lib/google-carol-20250101/photos"),
        ["gphotos-carol-20210101.jpg"]
    );
    assert!(run
        .stderr()
        .contains("Total: 2 succeeded, 0 failed out of 2 export(s)"));
}

#[test]
fn oversubscription_warning_follows_the_formula() {
    let env = TestEnv::new();
    for user in ["a", "b"] {
        env.write(
            &format!("exports/google-{user}-20250101/Google Photos/X/a.jpg"),
            &jpeg(1),
        );
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = 3 * cpus;
    let run = env.run(&[
        "--originals",
        "exports",
        "-o",
        "lib",
        "--parallel-exports",
        "4",
        "--workers",
        &workers.to_string(),
    ]);
    let text = format!(
        "WARNING: 2 parallel exports × ({workers} workers + 1) = {} threads on {cpus} CPU cores.",
        2 * (workers + 1)
    );
    assert!(run.stderr().contains(&text), "{}", run.stderr());
    let suggestion = format!(
        "SUGGESTION: use --parallel-exports 2 --workers {}, or reduce --parallel-exports to {}.",
        (cpus / 2).saturating_sub(1).max(1),
        (cpus / (workers + 1)).max(1)
    );
    assert!(run.stderr().contains(&suggestion), "{}", run.stderr());
}

#[test]
fn a_duplicate_lends_its_caption_and_position_to_the_primary() {
    let env = TestEnv::new();
    let root = "google-fay-20250101/Google Photos";
    env.write(&format!("{root}/A/x.jpg"), &jpeg(7));
    env.json(
        &format!("{root}/A/x.jpg.json"),
        &sidecar("x.jpg", NY_TIME, None, ""),
    );
    env.write(&format!("{root}/B/x.jpg"), &jpeg(7));
    env.json(
        &format!("{root}/B/x.jpg.json"),
        &sidecar("x.jpg", NY_TIME, Some((40.7128, -74.006)), "Found it"),
    );
    env.run(&["google-fay-20250101", "-o", "out"]).expect_code(0);
    assert_eq!(env.tree("out/photos"), ["gphotos-fay-20210101.jpg"]);
    let out = env.path("out/photos/gphotos-fay-20210101.jpg");
    assert_eq!(
        exif_text(&out, exif::Tag::ImageDescription).as_deref(),
        Some("Source: Google Photos/fay\nCaption: \"Found it\"")
    );
    let lat =
        exif_coord(&out, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef);
    assert!((lat.unwrap() - 40.7128).abs() < 1e-5);
    let report = env.read_json("out/report.json");
    assert_eq!(report["processors"][0]["username"], "fay");
    assert_eq!(report["files"][0]["fate"], "written");
    assert_eq!(report["files"][0]["input"], "Google Photos/A/x.jpg");
    assert_eq!(report["files"][1]["fate"], "duplicate");
}
