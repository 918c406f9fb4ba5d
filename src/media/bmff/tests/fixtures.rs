//! Test fixtures: small videos made with ffmpeg, runners for ffmpeg and
//! exiftool, a builder for synthetic BMFF files, and virtual files that
//! stand in for multi-gigabyte media without touching the disk.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tempfile::TempDir;

/// The ffmpeg-made test videos.
#[derive(Clone, Copy, Debug)]
pub(super) enum Video {
    /// MP4, `mdat` before `moov`, all header times zero.
    MoovLast,
    /// MP4 with `+faststart`: `moov` before `mdat`, times zero.
    MoovFirst,
    /// QuickTime `.mov` (brand `qt  `), times zero.
    Mov,
    /// MP4 with header times 2019-05-06T07:08:09Z.
    WithTimes,
    /// `.mov` with times and a `udta/©cmt` text comment `hello`.
    MovComment,
}

impl Video {
    /// Returns the file extension ffmpeg picks the muxer from.
    pub(super) fn ext(self) -> &'static str {
        match self {
            Video::Mov | Video::MovComment => "mov",
            _ => "mp4",
        }
    }

    fn args(self) -> Vec<&'static str> {
        let zero = ["-map_metadata", "-1", "-fflags", "+bitexact"];
        match self {
            Video::MoovLast | Video::Mov => zero.to_vec(),
            Video::MoovFirst => {
                [&zero[..], &["-movflags", "+faststart"]].concat()
            }
            Video::WithTimes => {
                vec!["-metadata", "creation_time=2019-05-06T07:08:09Z"]
            }
            Video::MovComment => vec![
                "-metadata",
                "creation_time=2019-05-06T07:08:09Z",
                "-metadata",
                "comment=hello",
            ],
        }
    }
}

/// Returns the bytes of `video`, made once per test run.
pub(super) fn video(video: Video) -> Vec<u8> {
    static CACHE: [OnceLock<Vec<u8>>; 5] = [const { OnceLock::new() }; 5];
    CACHE[video as usize].get_or_init(|| make(video)).clone()
}

fn make(video: Video) -> Vec<u8> {
    let path = scratch().join(format!("{video:?}.{}", video.ext()));
    let mut args = vec!["-v", "error", "-y", "-f", "lavfi", "-i"];
    args.extend(["testsrc=size=64x48:rate=10", "-f", "lavfi", "-i", "sine"]);
    args.extend(["-t", "1", "-c:v", "libx264", "-c:a", "aac"]);
    args.extend(["-pix_fmt", "yuv420p"]);
    args.extend(video.args());
    let out = tool("ffmpeg", &args, &path);
    assert!(out.status.success(), "ffmpeg failed: {out:?}");
    std::fs::read(&path).expect("read ffmpeg output")
}

/// Returns the shared scratch folder for tool inputs and outputs.
fn scratch() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().expect("create temp dir")).path()
}

/// Writes `bytes` to a fresh scratch file with extension `ext`.
pub(super) fn write_temp(bytes: &[u8], ext: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = scratch().join(format!("t{n}.{ext}"));
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

/// Runs `name` with `args` and a final path argument; panics with a
/// clear message when the tool is not installed.
fn tool(name: &str, args: &[&str], path: &Path) -> std::process::Output {
    let result = Command::new(name).args(args).arg(path).output();
    match result {
        Ok(out) => out,
        Err(err) => panic!("{name} is required by these tests: {err}"),
    }
}

/// Returns exiftool's `-j -n -G1` tags of `bytes` as a JSON object.
pub(super) fn exiftool(bytes: &[u8], ext: &str) -> serde_json::Value {
    let path = write_temp(bytes, ext);
    let out = tool("exiftool", &["-j", "-n", "-G1"], &path);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exiftool prints json");
    json.get(0).cloned().expect("exiftool prints one object")
}

/// Returns what `ffmpeg -v error -i f -f null -` prints (empty when the
/// file decodes cleanly).
pub(super) fn decode_errors(bytes: &[u8], ext: &str) -> String {
    let path = write_temp(bytes, ext);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg is required by these tests");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// Returns the md5 of the decoded streams of `bytes`.
pub(super) fn decoded_md5(bytes: &[u8], ext: &str) -> String {
    let path = write_temp(bytes, ext);
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

/// Returns a box with a 32-bit size.
pub(super) fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(payload.len() + 8).expect("small box");
    [&size.to_be_bytes()[..], kind, payload].concat()
}

/// Returns a full box (version, zero flags) with a 32-bit size.
pub(super) fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], body].concat())
}

/// Returns a synthetic `moov` with one track: `mvhd` version 1, `tkhd`
/// version 0, `mdhd` version 1, all times zero, and an `stco` holding
/// `offsets`, then the boxes in `extra`.
pub(super) fn synthetic_moov(offsets: &[u32], extra: &[u8]) -> Vec<u8> {
    let mvhd = full(
        b"mvhd",
        1,
        &[&[0; 16][..], &1000u32.to_be_bytes(), &[0; 88]].concat(),
    );
    let tkhd = full(b"tkhd", 0, &[0; 80]);
    let mdhd = full(
        b"mdhd",
        1,
        &[&[0; 16][..], &1000u32.to_be_bytes(), &[0; 12]].concat(),
    );
    let hdlr = full(b"hdlr", 0, &[&[0; 4][..], b"vide", &[0; 13]].concat());
    let count = u32::try_from(offsets.len()).expect("few offsets");
    let entries: Vec<u8> =
        offsets.iter().flat_map(|o| o.to_be_bytes()).collect();
    let stco = full(b"stco", 0, &[&count.to_be_bytes()[..], &entries].concat());
    let stbl = bx(b"stbl", &stco);
    let minf = bx(b"minf", &stbl);
    let mdia = bx(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = bx(b"trak", &[tkhd, mdia].concat());
    bx(b"moov", &[&mvhd, &trak, extra].concat())
}

/// Returns the `ftyp` box used by synthetic files.
pub(super) fn ftyp() -> Vec<u8> {
    bx(b"ftyp", &[&b"isom"[..], &[0, 0, 2, 0], b"isomiso2mp41"].concat())
}

/// A read-only file of `len` bytes whose first bytes are `head`, whose
/// last bytes are `tail` and whose middle is zeros, recording the largest
/// single read.
pub(super) struct VirtualFile {
    head: Vec<u8>,
    tail: Vec<u8>,
    len: u64,
    pos: u64,
    /// Largest buffer a single `read` call asked to fill.
    pub(super) largest_read: usize,
}

impl VirtualFile {
    /// Returns a virtual file of `len` bytes starting with `head`.
    pub(super) fn new(head: Vec<u8>, len: u64) -> VirtualFile {
        VirtualFile::with_tail(head, len, Vec::new())
    }

    /// Returns a virtual file of `len` bytes from `head` to `tail`.
    pub(super) fn with_tail(
        head: Vec<u8>,
        len: u64,
        tail: Vec<u8>,
    ) -> VirtualFile {
        VirtualFile { head, tail, len, pos: 0, largest_read: 0 }
    }

    /// Returns the byte at `at`.
    fn byte(&self, at: u64) -> u8 {
        let tail_start = self.len - self.tail.len() as u64;
        if at >= tail_start {
            self.tail[(at - tail_start) as usize]
        } else {
            self.head.get(at as usize).copied().unwrap_or(0)
        }
    }
}

impl Read for VirtualFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.largest_read = self.largest_read.max(buf.len());
        let left = self.len.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let buf = &mut buf[..n];
        let (start, end) = (self.pos, self.pos + n as u64);
        let tail_start = self.len - self.tail.len() as u64;
        if start >= self.head.len() as u64 && end <= tail_start {
            buf.fill(0);
        } else {
            for (i, byte) in buf.iter_mut().enumerate() {
                *byte = self.byte(start + i as u64);
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl Seek for VirtualFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::End(d) => self.len.checked_add_signed(d).unwrap(),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).unwrap(),
        };
        Ok(self.pos)
    }
}

/// A sink that keeps the first `keep` bytes written and counts the rest,
/// recording the largest single write.
pub(super) struct CaptureSink {
    keep: usize,
    /// The first bytes written.
    pub(super) head: Vec<u8>,
    /// Every byte written, counted.
    pub(super) total: u64,
    /// Writes after `head` that held a non-zero byte.
    pub(super) nonzero_tail: u64,
    /// Largest buffer passed to a single `write`.
    pub(super) largest_write: usize,
}

impl CaptureSink {
    /// Returns a sink keeping `keep` bytes.
    pub(super) fn new(keep: usize) -> CaptureSink {
        let head = Vec::new();
        CaptureSink { keep, head, total: 0, nonzero_tail: 0, largest_write: 0 }
    }
}

impl Write for CaptureSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.largest_write = self.largest_write.max(buf.len());
        let room = self.keep.saturating_sub(self.head.len()).min(buf.len());
        self.head.extend_from_slice(&buf[..room]);
        let tail = &buf[room..];
        static ZEROS: [u8; 1 << 16] = [0; 1 << 16];
        let zero = tail.len() <= ZEROS.len() && tail == &ZEROS[..tail.len()];
        self.nonzero_tail += u64::from(!zero);
        self.total += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
