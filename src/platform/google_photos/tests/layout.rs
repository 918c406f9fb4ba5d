//! Tests of where Google Photos looks: the Takeout level, localized
//! folders, symbolic links and folders that cannot be read.

use std::fs;
use std::path::Path;

use serde_json::json;

use super::{is_privileged, matches, rows, Takeout};
use crate::platform::google_photos::GooglePhotos;
use crate::platform::Platform;

#[test]
fn symlinked_files_are_followed_and_folders_not() {
    let t = Takeout::new();
    t.media("elsewhere/a.jpg").sidecar("elsewhere/a.jpg.json", "a.jpg");
    t.sidecar("Google Photos/Trip/a.jpg.json", "a.jpg");
    t.media("Google Photos/Trip/b.jpg")
        .sidecar("Google Photos/Trip/b.jpg.json", "b.jpg");
    let root = &t.export.path;
    let link = |from: &str, to: &str| {
        std::os::unix::fs::symlink(root.join(from), root.join(to)).unwrap();
    };
    link("elsewhere/a.jpg", "Google Photos/Trip/a.jpg");
    link("elsewhere", "Google Photos/Linked");
    let got: Vec<String> =
        t.plan().items.iter().map(|i| i.input.clone()).collect();
    assert_eq!(got, ["Google Photos/Trip/a.jpg", "Google Photos/Trip/b.jpg"]);
}

#[test]
fn takeout_level_is_part_of_every_path() {
    let t = Takeout::new();
    t.media("Takeout/Google Photos/Trip/a.jpg")
        .sidecar("Takeout/Google Photos/Trip/a.jpg.json", "a.jpg")
        .media("Google Photos/Other/b.jpg");
    assert!(t.detect());
    let want = rows(&[(
        "Takeout/Google Photos/Trip/a.jpg",
        "exact",
        "Takeout/Google Photos/Trip/a.jpg.json",
    )]);
    assert_eq!(matches(&t.plan()), want);
}

#[test]
fn localized_folders_are_found_by_their_sidecars() {
    let t = Takeout::new();
    t.put(
        "Takeout/Google Chat/Groups/DM x/messages.json",
        r#"{"messages": []}"#,
    )
    .media("Takeout/Google Fotos/Urlaub/a.jpg")
    .sidecar(
        "Takeout/Google Fotos/Urlaub/a.jpg.supplemental-metadata.json",
        "a.jpg",
    )
    .put(
        "Takeout/Google Fotos/Urlaub/metadata.json",
        r#"{"title": "Urlaub 2020"}"#,
    );
    assert!(t.detect());
    let plan = t.plan();
    let want = rows(&[(
        "Takeout/Google Fotos/Urlaub/a.jpg",
        "exact",
        "Takeout/Google Fotos/Urlaub/a.jpg.supplemental-metadata.json",
    )]);
    assert_eq!(matches(&plan), want);
    assert_eq!(plan.items[0].album, "Urlaub 2020");
}

#[test]
fn unrelated_folders_are_not_detected() {
    let t = Takeout::new();
    assert!(!t.detect());
    assert!(GooglePhotos.plan(&t.export).is_err());
    t.put("Google Photos", "a file, not a folder");
    assert!(!t.detect());
    let t = Takeout::new();
    t.media("Google Photos/loose.jpg").media("Google Photos/.hidden/a.jpg");
    assert!(!t.detect());
    let t = Takeout::new();
    t.put(
        "Takeout/Google Chat/Groups/DM x/messages.json",
        r#"{"messages": []}"#,
    )
    .put("Takeout/Drive/Docs/a.json", r#"{"creationTime": {}}"#)
    .put("Takeout/Drive/Docs/b.json", "[not json")
    .media("Takeout/Drive/Docs/a.jpg");
    assert!(!t.detect());
    let t = Takeout::new();
    let outside = t._dir.path().join("outside");
    fs::create_dir_all(outside.join("Trip")).unwrap();
    fs::write(outside.join("Trip/a.jpg"), "x").unwrap();
    let sidecar =
        json!({"title": "a.jpg", "photoTakenTime": {"timestamp": "1"}});
    fs::write(outside.join("Trip/a.jpg.json"), sidecar.to_string()).unwrap();
    let link = t.export.path.join("Google Photos");
    std::os::unix::fs::symlink(&outside, link).unwrap();
    assert!(!t.detect(), "a symbolic link to a folder is not followed");
}

#[test]
fn unreadable_folders_never_fail_detection() {
    use std::os::unix::fs::PermissionsExt;
    let t = Takeout::new();
    t.media("Google Photos/Trip/a.jpg")
        .sidecar("Google Photos/Trip/a.jpg.json", "a.jpg");
    t.media("Google Photos/Zoo/b.jpg")
        .sidecar("Google Photos/Zoo/b.jpg.json", "b.jpg");
    let photos = t.export.path.join("Google Photos");
    let zoo = photos.join("Zoo");
    let mode = |path: &Path, bits| {
        fs::set_permissions(path, fs::Permissions::from_mode(bits)).unwrap();
    };
    mode(&zoo, 0o000);
    let plan = t.plan();
    let privileged = is_privileged(&zoo);
    if !privileged {
        assert_eq!(matches(&plan).len(), 1, "the readable album is planned");
    }
    mode(&zoo, 0o755);
    mode(&photos, 0o000);
    let detected = t.detect();
    let planned = GooglePhotos.plan(&t.export);
    let privileged = is_privileged(&photos);
    mode(&photos, 0o755);
    // Root reads anything, so only an unprivileged run can check this.
    if !privileged {
        assert!(!detected);
        assert!(planned.is_err());
    }
}
