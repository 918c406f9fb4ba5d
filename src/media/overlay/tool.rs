//! Runs ffmpeg and ffprobe as child processes with a time limit
//! (metadata.md §11.3: 300 s per run), capturing their output.
//!
//! Both pipes are drained on threads so a chatty child never blocks; a
//! child past its limit is killed and reaped.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Time limit of each ffmpeg or ffprobe run (metadata.md §11.3).
pub(super) const LIMIT: Duration = Duration::from_secs(300);

/// Time limit of the `-version` probe (metadata.md §11.5).
const VERSION_LIMIT: Duration = Duration::from_secs(30);

/// How often a running child is polled.
const POLL: Duration = Duration::from_millis(10);

/// Returns true when `program -version` runs and exits with success.
pub(super) fn answers_version(program: &str) -> bool {
    run(program, &["-version"], VERSION_LIMIT).is_ok()
}

/// Runs `program` with `args` and returns its standard output.
///
/// Errors: the program cannot be started, it runs longer than `limit`
/// (it is killed), or it exits with failure; the message then carries
/// the last line it wrote to standard error.
pub(super) fn run<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    limit: Duration,
) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failed to run {program}: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, limit);
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    match status {
        Ok(status) if status.success() => Ok(stdout),
        Ok(status) => {
            let why = last_line(&stderr).unwrap_or_else(|| status.to_string());
            Err(format!("{program} failed: {why}"))
        }
        Err(why) => Err(format!("{program} {why}")),
    }
}

/// Reads a pipe to its end on a thread.
fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
) -> Option<JoinHandle<Vec<u8>>> {
    let mut pipe = pipe?;
    Some(thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    }))
}

/// Returns what a drain thread read.
fn collect(handle: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// Waits for `child` up to `limit`; kills and reaps it when exceeded.
fn wait(child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => return Err(format!("could not be waited for: {e}")),
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {} s", limit.as_secs_f64()));
        }
        thread::sleep(POLL);
    }
}

/// Returns the last non-blank line of `stderr`, trimmed.
fn last_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    Some(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_last_error_line_are_captured() {
        let out = run("sh", &["-c", "echo hello"], LIMIT).unwrap();
        assert_eq!(out, b"hello\n");
        let script = "echo first >&2; echo 'last line' >&2; echo >&2; exit 3";
        let err = run("sh", &["-c", script], LIMIT).unwrap_err();
        assert_eq!(err, "sh failed: last line");
        let err = run("sh", &["-c", "exit 4"], LIMIT).unwrap_err();
        assert!(err.starts_with("sh failed: exit status: 4"), "{err}");
    }

    #[test]
    fn missing_program_is_an_error() {
        let err =
            run("memoria-no-such-tool", &["-version"], LIMIT).unwrap_err();
        assert!(err.starts_with("failed to run memoria-no-such-tool"), "{err}");
        assert!(!answers_version("memoria-no-such-tool"));
    }

    #[test]
    fn child_past_its_limit_is_killed() {
        let start = Instant::now();
        let limit = Duration::from_millis(200);
        // `exec` makes `sleep` the child itself, as ffmpeg is.
        let err = run("sh", &["-c", "exec sleep 20"], limit).unwrap_err();
        assert_eq!(err, "sh timed out after 0.2 s");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
