//! The SHA-1 of an output file, computed while it is written.
//!
//! Hashing costs more than writing: SHA-1 runs at about 2 GB/s with the
//! CPU's SHA instructions, while the kernel takes a page-cache write at
//! twice that. A file larger than one buffer is therefore hashed on a
//! helper thread, buffer by buffer in order, while the writer fills and
//! writes the next buffers; smaller files are hashed on the writing
//! thread. At most [`QUEUED`] buffers wait for the helper, so memory stays
//! bounded and a slow hash holds the writer back.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha1::{Digest, Sha1};

/// Size of the buffers handed to the hasher.
pub(crate) const BUFFER: usize = 1 << 20;
/// Buffers that may wait for the helper thread.
const QUEUED: usize = 2;

/// A running SHA-1 over the buffers fed to it.
pub(crate) struct Sha1Stream {
    state: State,
}

/// Where the hashing happens.
enum State {
    /// On the writing thread (nothing larger than one buffer yet, or no
    /// thread could be started).
    Inline(Sha1),
    /// On a helper thread that sends each buffer back once hashed.
    Piped {
        to: SyncSender<Vec<u8>>,
        back: Receiver<Vec<u8>>,
        worker: JoinHandle<Sha1>,
    },
    /// The helper thread went away; the digest cannot be known.
    Broken,
}

impl Sha1Stream {
    /// Returns a stream that has hashed nothing.
    pub(crate) fn new() -> Sha1Stream {
        Sha1Stream { state: State::Inline(Sha1::new()) }
    }

    /// Hashes `buf`, the next bytes of the file, and returns an empty
    /// buffer to fill next (a recycled one when the helper has one).
    /// `more` says whether more bytes may follow: the helper thread is
    /// only started for a file that does not fit one buffer.
    pub(crate) fn feed(&mut self, buf: Vec<u8>, more: bool) -> Vec<u8> {
        if let State::Inline(hasher) = &mut self.state {
            if !more || buf.len() < BUFFER {
                hasher.update(&buf);
                return recycle(buf);
            }
            self.start();
        }
        match &mut self.state {
            State::Inline(hasher) => {
                hasher.update(&buf);
                recycle(buf)
            }
            State::Piped { to, back, .. } => {
                let spare = back.try_recv().ok();
                if to.send(buf).is_err() {
                    self.state = State::Broken;
                }
                spare.map_or_else(|| Vec::with_capacity(BUFFER), recycle)
            }
            State::Broken => recycle(buf),
        }
    }

    /// Waits for every fed buffer to be hashed and returns the digest in
    /// lower-case hex.
    pub(crate) fn finish(self) -> io::Result<String> {
        let hasher = match self.state {
            State::Inline(hasher) => hasher,
            State::Piped { to, worker, .. } => {
                drop(to);
                worker.join().map_err(|_| broken())?
            }
            State::Broken => return Err(broken()),
        };
        let digest = hasher.finalize();
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Moves the hashing to a helper thread, carrying over what was
    /// hashed so far; stays inline when no thread can be started.
    fn start(&mut self) {
        let State::Inline(hasher) = &self.state else { return };
        let mut hasher = hasher.clone();
        let (to, from) = mpsc::sync_channel::<Vec<u8>>(QUEUED);
        let (give_back, back) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("memoria-sha1".into())
            .spawn(move || {
                for buf in from {
                    hasher.update(&buf);
                    // The writer may be gone already; the buffer is then
                    // simply freed.
                    let _ = give_back.send(buf);
                }
                hasher
            });
        if let Ok(worker) = spawned {
            self.state = State::Piped { to, back, worker };
        }
    }
}

/// Returns `buf` emptied, keeping its allocation.
fn recycle(mut buf: Vec<u8>) -> Vec<u8> {
    buf.clear();
    buf
}

/// The error of a helper thread that stopped before the end.
fn broken() -> io::Error {
    io::Error::other("the SHA-1 thread stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` in buffers of `BUFFER` bytes, as a file would be.
    fn digest_of(data: &[u8]) -> String {
        let mut stream = Sha1Stream::new();
        let mut chunks = data.chunks(BUFFER).peekable();
        while let Some(chunk) = chunks.next() {
            let more = chunks.peek().is_some();
            let mut buf = Vec::with_capacity(BUFFER);
            buf.extend_from_slice(chunk);
            let spare = stream.feed(buf, more);
            assert!(spare.is_empty());
        }
        stream.finish().unwrap()
    }

    fn reference(data: &[u8]) -> String {
        let digest = Sha1::digest(data);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn small_and_large_streams_hash_like_one_call() {
        // SHA-1("abc") from FIPS 180-2 appendix A.1.
        assert_eq!(
            digest_of(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(digest_of(b""), reference(b""));
        for len in [BUFFER - 1, BUFFER, BUFFER + 1, 5 * BUFFER + 12345] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(digest_of(&data), reference(&data), "{len} bytes");
        }
    }

    #[test]
    fn buffers_are_hashed_in_order() {
        // Distinct buffers: swapping any two would change the digest.
        let data: Vec<u8> =
            (0..8 * BUFFER).map(|i| (i / BUFFER) as u8 ^ (i as u8)).collect();
        assert_eq!(digest_of(&data), reference(&data));
    }
}
