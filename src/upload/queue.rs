//! The upload queue (upload.md §2): one unbounded channel fed by every
//! export, drained by one uploader thread in arrival order.
//!
//! Export threads hand over jobs through a [`Queue`] handle (the engine
//! knows nothing about HTTP); [`Uploader::finish`] closes the channel once
//! every export is done and waits for the thread.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::job::{Done, Status, Worker};
use super::record::Records;
use super::{Job, Server, Settings};
use crate::report::{Console, UploadCounts};

/// Failure lines printed per job at most (upload.md §6).
const SHOWN_FAILURES: usize = 20;

/// A text log the uploader appends each job's files and results to
/// (the `--upload-only` log).
pub(crate) type Transcript = Box<dyn Write + Send>;

/// The sending side of the upload channel, shared by the export threads.
#[derive(Clone)]
pub(crate) struct Queue {
    sender: Sender<Job>,
    /// Jobs sent and not yet finished.
    pending: Arc<AtomicUsize>,
}

impl Queue {
    /// Hands `job` to the uploader; returns false when it has stopped.
    pub(crate) fn submit(&self, job: Job) -> bool {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.sender.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }
}

/// The running uploader thread and its queue.
pub(crate) struct Uploader {
    handle: JoinHandle<HashMap<String, UploadCounts>>,
    queue: Queue,
}

impl Uploader {
    /// Starts the uploader for `server`.
    pub(crate) fn start(
        server: Server,
        settings: Settings,
        console: Console,
        transcript: Option<Transcript>,
    ) -> std::io::Result<Uploader> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicUsize::new(0));
        let done = Arc::clone(&pending);
        let records = Records::new(&server, settings.bulk_check);
        let worker = Worker {
            bar: console.upload_bar(),
            server,
            settings,
            albums: Default::default(),
            revoked: Arc::new(AtomicBool::new(false)),
        };
        let handle = std::thread::Builder::new()
            .name("memoria-uploader".into())
            .spawn(move || {
                let mut drain = Drain { worker, console, records, transcript };
                drain.all(&receiver, &done)
            })?;
        Ok(Uploader { handle, queue: Queue { sender, pending } })
    }

    /// Returns the handle export threads submit jobs through.
    pub(crate) fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Closes the queue, waits for the remaining jobs without a time
    /// limit and returns the counts per export.
    pub(crate) fn finish(
        self,
        console: &Console,
    ) -> HashMap<String, UploadCounts> {
        let Uploader { handle, queue } = self;
        let pending = queue.pending.load(Ordering::SeqCst);
        // Dropping the last sender ends the uploader's loop once the jobs
        // already sent are done (every export thread has ended by now).
        drop(queue);
        if pending > 0 {
            console.info(
                "All processing complete. Waiting for remaining uploads to \
                 finish...",
            );
        }
        handle.join().unwrap_or_else(|_| {
            log::error!("the uploader stopped unexpectedly");
            HashMap::new()
        })
    }
}

/// The uploader thread's state.
struct Drain {
    worker: Worker,
    console: Console,
    records: Records,
    transcript: Option<Transcript>,
}

impl Drain {
    /// Takes jobs in arrival order until the queue is closed and empty.
    fn all(
        &mut self,
        receiver: &Receiver<Job>,
        pending: &AtomicUsize,
    ) -> HashMap<String, UploadCounts> {
        let mut totals: HashMap<String, UploadCounts> = HashMap::new();
        let mut trashed = 0;
        for job in receiver.iter() {
            crate::report::set_context(&job.export, &job.processor);
            let done = self.one(&job);
            trashed += done.files.iter().filter(|f| f.in_trash).count();
            totals.entry(job.export.clone()).or_default().add(&done.counts());
            pending.fetch_sub(1, Ordering::SeqCst);
        }
        self.worker.bar.finish();
        if trashed > 0 {
            log::warn!(
                "{trashed} file(s) are already on the server but in the \
                 Immich trash; they do not show in their albums until \
                 restored there"
            );
        }
        totals
    }

    /// Uploads one job, prints its lines and records it.
    fn one(&mut self, job: &Job) -> Done {
        self.console.info(&header(job));
        log::info!("upload job started: {} files", job.files.len());
        let done = self.worker.run(job);
        for line in failure_lines(&done) {
            self.console.info(&line);
        }
        self.console.info(&result_line(&done));
        if let Err(err) = self.records.add(job, &done) {
            self.console.line(&format!("ERROR: {err:#}"));
        }
        if let Some(out) = &mut self.transcript {
            let _ = out.write_all(transcript(job, &done).as_bytes());
            let _ = out.flush();
        }
        done
    }
}

/// Returns `[upload] <export> · <processor> → "<album>" (<n> files)`.
fn header(job: &Job) -> String {
    let mut albums: Vec<&str> = Vec::new();
    for album in job.files.iter().flat_map(|f| &f.albums) {
        if !albums.contains(&album.as_str()) {
            albums.push(album);
        }
    }
    let target = match albums.as_slice() {
        [] => "no album".to_string(),
        [one] => format!("\"{one}\""),
        [first, rest @ ..] => {
            format!("\"{first}\" and {} more album(s)", rest.len())
        }
    };
    format!(
        "[upload] {} · {} → {target} ({} files)",
        job.export,
        job.processor,
        job.files.len()
    )
}

/// Returns up to 20 `✗` lines of failed files.
fn failure_lines(done: &Done) -> Vec<String> {
    let failed: Vec<_> =
        done.files.iter().filter(|f| f.status == Status::Failed).collect();
    let mut lines: Vec<String> = failed
        .iter()
        .take(SHOWN_FAILURES)
        .map(|f| {
            let error = f.error.as_deref().unwrap_or("failed");
            format!("[upload]   ✗ {}: {error}", f.file.path)
        })
        .collect();
    if failed.len() > SHOWN_FAILURES {
        lines.push(format!(
            "[upload]   … {} more failure(s) in upload-report.json",
            failed.len() - SHOWN_FAILURES
        ));
    }
    lines
}

/// Returns the result line of a job; duplicates in the user's trash are
/// named (upload.md §5.6).
fn result_line(done: &Done) -> String {
    let c = done.counts();
    let mark = if c.failed > 0 { "✗" } else { "✓" };
    let trashed = done.files.iter().filter(|f| f.in_trash).count();
    let trash = match trashed {
        0 => String::new(),
        n => format!(" ({n} in the Immich trash)"),
    };
    format!(
        "[upload]   {mark} {} uploaded, {} already on server{trash}, {} \
         failed, {} skipped ({} in {})",
        c.uploaded,
        c.duplicate,
        c.failed,
        c.skipped,
        indicatif::HumanBytes(done.bytes),
        clock(done.seconds)
    )
}

/// Formats seconds as `8m12s` or `4.2s`.
fn clock(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else {
        format!("{m}m{s:02}s")
    }
}

/// Returns the transcript of one job: its files and results.
fn transcript(job: &Job, done: &Done) -> String {
    let mut text = format!("{}\n", header(job));
    for file in &done.files {
        let trash = if file.in_trash { "in trash, " } else { "" };
        let detail = match (&file.asset_id, &file.error) {
            (_, Some(err)) => format!(" ({err})"),
            (Some(id), None) => format!(" ({trash}asset {id})"),
            (None, None) => String::new(),
        };
        text.push_str(&format!(
            "  {:<9} {}{detail}\n",
            file.status.as_str(),
            file.file.path
        ));
    }
    text.push_str(&format!("{}\n\n", result_line(done)));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_the_spec() {
        assert_eq!(clock(4.24), "4.2s");
        assert_eq!(clock(492.0), "8m12s");
        assert_eq!(clock(3725.0), "1h02m05s");
    }
}
