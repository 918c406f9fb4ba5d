//! temp
use std::path::{Path, PathBuf};
pub(crate) struct Request<'a> {
    pub(crate) key: &'a str,
    pub(crate) get: Option<&'a str>,
    pub(crate) post: Option<&'a str>,
}
pub(crate) struct Files {
    pub(crate) main: PathBuf,
    pub(crate) overlay: Option<PathBuf>,
}
pub(crate) fn cached(_dir: &Path, _key: &str) -> Option<Files> {
    None
}
pub(crate) struct Fetched {
    pub(crate) files: Files,
    pub(crate) url: String,
    pub(crate) warnings: Vec<String>,
}
pub(crate) struct Failure {
    pub(crate) error: String,
    pub(crate) refused: bool,
}
pub(crate) struct Downloader;
impl Downloader {
    pub(crate) fn new() -> anyhow::Result<Downloader> {
        Ok(Downloader)
    }
    pub(crate) fn fetch_all(
        &self,
        _dir: &Path,
        _requests: &[Request],
        _parallel: usize,
        _done: &(dyn Fn() + Sync),
        _stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<Result<Fetched, Failure>> {
        vec![]
    }
}
