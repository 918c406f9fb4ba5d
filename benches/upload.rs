//! Upload benchmark: `memoria --upload-only` against the in-process fake
//! Immich (tests/cli/fake_immich), measuring files per second and peak
//! RSS.
//!
//! Run with `cargo bench --bench upload` (add `-- --quick` for fewer
//! files and a smaller big file). Two runs: a few hundred small photos,
//! then one multi-GB sparse video alone, which must not raise the RSS
//! (target: under 150 MB whatever the file size). A third run repeats
//! the first: every file is then found by the duplicate pre-check.

#[allow(dead_code)]
mod common;
#[allow(unused_imports, clippy::unwrap_used)]
#[path = "../tests/cli/fake_immich/mod.rs"]
mod fake_immich;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fake_immich::{FakeImmich, Gen, KEY};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

const EXPORT: &str = "google-bench-20250101";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (photos, big_gib) = if quick { (100, 1) } else { (300, 4) };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    export(root);
    let small = root.join("small");
    let entries: Vec<Value> = (0..photos)
        .map(|i| photo(&small, &format!("photos/gphotos-bench-{i:04}.jpg"), i))
        .collect();
    report(&small, &entries);
    let big = root.join("big");
    let name = "photos/gphotos-bench-big.mp4";
    std::fs::create_dir_all(big.join("photos")).expect("folder");
    let file = std::fs::File::create(big.join(name)).expect("big file");
    file.set_len(big_gib << 30).expect("sparse file");
    report(&big, &[entry(name, big_gib << 30, None)]);

    let fake = FakeImmich::start(Gen::G3);
    let (took, rss) = upload_only(root, &small, &fake);
    print("small photos", photos, took, rss);
    let (took, rss) = upload_only(root, &big, &fake);
    let rate = (big_gib << 30) as f64 / took.as_secs_f64() / (1 << 20) as f64;
    println!(
        "{big_gib} GiB sparse video: {:.2} s, {rate:.0} MB/s, peak RSS {} MB",
        took.as_secs_f64(),
        rss / 1024
    );
    let (took, rss) = upload_only(root, &small, &fake);
    print("small photos again (all duplicates)", photos, took, rss);
    assert_eq!(fake.assets().len(), photos + 1, "every file once");
    fake.assert_clean();
}

/// A minimal Google Photos export: detection is all upload-only needs.
fn export(root: &Path) {
    let album = root.join(EXPORT).join("Google Photos/Album");
    std::fs::create_dir_all(&album).expect("album");
    std::fs::write(album.join("a.jpg"), b"x").expect("photo");
}

/// Writes a ~200 kB photo-like file and returns its report entry.
fn photo(lib: &Path, rel: &str, i: usize) -> Value {
    let path = lib.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
    let mut bytes = vec![0xffu8, 0xd8];
    let mut x = (i as u64 + 1) * 0x9e37_79b9_7f4a_7c15;
    while bytes.len() < 200_000 + (i % 97) * 1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&path, &bytes).expect("photo");
    let sha1: String =
        Sha1::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    entry(rel, bytes.len() as u64, Some(sha1))
}

fn entry(rel: &str, size: u64, sha1: Option<String>) -> Value {
    json!({"processor": "Google Photos", "input": rel, "fate": "written",
           "output": rel, "sidecar": null, "size": size, "sha1": sha1,
           "date": {"instant": "2021-01-01T09:30:00Z"},
           "albums": ["Google Photos/bench"], "context": {}})
}

fn report(lib: &Path, files: &[Value]) {
    std::fs::create_dir_all(lib).expect("library");
    let doc = json!({"schema": "memoria-report/1", "files": files});
    std::fs::write(lib.join("report.json"), doc.to_string()).expect("report");
}

/// Runs `memoria --upload-only` and returns its wall time and peak RSS
/// in kB.
fn upload_only(cwd: &Path, lib: &Path, fake: &FakeImmich) -> (Duration, u64) {
    common::measured(
        Command::new(env!("CARGO_BIN_EXE_memoria"))
            .current_dir(cwd)
            .arg(EXPORT)
            .arg("--upload-only")
            .arg(lib)
            .arg("-q")
            .env("IMMICH_INSTANCE_URL", fake.url())
            .env("IMMICH_API_KEY", KEY),
    )
}

fn print(what: &str, files: usize, took: Duration, rss_kb: u64) {
    println!(
        "{what}: {files} files in {:.2} s, {:.0} files/s, peak RSS {} MB",
        took.as_secs_f64(),
        files as f64 / took.as_secs_f64(),
        rss_kb / 1024
    );
}
