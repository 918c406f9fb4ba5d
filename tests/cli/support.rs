//! Test environment: builds exports with real small media files in a temp
//! folder, runs the real binary, and reads outputs back with independent
//! readers (kamadak-exif in-process, exiftool as a separate program).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary folder holding exports and the output root.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// Returns `<tmp>/<rel>`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `bytes` to `<tmp>/<rel>`, creating folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes a JSON value.
    pub fn json(&self, rel: &str, value: &Value) -> PathBuf {
        self.write(rel, serde_json::to_string_pretty(value).unwrap().as_bytes())
    }

    /// Runs memoria with `args` in the temp folder.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_memoria"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("TZ")
            .env("NO_COLOR", "1")
            .output()
            .expect("memoria runs");
        Run { output }
    }

    /// Reads `<tmp>/<rel>` as JSON.
    pub fn read_json(&self, rel: &str) -> Value {
        let text = std::fs::read_to_string(self.path(rel))
            .unwrap_or_else(|e| panic!("reading {rel}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// Returns the sorted file names (relative paths) under `<tmp>/<rel>`.
    pub fn tree(&self, rel: &str) -> Vec<String> {
        let root = self.path(rel);
        let mut out: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        out.sort();
        out
    }

    /// Returns a digest of every file under `<tmp>/<rel>` with its mtime.
    pub fn snapshot(
        &self,
        rel: &str,
    ) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        self.tree(rel)
            .into_iter()
            .map(|name| {
                let path = self.path(rel).join(&name);
                let bytes = std::fs::read(&path).unwrap();
                let mtime =
                    std::fs::metadata(&path).unwrap().modified().unwrap();
                (name, (bytes, mtime))
            })
            .collect()
    }
}

/// The result of one run.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    /// Asserts the exit code, showing stderr on failure.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            code,
            "exit code; stderr:\n{}\nstdout:\n{}",
            self.stderr(),
            self.stdout()
        );
        self
    }
}

/// Encodes a small RGB JPEG whose pixels depend on `seed`, so that
/// different seeds give different bytes.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([seed.wrapping_mul(37), (x * 5) as u8 ^ seed, (y * 7) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Encodes a small PNG.
pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(16, 16, |x, y| {
        image::Rgba([seed, x as u8 * 9, y as u8 * 9, 255])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Returns the path of a required external tool, or panics: CI installs
/// it, so a missing tool is a broken setup, never a reason to skip.
pub fn require(tool: &str) -> &str {
    let found = Command::new(tool).arg("-ver").output().is_ok()
        || Command::new(tool).arg("-version").output().is_ok();
    assert!(
        found,
        "{tool} is required by the tests (apt-get install it; see .ci/run)"
    );
    tool
}

/// Makes a one-second MP4 with ffmpeg (moov first when `faststart`).
pub fn mp4(dir: &Path, name: &str, seed: u8, faststart: bool) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(require("ffmpeg"));
    cmd.args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c=0x{seed:02x}4080:s=64x48:rate=10"))
        .args(["-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(["-map_metadata", "-1", "-fflags", "+bitexact"]);
    if faststart {
        cmd.args(["-movflags", "+faststart"]);
    }
    let status = cmd.arg(&path).status().unwrap();
    assert!(status.success(), "ffmpeg made {name}");
    path
}

/// Adds camera EXIF to a file with exiftool (test fixture creation).
pub fn exiftool_set(path: &Path, args: &[&str]) {
    let status = Command::new(require("exiftool"))
        .args(args)
        .args(["-overwrite_original", "-q"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "exiftool wrote {}", path.display());
}

/// Reads every tag of a file with `exiftool -j -n -G1`.
pub fn exiftool(path: &Path) -> serde_json::Map<String, Value> {
    let out = Command::new(require("exiftool"))
        .args(["-j", "-n", "-G1", "-a"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "exiftool read {}", path.display());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list[0].as_object().cloned().unwrap()
}

/// Reads an ASCII EXIF tag with kamadak-exif.
pub fn exif_text(path: &Path, tag: exif::Tag) -> Option<String> {
    let file = std::fs::File::open(path).unwrap();
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()?;
    let field = exif.get_field(tag, exif::In::PRIMARY)?;
    match &field.value {
        exif::Value::Ascii(v) => {
            Some(String::from_utf8_lossy(v.first()?).into_owned())
        }
        _ => None,
    }
}

/// Reads a signed decimal GPS coordinate with kamadak-exif.
pub fn exif_coord(
    path: &Path,
    tag: exif::Tag,
    ref_tag: exif::Tag,
) -> Option<f64> {
    let file = std::fs::File::open(path).unwrap();
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()?;
    let exif::Value::Rational(v) =
        &exif.get_field(tag, exif::In::PRIMARY)?.value
    else {
        return None;
    };
    let deg = v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0;
    let r =
        exif.get_field(ref_tag, exif::In::PRIMARY)?.display_value().to_string();
    Some(if r.contains('S') || r.contains('W') { -deg } else { deg })
}

/// Returns the modification time of a file as Unix seconds.
pub fn mtime(path: &Path) -> i64 {
    let t = std::fs::metadata(path).unwrap().modified().unwrap();
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}
