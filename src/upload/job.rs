//! Processing one upload job (upload.md §4): drop ignored and unsupported
//! files, pre-check duplicates, upload `concurrency` at a time, file the
//! assets into their albums.
//!
//! Every file ends `uploaded`, `duplicate`, `failed` or `skipped`; one
//! failure never stops the others. A 401 during the run stops all further
//! requests (the key was revoked).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::albums::{self, Albums};
use super::assets::{self, Check, Meter, Stored};
use super::client::CallError;
use super::{File, Job, Server, Settings};
use crate::report::{UploadBar, UploadCounts};

/// How one file ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Uploaded,
    Duplicate,
    Failed,
    Skipped,
}

impl Status {
    /// Returns the name used in `upload-report.json`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Uploaded => "uploaded",
            Status::Duplicate => "duplicate",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The outcome of one file.
#[derive(Clone, Debug)]
pub(super) struct Outcome {
    pub(super) file: File,
    pub(super) status: Status,
    pub(super) asset_id: Option<String>,
    /// Why it failed or was skipped.
    pub(super) error: Option<String>,
    /// Upload attempts made (0 when none was needed).
    pub(super) attempts: u32,
    /// The duplicate sits in the user's trash.
    pub(super) in_trash: bool,
}

impl Outcome {
    fn new(file: File) -> Outcome {
        Outcome {
            file,
            status: Status::Skipped,
            asset_id: None,
            error: None,
            attempts: 0,
            in_trash: false,
        }
    }

    fn end(&mut self, status: Status, error: &str) {
        self.status = status;
        self.error = Some(error.to_string());
    }

    /// Returns true when the file is on the server.
    fn is_stored(&self) -> bool {
        matches!(self.status, Status::Uploaded | Status::Duplicate)
    }
}

/// The outcome of one job.
pub(super) struct Done {
    /// The albums of the job, in first-seen order.
    pub(super) albums: Vec<String>,
    /// Every file kept after the ignore patterns, sorted by path.
    pub(super) files: Vec<Outcome>,
    /// Bytes sent.
    pub(super) bytes: u64,
    /// Wall time.
    pub(super) seconds: f64,
}

impl Done {
    /// Returns the counts of the job.
    pub(super) fn counts(&self) -> UploadCounts {
        let mut counts = UploadCounts::default();
        for file in &self.files {
            match file.status {
                Status::Uploaded => counts.uploaded += 1,
                Status::Duplicate => counts.duplicate += 1,
                Status::Failed => counts.failed += 1,
                Status::Skipped => counts.skipped += 1,
            }
        }
        counts
    }
}

/// The uploader's state across jobs.
pub(super) struct Worker {
    pub(super) server: Server,
    pub(super) settings: Settings,
    pub(super) albums: Albums,
    pub(super) bar: UploadBar,
    /// Set by a 401 during the run: nothing more is sent.
    pub(super) revoked: Arc<AtomicBool>,
}

/// Error of every file left after the key was refused.
const REVOKED: &str = "API key refused";
/// Reason of files left by Ctrl-C.
const INTERRUPTED: &str = "not uploaded (interrupted)";
/// Reason of files whose type the server does not take.
const UNSUPPORTED: &str = "not supported by the server";

impl Worker {
    /// Runs `job` and returns what happened to each of its files.
    pub(super) fn run(&mut self, job: &Job) -> Done {
        let started = Instant::now();
        let mut files: Vec<File> = job
            .files
            .iter()
            .filter(|f| self.settings.ignore.keeps(&f.path))
            .cloned()
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let albums = album_names(&files);
        let mut outcomes: Vec<Outcome> =
            files.into_iter().map(Outcome::new).collect();
        let todo = self.screen(&mut outcomes);
        let bytes: u64 = todo.iter().map(|&i| outcomes[i].file.size).sum();
        self.bar.job(&format!("{} · {}", job.export, job.processor), bytes);
        let todo = self.pre_check(&mut outcomes, todo);
        self.upload_all(&job.out_root, &mut outcomes, &todo);
        self.file_into_albums(&albums, &mut outcomes);
        Done {
            albums,
            files: outcomes,
            bytes,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// Marks files that will not be sent and returns the rest.
    fn screen(&self, outcomes: &mut [Outcome]) -> Vec<usize> {
        let mut todo = Vec::new();
        for (i, outcome) in outcomes.iter_mut().enumerate() {
            if self.revoked.load(Ordering::SeqCst) {
                outcome.end(Status::Failed, REVOKED);
            } else if crate::engine::is_interrupted() {
                outcome.end(Status::Skipped, INTERRUPTED);
            } else if !self.server.accepts(&outcome.file.path) {
                outcome.end(Status::Skipped, UNSUPPORTED);
            } else {
                todo.push(i);
            }
        }
        todo
    }

    /// Runs the duplicate pre-check and returns the files to upload.
    fn pre_check(
        &self,
        outcomes: &mut [Outcome],
        todo: Vec<usize>,
    ) -> Vec<usize> {
        if !self.settings.bulk_check || todo.is_empty() {
            return todo;
        }
        let items: Vec<(String, String)> = todo
            .iter()
            .filter_map(|&i| {
                let file = &outcomes[i].file;
                Some((file.path.clone(), file.sha1.clone()?))
            })
            .collect();
        let verdicts = assets::bulk_check(&self.server.client, &items);
        let mut upload = Vec::new();
        for i in todo {
            let outcome = &mut outcomes[i];
            match verdicts.get(&outcome.file.path) {
                None | Some(Check::Accept) => upload.push(i),
                Some(Check::Duplicate { asset_id, trashed }) => {
                    outcome.status = Status::Duplicate;
                    outcome.asset_id = Some(asset_id.clone());
                    outcome.in_trash = *trashed;
                }
                Some(Check::Reject(reason)) => {
                    outcome.end(Status::Skipped, reason);
                }
            }
        }
        upload
    }

    /// Uploads the files at `todo`, `concurrency` at a time.
    fn upload_all(
        &self,
        root: &std::path::Path,
        outcomes: &mut [Outcome],
        todo: &[usize],
    ) {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, Sent)>> = Mutex::new(Vec::new());
        let bar = self.bar.clone();
        let meter: Meter = Arc::new(move |bytes| bar.moved(bytes));
        let files: Vec<&File> =
            todo.iter().map(|&i| &outcomes[i].file).collect();
        let threads = self.settings.concurrency.clamp(1, todo.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(file) = files.get(n) else { break };
                    let sent = self.send(root, file, &meter);
                    if let Ok(mut results) = results.lock() {
                        results.push((todo[n], sent));
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        for (i, sent) in results {
            apply(&mut outcomes[i], sent);
        }
    }

    /// Uploads one file unless the run was stopped.
    fn send(&self, root: &std::path::Path, file: &File, meter: &Meter) -> Sent {
        if self.revoked.load(Ordering::SeqCst) {
            return Sent::Stopped(Status::Failed, REVOKED);
        }
        if crate::engine::is_interrupted() {
            return Sent::Stopped(Status::Skipped, INTERRUPTED);
        }
        let generation = self.server.generation;
        let done =
            assets::upload(&self.server.client, generation, root, file, meter);
        if let Err(CallError::Unauthorized(text)) = &done.result {
            if !self.revoked.swap(true, Ordering::SeqCst) {
                log::error!(
                    "Immich refused the API key ({text}); stopping uploads"
                );
            }
        }
        Sent::Tried(done.result, done.attempts)
    }

    /// Adds every stored file to its albums (upload.md §4 step 4).
    fn file_into_albums(&mut self, names: &[String], outcomes: &mut [Outcome]) {
        for name in names {
            let members: Vec<usize> = (0..outcomes.len())
                .filter(|&i| outcomes[i].is_stored())
                .filter(|&i| outcomes[i].file.albums.contains(name))
                .collect();
            if members.is_empty() {
                continue;
            }
            if self.revoked.load(Ordering::SeqCst) {
                for &i in &members {
                    outcomes[i].end(Status::Failed, REVOKED);
                }
                continue;
            }
            let album = match self.albums.id(&self.server, name) {
                Ok(album) => album,
                Err(err) => {
                    for &i in &members {
                        outcomes[i]
                            .end(Status::Failed, &format!("album: {err}"));
                    }
                    continue;
                }
            };
            let mut ids: Vec<String> = members
                .iter()
                .filter_map(|&i| outcomes[i].asset_id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            let added = albums::add(&self.server, &album, &ids);
            for &i in &members {
                let id = outcomes[i].asset_id.clone().unwrap_or_default();
                if let Some(Err(err)) = added.get(&id) {
                    outcomes[i].end(Status::Failed, err);
                }
            }
        }
    }
}

/// What one upload thread reports.
enum Sent {
    /// Not attempted.
    Stopped(Status, &'static str),
    /// Attempted: the result and the attempts made.
    Tried(Result<Stored, CallError>, u32),
}

/// Records the upload of one file in its outcome.
fn apply(outcome: &mut Outcome, sent: Sent) {
    match sent {
        Sent::Stopped(status, reason) => outcome.end(status, reason),
        Sent::Tried(result, attempts) => {
            outcome.attempts = attempts;
            match result {
                Ok(stored) => {
                    outcome.status = if stored.duplicate {
                        Status::Duplicate
                    } else {
                        Status::Uploaded
                    };
                    outcome.asset_id = Some(stored.asset_id);
                }
                Err(err) => outcome.end(Status::Failed, &err.to_string()),
            }
        }
    }
}

/// Returns the album names of `files` in first-seen order.
fn album_names(files: &[File]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for file in files {
        for album in &file.albums {
            if !names.contains(album) {
                names.push(album.clone());
            }
        }
    }
    names
}

/// Returns the assets ids of stored files by path (for tests and logs).
#[cfg(test)]
fn asset_ids(outcomes: &[Outcome]) -> std::collections::HashMap<&str, &str> {
    outcomes
        .iter()
        .filter_map(|o| Some((o.file.path.as_str(), o.asset_id.as_deref()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> File {
        File {
            path: path.into(),
            size: 1,
            sha1: None,
            taken: None,
            favorite: false,
            albums: vec!["A".into()],
            sidecar: None,
        }
    }

    #[test]
    fn uploads_and_failures_are_recorded() {
        let mut ok = Outcome::new(file("a.jpg"));
        let stored = Stored { asset_id: "id1".into(), duplicate: false };
        apply(&mut ok, Sent::Tried(Ok(stored), 2));
        assert_eq!((ok.status, ok.attempts), (Status::Uploaded, 2));
        let mut dup = Outcome::new(file("b.jpg"));
        let stored = Stored { asset_id: "id2".into(), duplicate: true };
        apply(&mut dup, Sent::Tried(Ok(stored), 1));
        assert_eq!(dup.status, Status::Duplicate);
        let mut bad = Outcome::new(file("c.jpg"));
        let err = CallError::Status(400, "HTTP 400: nope".into());
        apply(&mut bad, Sent::Tried(Err(err), 1));
        assert_eq!(bad.status, Status::Failed);
        assert_eq!(bad.error.as_deref(), Some("HTTP 400: nope"));
        let outcomes = [ok, dup, bad];
        let ids = asset_ids(&outcomes);
        assert_eq!(ids.len(), 2);
        assert_eq!(ids["b.jpg"], "id2");
    }

    #[test]
    fn album_names_keep_first_seen_order() {
        let mut a = file("a");
        a.albums = vec!["X".into(), "Y".into()];
        let mut b = file("b");
        b.albums = vec!["Y".into(), "Z".into()];
        assert_eq!(album_names(&[a, b]), ["X", "Y", "Z"]);
    }
}
