//! End-to-end benchmark: memoria on a generated takeout against plain
//! copies of the same files, measured in the same run.
//!
//! Run with `cargo bench --bench takeout` (add `-- --quick` for a smaller
//! tree, `-- --keep DIR` to generate into DIR and leave it for profiling).
//! It prints wall times, their ratio and memoria's peak RSS.
//! Sizes: 300 twelve-megapixel JPEGs and four 50 MB videos (quick: 40 and
//! one), then one 200 MB video alone against `std::fs::copy`.

#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::twelve_megapixel_jpeg;
use common::{clear, inflate_mp4, median, run, small_mp4, time, ROUNDS};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let keep = args.iter().position(|a| a == "--keep").map(|i| &args[i + 1]);
    let (photos, videos) = if quick { (40, 1) } else { (300, 4) };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = keep.map_or(dir.path(), Path::new);
    println!("generating {photos} 12 MP JPEGs and {videos} 50 MB videos …");
    let album = root.join("exports/google-bench-20250101/Google Photos/Album");
    let year = album.with_file_name("Photos from 2020");
    std::fs::create_dir_all(&album).expect("album folder");
    std::fs::create_dir_all(&year).expect("year folder");
    let base = twelve_megapixel_jpeg();
    for i in 0..photos {
        let name = format!("IMG_{i:04}.jpg");
        let bytes = variant(&base, i);
        std::fs::write(album.join(&name), &bytes).expect("photo");
        sidecar(&album, &name, 1_600_000_000 + i as i64 * 60);
        // Every tenth photo also sits in the year folder, as in real
        // takeouts: a duplicate that must be hashed and merged.
        if i % 10 == 0 {
            std::fs::write(year.join(&name), &bytes).expect("photo");
            sidecar(&year, &name, 1_600_000_000 + i as i64 * 60);
        }
    }
    let clip = small_mp4(root);
    for i in 0..videos {
        let name = format!("VID_{i:04}.mp4");
        inflate_mp4(&clip, &album.join(&name), 50 << 20, i as u8);
        sidecar(&album, &name, 1_600_100_000 + i as i64 * 60);
    }

    let exports = root.join("exports");
    let copy_to = root.join("copy");
    let library = root.join("library");
    let (memoria, copy, rss) = alternate(
        || {
            time(|| {
                run(Command::new("cp").arg("-r").arg(&exports).arg(&copy_to))
            })
        },
        &copy_to,
        &exports,
        &library,
    );
    report("takeout", memoria, copy, rss);
    floor("takeout", &exports, copy);

    let single = root.join("single/google-bench-20250101/Google Photos/Album");
    std::fs::create_dir_all(&single).expect("folder");
    inflate_mp4(&clip, &single.join("big.mp4"), 200 << 20, 9);
    sidecar(&single, "big.mp4", 1_600_200_000);
    let big_copy = root.join("big-copy.mp4");
    let (memoria, copy, rss) = alternate(
        || {
            time(|| {
                std::fs::copy(single.join("big.mp4"), &big_copy).expect("copy");
            })
        },
        &big_copy,
        &root.join("single"),
        &root.join("single-out"),
    );
    report("200 MB MP4", memoria, copy, rss);
    floor("200 MB MP4", &root.join("single"), copy);
}

/// Prints the time to read every file under `dir` and SHA-1 it, the work
/// memoria cannot skip (the digest of each written file goes into
/// `report.json` and the upload check) and a copy in the kernel never
/// does: the floor under memoria's ratio.
fn floor(what: &str, dir: &Path, copy: Duration) {
    use sha1::Digest;
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let mut buf = vec![0u8; 1 << 20];
    let mut hash_all = || {
        for file in &files {
            let mut input = std::fs::File::open(file).expect("open");
            let mut hasher = sha1::Sha1::new();
            loop {
                let n =
                    std::io::Read::read(&mut input, &mut buf).expect("read");
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            std::hint::black_box(hasher.finalize());
        }
    };
    let took = median((0..ROUNDS).map(|_| time(&mut hash_all)).collect());
    println!(
        "{what}: read + SHA-1 alone {:.2} s, {:.2}× the copy",
        took.as_secs_f64(),
        took.as_secs_f64() / copy.as_secs_f64()
    );
}

/// Runs the copy and memoria alternately [`ROUNDS`] times, each into a
/// fresh destination after flushing earlier output to disk (`sync`, not
/// timed) so that neither side pays for the other's write-back. Returns
/// the median times of memoria and the copy and memoria's largest RSS.
fn alternate(
    mut copy: impl FnMut() -> Duration,
    copy_out: &Path,
    exports: &Path,
    out: &Path,
) -> (Duration, Duration, u64) {
    let (mut ours, mut theirs, mut peak) = (Vec::new(), Vec::new(), 0);
    for _ in 0..ROUNDS {
        clear(copy_out);
        theirs.push(copy());
        clear(out);
        let (took, rss) = measure_memoria(exports, out);
        ours.push(took);
        peak = peak.max(rss);
    }
    (median(ours), median(theirs), peak)
}

/// Runs memoria on `exports` and returns its wall time and peak RSS (kB).
fn measure_memoria(exports: &Path, out: &Path) -> (Duration, u64) {
    common::measured(
        Command::new(env!("CARGO_BIN_EXE_memoria"))
            .arg("--originals")
            .arg(exports)
            .arg("-o")
            .arg(out)
            .args(["-q", "--timezone", "UTC"]),
    )
}

fn report(what: &str, memoria: Duration, copy: Duration, rss_kb: u64) {
    println!(
        "{what}: memoria {:.2} s, copy {:.2} s, ratio {:.2}, peak RSS {} MB",
        memoria.as_secs_f64(),
        copy.as_secs_f64(),
        memoria.as_secs_f64() / copy.as_secs_f64(),
        rss_kb / 1024
    );
}

fn sidecar(dir: &Path, name: &str, at: i64) {
    let json = format!(
        "{{\"title\": \"{name}\", \"photoTakenTime\": {{\"timestamp\": \
         \"{at}\"}}, \"geoData\": {{\"latitude\": 48.8584, \
         \"longitude\": 2.2945, \"altitude\": 35.0}}}}"
    );
    std::fs::write(dir.join(format!("{name}.json")), json).expect("sidecar");
}

/// Returns the JPEG with a COM segment holding `i`, so each file differs
/// in content and, like real photos, mostly in size.
fn variant(base: &[u8], i: usize) -> Vec<u8> {
    let text = format!("bench {i:08} {}", "x".repeat(i % 97));
    let mut out = Vec::with_capacity(base.len() + 32);
    out.extend_from_slice(&base[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&base[2..]);
    out
}
