//! Helpers shared by the benchmarks: generated media, timing with
//! medians, and flushing output between runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Rounds of (copy, memoria); the medians count.
pub const ROUNDS: usize = 5;

/// Removes `path` (file or folder) and flushes pending writes.
pub fn clear(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
    run(&mut Command::new("sync"));
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

pub fn run(cmd: &mut Command) {
    assert!(cmd.status().expect("command runs").success());
}

/// Encodes one 4000×3000 JPEG with a gradient.
pub fn twelve_megapixel_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).expect("encode");
    out.into_inner()
}

/// Makes a small moov-last MP4 with ffmpeg.
pub fn small_mp4(root: &Path) -> PathBuf {
    let path = root.join("clip.mp4");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=25")
        .args(["-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(["-map_metadata", "-1", "-fflags", "+bitexact"])
        .arg(&path));
    path
}

/// Writes `clip` with its `mdat` payload grown to about `size` bytes.
/// Bytes appended after the last sample are never referenced by the chunk
/// offsets, so the file stays valid.
pub fn inflate_mp4(clip: &Path, dest: &Path, size: usize, seed: u8) {
    let bytes = std::fs::read(clip).expect("clip");
    let mut out = Vec::with_capacity(size + bytes.len());
    let mut pos = 0;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().expect("4"))
            as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let body = &bytes[pos..pos + len];
        if kind == b"mdat" {
            let grown = len + size;
            out.extend_from_slice(&(grown as u32).to_be_bytes());
            out.extend_from_slice(&body[4..]);
            out.extend((0..size).map(|i| (i as u8).wrapping_mul(31) ^ seed));
        } else {
            out.extend_from_slice(body);
        }
        pos += len;
    }
    std::fs::write(dest, out).expect("video");
}

/// Runs `cmd` to completion (it must succeed) and returns its wall time
/// and peak resident memory in kB, polled from `/proc/<pid>/status`
/// (`VmHWM` only grows, so the last reading is the peak).
pub fn measured(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = cmd.spawn().expect("memoria starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak = peak.max(vm_hwm(&text));
        }
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "memoria succeeded");
            return (start.elapsed(), peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Returns the `VmHWM` value (kB) of a `/proc/<pid>/status` text.
fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
