//! Retries with exponential backoff and jitter (upload.md §5.10).
//!
//! Every request is attempted at most five times, waiting 1, 2, 4 and 8 s
//! plus up to 250 ms of jitter in between; a `Retry-After` answer replaces
//! the wait, capped at 60 s. Ctrl-C stops further attempts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::client::CallError;

/// Attempts per request.
pub(super) const ATTEMPTS: u32 = 5;

/// Longest wait a `Retry-After` header may ask for.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Why one attempt failed, and whether another may follow.
#[derive(Debug)]
pub(super) struct Failure {
    /// What went wrong.
    pub(super) error: CallError,
    /// True for transient failures (connection errors, 408, 429, 5xx).
    pub(super) retry: bool,
    /// The server's `Retry-After`, when it sent one.
    pub(super) wait: Option<Duration>,
}

impl Failure {
    /// Returns a failure that must not be retried.
    pub(super) fn fatal(error: CallError) -> Failure {
        Failure { error, retry: false, wait: None }
    }
}

/// The result of a request after its retries, with the attempts made.
pub(super) struct Attempted<T> {
    pub(super) result: Result<T, CallError>,
    pub(super) attempts: u32,
}

/// Runs `once` until it succeeds, fails for good or used its attempts;
/// `what` names the request in trace logs.
pub(super) fn run<T>(
    what: &str,
    mut once: impl FnMut() -> Result<T, Failure>,
) -> Attempted<T> {
    let mut attempt = 1;
    loop {
        match once() {
            Ok(value) => {
                return Attempted { result: Ok(value), attempts: attempt }
            }
            Err(failure) => {
                let last =
                    attempt >= ATTEMPTS || crate::engine::is_interrupted();
                if !failure.retry || last {
                    return Attempted {
                        result: Err(failure.error),
                        attempts: attempt,
                    };
                }
                let wait = failure.wait.map_or_else(
                    || backoff(attempt),
                    |w| w.min(RETRY_AFTER_CAP),
                );
                log::trace!(
                    "{what}: attempt {attempt} failed ({}); retrying in {} ms",
                    failure.error,
                    wait.as_millis()
                );
                std::thread::sleep(wait);
                attempt += 1;
            }
        }
    }
}

/// Returns the wait after failed attempt `attempt` (1-based): 2^(n−1)
/// seconds plus up to 250 ms of jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1 << (attempt - 1).min(3));
    base + Duration::from_millis(random() % 251)
}

/// Returns a random number; std's `RandomState` is seeded randomly per
/// process and varied per instance, which is enough for jitter.
fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x006d_656d_6f72_6961);
    hasher.finish()
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date.
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let left = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        for (attempt, secs) in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)] {
            let wait = backoff(attempt);
            let base = Duration::from_secs(secs);
            assert!(wait >= base && wait <= base + Duration::from_millis(250));
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
        let zoned = jiff::ZonedDateTime::new(soon, jiff::tz::TimeZone::UTC);
        let text = jiff::fmt::rfc2822::to_string(&zoned).unwrap();
        let got = retry_after(&text).unwrap();
        assert!(
            got > Duration::from_secs(25) && got <= Duration::from_secs(30)
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn fatal_failures_are_not_retried() {
        let mut calls = 0;
        let done = run("t", || -> Result<(), Failure> {
            calls += 1;
            Err(Failure::fatal(CallError::Transport("x".into())))
        });
        assert_eq!((calls, done.attempts), (1, 1));
        let mut calls = 0;
        let done = run("t", || {
            calls += 1;
            if calls < 3 {
                Err(Failure {
                    error: CallError::Transport("x".into()),
                    retry: true,
                    wait: Some(Duration::ZERO),
                })
            } else {
                Ok(calls)
            }
        });
        assert_eq!(done.result.ok(), Some(3));
        assert_eq!(done.attempts, 3);
    }
}
