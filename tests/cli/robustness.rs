//! Bad input: each problem is reported on one line and counted, the run
//! goes on, nothing is lost, and the exit code tells.

use serde_json::json;

use crate::support::*;

const ALBUM: &str = "google-dan-20250101/Google Photos/Album";

fn sidecar(title: &str) -> serde_json::Value {
    json!({"title": title, "photoTakenTime": {"timestamp": "1577880000"}})
}

#[test]
fn corrupt_jpeg_is_copied_unchanged_with_an_xmp_sidecar() {
    let env = TestEnv::new();
    let mut bytes = jpeg(1);
    // A bogus segment length right after SOI.
    bytes.splice(2..2, [0xFF, 0xE1, 0xFF, 0xF0, b'E', b'x']);
    env.write(&format!("{ALBUM}/corrupt.jpg"), &bytes);
    env.json(&format!("{ALBUM}/corrupt.jpg.json"), &sidecar("corrupt.jpg"));
    env.write(&format!("{ALBUM}/good.jpg"), &jpeg(2));
    env.json(&format!("{ALBUM}/good.jpg.json"), &sidecar("good.jpg"));
    let run =
        env.run(&["google-dan-20250101", "-o", "out", "--timezone", "UTC"]);
    run.expect_code(0);
    let out = env.path("out/photos/gphotos-dan-20200101_1.jpg");
    let corrupt_out = if std::fs::read(&out).unwrap() == bytes {
        out
    } else {
        env.path("out/photos/gphotos-dan-20200101_2.jpg")
    };
    assert_eq!(std::fs::read(&corrupt_out).unwrap(), bytes, "bytes unchanged");
    let xmp = std::fs::read_to_string(format!("{}.xmp", corrupt_out.display()))
        .unwrap();
    assert!(
        xmp.contains("exif:DateTimeOriginal=\"2020-01-01T12:00:00+00:00\""),
        "{xmp}"
    );
    assert!(
        run.stderr().contains("corrupt.jpg: metadata in sidecar"),
        "{}",
        run.stderr()
    );
    let report = env.read_json("out/report.json");
    let entry = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["input"].as_str().unwrap().ends_with("corrupt.jpg"))
        .unwrap()
        .clone();
    assert_eq!(entry["metadata"]["route"], "sidecar-fallback");
    assert_eq!(report["processors"][0]["counts"]["sidecars"], 1);
}

#[test]
fn broken_sidecar_and_unreadable_file_are_reported_and_counted() {
    let env = TestEnv::new();
    env.write(&format!("{ALBUM}/broken.jpg"), &jpeg(3));
    env.write(&format!("{ALBUM}/broken.jpg.json"), b"{not json");
    env.write(&format!("{ALBUM}/fine.jpg"), &jpeg(4));
    env.json(&format!("{ALBUM}/fine.jpg.json"), &sidecar("fine.jpg"));
    // A dangling link: listed like a file but unreadable.
    std::os::unix::fs::symlink(
        "/nonexistent/void.jpg",
        env.path(&format!("{ALBUM}/void.jpg")),
    )
    .unwrap();
    env.json(&format!("{ALBUM}/void.jpg.json"), &sidecar("void.jpg"));
    let run =
        env.run(&["google-dan-20250101", "-o", "out", "--timezone", "UTC"]);
    run.expect_code(1);
    assert!(
        env.path("out/photos/gphotos-dan-20200101.jpg").exists(),
        "the good file is written"
    );
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "failed");
    let files = report["files"].as_array().unwrap();
    let fate = |name: &str| {
        files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap()["fate"]
            .clone()
    };
    assert_eq!(fate("broken.jpg"), "unmatched");
    assert_eq!(fate("fine.jpg"), "written");
    let orphan = &report["orphaned_metadata"][0];
    assert!(
        orphan["reason"].as_str().unwrap().starts_with("Invalid JSON"),
        "{orphan}"
    );
    assert!(run.stderr().contains("void.jpg"), "{}", run.stderr());
}

#[test]
fn one_failing_export_does_not_stop_the_others() {
    let env = TestEnv::new();
    env.write("exports/google-eve-20250101/Google Photos/A/a.jpg", &jpeg(5));
    env.json(
        "exports/google-eve-20250101/Google Photos/A/a.jpg.json",
        &sidecar("a.jpg"),
    );
    env.write("exports/random-stuff/readme.txt", b"nothing to see");
    let run = env.run(&["--originals", "exports", "-o", "lib"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("No processors matched input directory"),
        "{}",
        run.stderr()
    );
    assert!(env
        .path("lib/google-eve-20250101/photos/gphotos-eve-20200101.jpg")
        .exists());
    assert!(run
        .stderr()
        .contains("Total: 1 succeeded, 1 failed out of 2 export(s)"));
}

#[test]
fn ctrl_c_finishes_files_in_progress_and_exits_130() {
    let env = TestEnv::new();
    let photo = jpeg(9);
    for i in 0..800 {
        // Distinct sizes (a comment segment of growing length): no
        // hashing, straight to writing.
        let mut bytes = photo[..2].to_vec();
        bytes.extend([0xFF, 0xFE]);
        bytes.extend(((i + 2) as u16).to_be_bytes());
        bytes.extend(std::iter::repeat_n(b'x', i));
        bytes.extend(&photo[2..]);
        env.write(&format!("{ALBUM}/p{i:03}.jpg"), &bytes);
        env.json(
            &format!("{ALBUM}/p{i:03}.jpg.json"),
            &sidecar(&format!("p{i:03}.jpg")),
        );
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_memoria"))
        .args(["google-dan-20250101", "-o", "out", "-q", "--timezone", "UTC"])
        .current_dir(env.dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Interrupt as soon as the first output appears.
    let photos = env.path("out/photos");
    while !photos.exists() {
        assert!(child.try_wait().unwrap().is_none(), "finished before Ctrl-C");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "interrupted");
    let counts = &report["processors"][0]["counts"];
    let written = counts["written"].as_u64().unwrap();
    assert!(written < 800, "stopped early");
    assert_eq!(written + counts["skipped"].as_u64().unwrap(), 800);
    let names = env.tree("out/photos");
    assert_eq!(names.len() as u64, written, "no temporary or partial files");
    for name in names {
        let bytes = std::fs::read(photos.join(&name)).unwrap();
        assert_eq!(&bytes[bytes.len() - 2..], [0xFF, 0xD9], "{name} complete");
    }
}
