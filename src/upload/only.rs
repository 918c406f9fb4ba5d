//! `--upload-only` (upload.md §8): upload an already processed export
//! without processing it again.
//!
//! `INPUT_DIR` decides which processors apply; the output root's
//! `report.json` gives each processor's written files with their SHA-1,
//! capture instant, albums and sidecar. A processor the report does not
//! list (or every processor, when there is no memoria report) has its
//! output folder crawled instead ([`super::crawl`]). The same uploader as
//! in normal runs does the rest; a log file is always written and says
//! where each file list came from.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use serde_json::Value;

use super::{crawl, File, Job, Settings, Uploader};
use crate::config::Config;
use crate::plan::Export;
use crate::platform::{self, Platform};
use crate::report::{self, Console, UploadCounts};

/// How an upload-only run ended: its exit code (cli.md §12).
pub(crate) type Code = u8;

/// Runs upload-only mode for `export` and the output folder `out_dir`.
pub(crate) fn run(
    config: &Config,
    console: &Console,
    export: &Export,
    out_dir: &Path,
) -> Code {
    let Some(settings) = &config.upload else {
        console.line("ERROR: Upload-only mode requires Immich URL and API key");
        return 2;
    };
    let root = root_for(out_dir, &export.name);
    console.info("Upload-only mode");
    console.info(&format!("Original export: {}", export.path.display()));
    console.info(&format!("Processed output: {}", root.display()));
    if config.dry_run {
        return dry_run(config, console, export, &root, settings);
    }
    let (log_path, mut log) =
        match report::open_upload_only_log(Path::new("."), &export.name) {
            Ok(opened) => opened,
            Err(err) => {
                console.line(&format!("ERROR: {err:#}"));
                return 1;
            }
        };
    console.info(&format!("Log: {}", log_path.display()));
    let server = match super::preflight(settings) {
        Ok(server) => server,
        Err(err) => {
            console.line(&format!("ERROR: Immich {err}"));
            let _ = writeln!(log, "Immich preflight failed: {err}");
            return 2;
        }
    };
    console.info(&server.status_line());
    let header = log_header(export, &root, &server.status_line(), settings);
    let _ = log.write_all(header.as_bytes());
    let jobs = match jobs(config, console, export, &root, settings) {
        Ok(jobs) => jobs,
        Err(code) => return code,
    };
    let jobs: Vec<Job> = jobs
        .into_iter()
        .map(|(job, source)| {
            let _ = writeln!(log, "{source}");
            job
        })
        .collect();
    let _ = writeln!(log);
    let transcript =
        log.try_clone().ok().map(|f| Box::new(f) as super::queue::Transcript);
    let uploader = match Uploader::start(
        server,
        settings.clone(),
        console.clone(),
        transcript,
    ) {
        Ok(uploader) => uploader,
        Err(err) => {
            console.line(&format!("ERROR: cannot start the uploader: {err}"));
            return 1;
        }
    };
    for job in jobs {
        uploader.queue().submit(job);
    }
    let per_export = uploader.finish(console);
    let mut total = UploadCounts::default();
    for counts in per_export.values() {
        total.add(counts);
    }
    let summary =
        report::upload_only_summary(&total, &log_path.display().to_string());
    let _ = writeln!(log, "{summary}");
    console.line(&summary);
    u8::from(total.failed > 0)
}

/// Returns the log file's header: time, paths, server, patterns.
fn log_header(
    export: &Export,
    root: &Path,
    server: &str,
    settings: &Settings,
) -> String {
    format!(
        "memoria {} upload-only run at {}\nOriginal export: {}\n\
         Processed output: {}\n{server}\nIgnore patterns: {}\n\n",
        env!("CARGO_PKG_VERSION"),
        jiff::ZonedDateTime::now().strftime("%Y-%m-%d %H:%M:%S %:z"),
        export.path.display(),
        root.display(),
        settings.ignore.patterns().join(", ")
    )
}

/// Builds one job per detected processor whose output folder exists
/// (upload.md §8 steps 5–7), each with the line that says where its file
/// list came from; `Err` carries the exit code.
fn jobs(
    config: &Config,
    console: &Console,
    export: &Export,
    root: &Path,
    settings: &Settings,
) -> Result<Vec<(Job, String)>, Code> {
    let present = processors(config, console, export, root)?;
    let report = read_report(root);
    // A dry run lists files without reading them all (cli.md §9).
    let threads = match config.dry_run || !settings.bulk_check {
        true => 0,
        false => settings.concurrency,
    };
    let jobs = present.into_iter().map(|p| {
        let (files, source) =
            file_list(p, export, root, report.as_ref(), settings, threads);
        let line = format!("{}: {} files from {source}", p.name(), files.len());
        console.info(&line);
        let job = Job {
            export: export.name.clone(),
            processor: p.name().to_string(),
            out_root: root.to_path_buf(),
            folder: p.rules().folder.to_string(),
            files,
        };
        (job, line)
    });
    Ok(jobs.collect())
}

/// Returns the files of processor `p` and where they came from: the
/// report when it lists `p`, else a crawl of `p`'s output folder
/// (upload.md §8 step 7). A dry run (`threads` 0) or `IMMICH_SKIP_HASH`
/// crawls without hashing.
fn file_list(
    p: &dyn Platform,
    export: &Export,
    root: &Path,
    report: Option<&Value>,
    settings: &Settings,
    threads: usize,
) -> (Vec<File>, String) {
    if let Some(report) = report.filter(|r| lists(r, p.name())) {
        return (written(report, p.name()), "report.json".into());
    }
    let user = crawl::user_of(p.name(), export);
    let folder = p.rules().folder;
    let target =
        crawl::Target { root, processor: p.name(), folder, user: &user };
    let files = crawl::files(&target, &settings.ignore, threads);
    let why = match report {
        Some(_) => "not in report.json",
        None => "no report.json",
    };
    (files, format!("crawling {folder}/ ({why})"))
}

/// Returns the detected processors whose output folder exists (upload.md
/// §8 steps 5 and 6); `Err` carries the exit code.
fn processors(
    config: &Config,
    console: &Console,
    export: &Export,
    root: &Path,
) -> Result<Vec<&'static dyn Platform>, Code> {
    let detected: Vec<&'static dyn Platform> = platform::registry()
        .into_iter()
        .filter(|p| config.processor.is_none_or(|want| want.id() == p.id()))
        .filter(|p| p.detect(export))
        .collect();
    if detected.is_empty() {
        console.line(&format!(
            "ERROR: No processors matched original export directory: {}\n{}",
            export.path.display(),
            report::LAYOUT_HELP
        ));
        return Err(1);
    }
    let present: Vec<&'static dyn Platform> = detected
        .into_iter()
        .filter(|p| {
            let dir = root.join(p.rules().folder);
            if !dir.is_dir() {
                log::warn!(
                    "Expected output directory does not exist: {}",
                    dir.display()
                );
            }
            dir.is_dir()
        })
        .collect();
    if present.is_empty() {
        console
            .line("ERROR: No output folders found for the detected processors");
        return Err(1);
    }
    Ok(present)
}

/// Reads the output root's `report.json` when it is memoria's; a file
/// that is not is reported and then ignored (the folders are crawled).
fn read_report(root: &Path) -> Option<Value> {
    let path = root.join("report.json");
    if !path.is_file() {
        return None;
    }
    let read = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read {}", path.display()))
        .and_then(|text| {
            serde_json::from_str::<Value>(&text).with_context(|| {
                format!("{} is not valid JSON", path.display())
            })
        })
        .and_then(|report| {
            let schema = report["schema"].as_str().unwrap_or("");
            if !schema.starts_with("memoria-report/") {
                anyhow::bail!("{} is not a memoria report", path.display());
            }
            Ok(report)
        });
    match read {
        Ok(report) => Some(report),
        Err(err) => {
            log::warn!("{err:#}; crawling the output folders instead");
            None
        }
    }
}

/// Returns true when `report` covers `processor` (it ran in that run).
fn lists(report: &Value, processor: &str) -> bool {
    let processors = report["processors"].as_array();
    processors.into_iter().flatten().any(|p| p["name"] == processor)
}

/// Returns the `written` files of `processor` in a `report.json`.
fn written(report: &Value, processor: &str) -> Vec<File> {
    let Some(files) = report["files"].as_array() else { return Vec::new() };
    files
        .iter()
        .filter(|f| f["processor"] == processor && f["fate"] == "written")
        .filter_map(entry_file)
        .collect()
}

/// Returns the upload file of one `written` entry.
fn entry_file(entry: &Value) -> Option<File> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    Some(File {
        path: text(&entry["output"])?,
        size: entry["size"].as_u64().unwrap_or(0),
        sha1: text(&entry["sha1"]).filter(|s| s.len() == 40),
        taken: entry["date"]["instant"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok()),
        favorite: entry["context"]["favorited"].as_bool().unwrap_or(false),
        albums: entry["albums"]
            .as_array()
            .map(|a| a.iter().filter_map(text).collect())
            .unwrap_or_default(),
        sidecar: text(&entry["sidecar"]),
    })
}

/// Lists what would be uploaded, without network (cli.md §9).
fn dry_run(
    config: &Config,
    console: &Console,
    export: &Export,
    root: &Path,
    settings: &Settings,
) -> Code {
    let jobs = match jobs(config, console, export, root, settings) {
        Ok(jobs) => jobs,
        Err(code) => return code,
    };
    let jobs: Vec<Job> = jobs.into_iter().map(|(job, _)| job).collect();
    let ignore = &settings.ignore;
    let mut out = std::io::stdout().lock();
    for job in &jobs {
        let _ = writeln!(
            out,
            "# {} · {} → {}/",
            job.export, job.processor, job.folder
        );
        let mut files: Vec<&File> = job.files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for file in files {
            if !ignore.keeps(&file.path) {
                continue;
            }
            let albums: Vec<String> =
                file.albums.iter().map(|a| format!("\"{a}\"")).collect();
            let _ = writeln!(
                out,
                "UPLOAD     {} -> {}",
                file.path,
                albums.join(", ")
            );
        }
    }
    0
}

/// Returns the output root upload-only mode uses for `out_dir`: the
/// export's own folder inside it when there is one (cli.md §11).
fn root_for(out_dir: &Path, export: &str) -> PathBuf {
    let nested = out_dir.join(export);
    if nested.is_dir() {
        nested
    } else {
        out_dir.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_entries_become_upload_files() {
        let report = serde_json::json!({"files": [
            {"processor": "Google Photos", "fate": "written",
             "output": "photos/a.jpg", "size": 12, "sha1": "a".repeat(40),
             "date": {"instant": "2021-01-01T09:30:00Z"},
             "albums": ["Google Photos/x", "Trip"], "sidecar": null,
             "context": {"favorited": true}},
            {"processor": "Google Photos", "fate": "duplicate",
             "output": "photos/a.jpg"},
            {"processor": "Google Chat", "fate": "written",
             "output": "chat/b.jpg"},
        ]});
        let files = written(&report, "Google Photos");
        assert_eq!(files.len(), 1);
        let file = &files[0];
        assert_eq!(file.path, "photos/a.jpg");
        assert_eq!(file.size, 12);
        assert!(file.favorite);
        assert_eq!(file.albums, ["Google Photos/x", "Trip"]);
        assert_eq!(file.taken.map(|t| t.as_second()), Some(1_609_493_400));
        assert_eq!(written(&report, "Google Chat")[0].sha1, None);
    }

    #[test]
    fn only_memoria_reports_give_file_lists() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_report(dir.path()), None, "no report");
        let path = dir.path().join("report.json");
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(read_report(dir.path()), None, "not JSON");
        std::fs::write(&path, r#"{"schema": "other/1"}"#).unwrap();
        assert_eq!(read_report(dir.path()), None, "not memoria's");
        let report = serde_json::json!({"schema": "memoria-report/1",
            "processors": [{"name": "Google Photos"}], "files": []});
        std::fs::write(&path, report.to_string()).unwrap();
        let read = read_report(dir.path()).unwrap();
        assert!(lists(&read, "Google Photos"));
        assert!(!lists(&read, "Google Chat"), "crawled instead");
    }

    #[test]
    fn nested_output_folders_win() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(root_for(dir.path(), "exp"), dir.path());
        std::fs::create_dir(dir.path().join("exp")).unwrap();
        assert_eq!(root_for(dir.path(), "exp"), dir.path().join("exp"));
    }
}
