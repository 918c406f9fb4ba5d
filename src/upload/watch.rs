//! Time limits of Immich requests (upload.md §5.2) and the stall watch
//! of uploads.
//!
//! JSON calls have a total limit (60 s). An upload has none, since a
//! large file may take far longer than any fixed limit, but it fails when
//! no bytes move for 5 minutes: every read of the request body marks
//! progress on a [`Watch`], and the uploader gives the attempt up when the
//! watch has been idle that long, whether the body is still being sent or
//! the answer is awaited.
//!
//! Internal, for tests only: `MEMORIA_INTERNAL_IMMICH_TIMEOUTS_MS` set to
//! `<json>,<stall>` (milliseconds) replaces both limits, so that tests of
//! stalled requests take seconds instead of minutes. It is not a user
//! setting and is not documented in `cli.md`.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The internal override of [`Limits`] (see the module docs).
const OVERRIDE: &str = "MEMORIA_INTERNAL_IMMICH_TIMEOUTS_MS";

/// The time limits of upload.md §5.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Limits {
    /// Connecting to the server.
    pub(super) connect: Duration,
    /// A whole JSON request, answer included.
    pub(super) json: Duration,
    /// An upload in which no bytes move.
    pub(super) stall: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect: Duration::from_secs(30),
            json: Duration::from_secs(60),
            stall: Duration::from_secs(300),
        }
    }
}

impl Limits {
    /// Returns the limits, with the internal test override applied.
    pub(super) fn from_env() -> Limits {
        let text = std::env::var(OVERRIDE).unwrap_or_default();
        let limits = Limits::default();
        if text.is_empty() {
            return limits;
        }
        match parse(&text) {
            Some((json, stall)) => Limits { json, stall, ..limits },
            None => {
                log::warn!("ignoring {OVERRIDE}={text:?}: expected <ms>,<ms>");
                limits
            }
        }
    }

    /// Returns how often an upload checks its watch: a quarter of the
    /// stall limit, between 10 ms and 1 s.
    pub(super) fn tick(&self) -> Duration {
        (self.stall / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// Parses `<json>,<stall>` in milliseconds; both must be positive.
fn parse(text: &str) -> Option<(Duration, Duration)> {
    let (json, stall) = text.split_once(',')?;
    let ms = |s: &str| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .map(Duration::from_millis)
    };
    Some((ms(json)?, ms(stall)?))
}

/// Formats a limit for messages: `300 s`, `0.5 s`.
pub(super) fn seconds(limit: Duration) -> String {
    format!("{} s", limit.as_secs_f64())
}

/// The progress of one upload attempt: when bytes last moved, and
/// whether the attempt was given up.
#[derive(Debug)]
pub(super) struct Watch {
    start: Instant,
    /// Milliseconds after `start` of the last progress.
    last: AtomicU64,
    abandoned: AtomicBool,
}

impl Watch {
    /// Returns a watch whose idle time starts now.
    pub(super) fn new() -> Arc<Watch> {
        Arc::new(Watch {
            start: Instant::now(),
            last: AtomicU64::new(0),
            abandoned: AtomicBool::new(false),
        })
    }

    /// Marks progress now.
    fn moved(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis());
        self.last.store(now.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Returns how long no bytes moved.
    pub(super) fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Gives the attempt up: the body fails on its next read, which ends
    /// the request if it is still being sent.
    pub(super) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// Returns true once the attempt was given up.
    fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// A request body reader that marks progress on its [`Watch`] and fails
/// once the attempt was given up.
pub(super) struct Watched<R> {
    inner: R,
    watch: Arc<Watch>,
}

impl<R> Watched<R> {
    /// Wraps `inner`.
    pub(super) fn new(inner: R, watch: &Arc<Watch>) -> Watched<R> {
        Watched { inner, watch: Arc::clone(watch) }
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.watch.is_abandoned() {
            return Err(io::Error::other("upload given up (stalled)"));
        }
        let n = self.inner.read(buf)?;
        self.watch.moved();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_reads_two_millisecond_values() {
        let ms = Duration::from_millis;
        assert_eq!(parse("1500,250"), Some((ms(1500), ms(250))));
        assert_eq!(parse(" 10 , 20 "), Some((ms(10), ms(20))));
        for bad in ["", "100", "0,100", "a,1", "1,2,3"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(seconds(Duration::from_secs(300)), "300 s");
        assert_eq!(seconds(ms(500)), "0.5 s");
        let limits = Limits { stall: ms(200), ..Limits::default() };
        assert_eq!(limits.tick(), ms(50));
        assert_eq!(Limits::default().tick(), Duration::from_secs(1));
    }

    #[test]
    fn reads_mark_progress_until_the_attempt_is_given_up() {
        let watch = Watch::new();
        std::thread::sleep(Duration::from_millis(30));
        assert!(watch.idle() >= Duration::from_millis(30));
        let mut body = Watched::new(&b"abc"[..], &watch);
        let mut buf = [0; 2];
        assert_eq!(body.read(&mut buf).unwrap(), 2);
        assert!(watch.idle() < Duration::from_millis(30));
        watch.abandon();
        assert!(body.read(&mut buf).is_err());
    }
}
