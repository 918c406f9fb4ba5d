//! Resolving and checking the folders named on the command line.
//!
//! Inputs must exist and be folders (cli.md §5.1, §5.2); the output root
//! may not exist yet but must never overlap what is read (§7). Paths are
//! compared after resolving symlinks so a linked export is still caught.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::{Inputs, UsageError};
use crate::discover;

/// The input argument that step 3 of cli.md §12 accepted.
#[derive(Clone, Copy, Debug)]
pub(super) enum Given<'a> {
    /// `INPUT_DIR`.
    Single(&'a Path),
    /// `--originals DIR`.
    Originals(&'a Path),
}

/// Returns `path` made absolute against `cwd`, with symlinks resolved in
/// its longest existing ancestor and the rest normalised lexically.
///
/// An existing path comes back fully canonical.
pub(super) fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    let full = cwd.join(path);
    let parts: Vec<Component> =
        full.components().filter(|c| *c != Component::CurDir).collect();
    for known in (1..=parts.len()).rev() {
        let head: PathBuf = parts.iter().take(known).collect();
        if let Ok(real) = head.canonicalize() {
            return append(real, parts.iter().skip(known));
        }
    }
    append(PathBuf::new(), parts.iter())
}

/// Appends `parts` to `base`, treating `..` lexically (the folders do not
/// exist, so there is no symlink to follow).
fn append<'a>(
    mut base: PathBuf,
    parts: impl Iterator<Item = &'a Component<'a>>,
) -> PathBuf {
    for part in parts {
        match part {
            Component::ParentDir => {
                base.pop();
            }
            other => base.push(other),
        }
    }
    base
}

/// Checks the input folder (cli.md §12 step 7) and returns it resolved.
pub(super) fn inputs(given: Given, cwd: &Path) -> Result<Inputs, UsageError> {
    Ok(match given {
        Given::Single(path) => {
            let dir = existing_dir(&resolve(cwd, path), "Input")?;
            Inputs::Single(discover::single(dir))
        }
        Given::Originals(path) => {
            Inputs::Originals(existing_dir(&resolve(cwd, path), "Originals")?)
        }
    })
}

/// Checks the `--upload-only` folder (cli.md §12 step 7) and returns it
/// resolved.
pub(super) fn upload_only(
    dir: &Path,
    cwd: &Path,
) -> Result<PathBuf, UsageError> {
    existing_dir(&resolve(cwd, dir), "Upload-only")
}

/// Returns `abs` when it is an existing folder; `noun` starts the
/// messages of cli.md §5.1 and §5.2.
fn existing_dir(abs: &Path, noun: &str) -> Result<PathBuf, UsageError> {
    let shown = abs.display();
    match std::fs::metadata(abs) {
        Ok(meta) if meta.is_dir() => Ok(abs.to_path_buf()),
        Ok(_) => Err(UsageError::new(format!(
            "{noun} path is not a directory: {shown}"
        ))),
        Err(err) if err.kind() == ErrorKind::NotFound => Err(UsageError::new(
            format!("{noun} directory does not exist: {shown}"),
        )),
        Err(err) => Err(UsageError::new(format!(
            "{noun} directory cannot be read: {shown}: {err}"
        ))),
    }
}

/// Checks that the output root `output` (resolved) is a folder or
/// missing, and does not overlap what is read (cli.md §7).
///
/// With `--originals` only equality is refused: an output inside `DIR`
/// is allowed because discovery skips the export that holds it (§5.2).
pub(super) fn check_output(
    output: &Path,
    inputs: &Inputs,
) -> Result<(), UsageError> {
    let out = output.display();
    if output.exists() && !output.is_dir() {
        let message = format!("Output path is not a directory: {out}");
        return Err(UsageError::new(message));
    }
    match inputs {
        Inputs::Single(export) if output.starts_with(&export.path) => {
            Err(UsageError::new(format!(
                "output folder {out} must not be or lie inside the export \
                 being read: {}",
                export.path.display()
            )))
        }
        Inputs::Originals(dir) if output == dir => {
            Err(UsageError::new(format!(
                "output folder {out} must not be the --originals folder {}",
                dir.display()
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_handles_missing_tails_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link"))
            .unwrap();
        let cases = [
            ("real", root.join("real")),
            ("./real/.", root.join("real")),
            ("link", root.join("real")),
            ("link/new/out", root.join("real/new/out")),
            ("link/../real", root.join("real")),
            ("missing/../out", root.join("out")),
            ("missing/./a/..", root.join("missing")),
        ];
        for (rel, want) in cases {
            assert_eq!(resolve(&root, Path::new(rel)), want, "{rel}");
        }
        let abs = root.join("link/x");
        assert_eq!(resolve(Path::new("/elsewhere"), &abs), root.join("real/x"));
    }

    #[test]
    fn missing_and_non_folder_inputs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("file"), "x").unwrap();
        let message = |given| inputs(given, &root).err().map(|e| e.message);
        let cases = [
            (
                Given::Single(Path::new("nope")),
                "Input directory does not exist",
            ),
            (Given::Single(Path::new("file")), "Input path is not a directory"),
            (
                Given::Originals(Path::new("nope")),
                "Originals directory does not exist",
            ),
            (
                Given::Originals(Path::new("file")),
                "Originals path is not a directory",
            ),
        ];
        for (given, want) in cases {
            let name = if want.contains("exist") { "nope" } else { "file" };
            let want = format!("{want}: {}", root.join(name).display());
            assert_eq!(message(given), Some(want));
        }
    }

    #[test]
    fn output_must_stay_out_of_a_single_export() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("exports/google-a-20250101"))
            .unwrap();
        std::os::unix::fs::symlink(
            root.join("exports/google-a-20250101"),
            root.join("linked"),
        )
        .unwrap();
        std::fs::write(root.join("file"), "x").unwrap();
        let input = inputs(Given::Single(Path::new("linked")), &root).unwrap();
        let Inputs::Single(export) = &input else { panic!("single expected") };
        assert_eq!(export.path, root.join("exports/google-a-20250101"));
        assert_eq!(export.name, "google-a-20250101");
        let check = |out: &str| {
            check_output(&resolve(&root, Path::new(out)), &input)
                .err()
                .map(|e| e.message)
        };
        for bad in ["linked", "linked/out", "exports/google-a-20250101/x/y"] {
            let got = check(bad).unwrap_or_default();
            let want = format!(
                "must not be or lie inside the export being read: {}",
                export.path.display()
            );
            assert!(got.ends_with(&want), "{bad}: {got}");
            assert!(got.starts_with("output folder /"), "{bad}: {got}");
        }
        for good in ["out", "exports", "exports/google-a", "linked/../out"] {
            assert_eq!(check(good), None, "{good}");
        }
        let want = format!(
            "Output path is not a directory: {}",
            root.join("file").display()
        );
        assert_eq!(check("file"), Some(want));
    }

    #[test]
    fn output_may_lie_inside_but_not_equal_the_originals_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("originals/google-a")).unwrap();
        std::os::unix::fs::symlink(root.join("originals"), root.join("link"))
            .unwrap();
        let input = inputs(Given::Originals(Path::new("link")), &root).unwrap();
        let check = |out: &str| {
            check_output(&resolve(&root, Path::new(out)), &input)
                .err()
                .map(|e| e.message)
        };
        let want = format!(
            "output folder {0} must not be the --originals folder {0}",
            root.join("originals").display()
        );
        assert_eq!(check("originals"), Some(want.clone()));
        assert_eq!(check("link/"), Some(want));
        assert_eq!(check("originals/out"), None);
        assert_eq!(check("originals/google-a/out"), None);
        assert_eq!(check("out"), None);
    }
}
