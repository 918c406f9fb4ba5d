//! Why one download attempt failed, and the retry schedule of downloads
//! (platforms.md §9b.5): up to four attempts, 2, 5 and 10 s apart; a
//! `Retry-After` answer replaces the wait, capped at 60 s.
//!
//! The sleep is injected so that tests record the waits instead of
//! waiting.

use std::time::Duration;

/// The waits after the first, second and third failed attempt.
pub(super) const DELAYS: [Duration; 3] =
    [Duration::from_secs(2), Duration::from_secs(5), Duration::from_secs(10)];

/// Longest wait a `Retry-After` header may ask for.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The class of a failed attempt, which decides what follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// HTTP 401, 403, 404 or 410: the link was refused (expired?).
    Refused,
    /// HTTP 429 or 5xx: the server is busy; retried, and the POST link
    /// is tried after a GET link that stayed busy.
    Busy,
    /// A connection error, a timeout, unexpected content or an
    /// unreadable ZIP; retried.
    Transient,
    /// Anything else: fails at once.
    Fatal,
}

/// A failed attempt: a one-line error, its class and the server's
/// `Retry-After`.
#[derive(Debug)]
pub(super) struct Miss {
    /// What went wrong, on one line.
    pub(super) error: String,
    /// What follows the failure.
    pub(super) kind: Kind,
    /// The wait the server asked for, when it sent one.
    pub(super) wait: Option<Duration>,
}

impl Miss {
    /// Returns a miss of `kind` without a `Retry-After` wait.
    pub(super) fn new(kind: Kind, error: impl Into<String>) -> Miss {
        Miss { error: one_line(&error.into()), kind, wait: None }
    }

    /// Returns true when another attempt may follow.
    pub(super) fn is_retryable(&self) -> bool {
        matches!(self.kind, Kind::Busy | Kind::Transient)
    }
}

/// Runs `once` until it succeeds, fails for good, used its four
/// attempts or the run was interrupted, calling `sleep` between attempts;
/// `what` names the download in trace logs.
pub(super) fn run<T>(
    sleep: &dyn Fn(Duration),
    what: &str,
    mut once: impl FnMut() -> Result<T, Miss>,
) -> Result<T, Miss> {
    let mut delays = DELAYS.iter();
    loop {
        let miss = match once() {
            Ok(value) => return Ok(value),
            Err(miss) => miss,
        };
        // After Ctrl-C no new attempt starts (cli.md §8.4).
        let retry = miss.is_retryable() && !crate::engine::is_interrupted();
        let next = delays.next().filter(|_| retry);
        let Some(&delay) = next else { return Err(miss) };
        let wait = miss.wait.map_or(delay, |w| w.min(RETRY_AFTER_CAP));
        log::trace!(
            "{what}: {}; retrying in {} ms",
            miss.error,
            wait.as_millis()
        );
        sleep(wait);
    }
}

/// Joins the lines of `text` so that every error fits on one line.
fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// Runs a download whose attempts fail with `misses` in turn (then
    /// succeed) and returns the result and the waits slept.
    fn schedule(
        misses: Vec<Miss>,
    ) -> (Result<usize, Miss>, Vec<Duration>, usize) {
        let waits = RefCell::new(Vec::new());
        let calls = Cell::new(0);
        let mut misses = misses.into_iter();
        let result = run(&|d| waits.borrow_mut().push(d), "t", || {
            calls.set(calls.get() + 1);
            misses.next().map_or(Ok(calls.get()), Err)
        });
        (result, waits.into_inner(), calls.get())
    }

    fn busy(wait: Option<u64>) -> Miss {
        let mut miss = Miss::new(Kind::Busy, "HTTP 503");
        miss.wait = wait.map(Duration::from_secs);
        miss
    }

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|&s| Duration::from_secs(s)).collect()
    }

    #[test]
    fn retries_after_two_five_and_ten_seconds() {
        let misses = (0..4).map(|_| busy(None)).collect();
        let (result, waits, calls) = schedule(misses);
        assert_eq!(result.map_err(|m| m.error), Err("HTTP 503".into()));
        assert_eq!(waits, secs(&[2, 5, 10]));
        assert_eq!(calls, 4);
    }

    #[test]
    fn succeeds_on_a_later_attempt() {
        let misses = vec![Miss::new(Kind::Transient, "unexpected content")];
        let (result, waits, calls) = schedule(misses);
        assert_eq!(result.ok(), Some(2));
        assert_eq!(waits, secs(&[2]));
        assert_eq!(calls, 2);
    }

    #[test]
    fn retry_after_replaces_the_wait_up_to_a_minute() {
        let misses = vec![busy(Some(7)), busy(None), busy(Some(3600))];
        let (result, waits, _) = schedule(misses);
        assert_eq!(result.ok(), Some(4));
        assert_eq!(waits, secs(&[7, 5, 60]));
    }

    #[test]
    fn refused_and_fatal_misses_are_not_retried() {
        for kind in [Kind::Refused, Kind::Fatal] {
            let (result, waits, calls) = schedule(vec![Miss::new(kind, "x")]);
            assert_eq!(result.map_err(|m| m.kind).err(), Some(kind));
            assert!(waits.is_empty());
            assert_eq!(calls, 1);
        }
    }

    #[test]
    fn errors_are_one_line() {
        let miss = Miss::new(Kind::Fatal, "a\nb\r\n  c\n");
        assert_eq!(miss.error, "a b c");
        assert_eq!(Miss::new(Kind::Fatal, "plain").error, "plain");
    }
}
