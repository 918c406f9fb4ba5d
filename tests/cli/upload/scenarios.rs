//! Scenarios of upload.md §9: non-ASCII names, an album name shared by
//! several albums, file types the server does not take, and duplicates
//! that sit in the user's trash.

use super::*;
use crate::fake_immich::USER_ID;

#[test]
fn non_ascii_names_reach_albums_and_file_names() {
    for gen in [Gen::G1, Gen::G3] {
        let env = TestEnv::new();
        let root = "google-zoë-20250101";
        let album = format!("{root}/Google Photos/Été 2021");
        env.json(
            &format!("{album}/metadata.json"),
            &json!({"title": "Été 2021"}),
        );
        env.write(&format!("{album}/Plage.jpg"), &jpeg(7));
        env.json(
            &format!("{album}/Plage.jpg.json"),
            &sidecar("Plage.jpg", AT, false),
        );
        let fake = FakeImmich::start(gen);
        let url = fake.url();
        let run = run_env(
            &env,
            &[root, "-o", "out", "--timezone", "UTC", "--immich-url", &url],
            &[("IMMICH_API_KEY", KEY)],
        );
        run.expect_code(0);
        fake.assert_clean();
        let uploads = fake.calls("POST /assets");
        assert_eq!(uploads.len(), 1);
        let data = uploads[0].file("assetData").unwrap();
        let name = data.filename.clone().unwrap();
        assert_eq!(name, "gphotos-zoë-20210703.jpg", "raw UTF-8 file name");
        if gen == Gen::G1 {
            let size = data.size;
            assert_eq!(
                uploads[0].field("deviceAssetId"),
                Some(format!("{name}-{size}").as_str())
            );
        }
        let albums = fake.album_files();
        assert_eq!(albums.len(), 2, "{albums:?}");
        assert_eq!(albums["Google Photos/zoë"], vec![name.clone()]);
        assert_eq!(albums["Été 2021"], vec![name]);
        if gen == Gen::G3 {
            let mut asked: Vec<String> = fake
                .calls("GET /albums")
                .iter()
                .flat_map(|r| r.query.clone())
                .filter(|(k, _)| k == "name")
                .map(|(_, v)| v)
                .collect();
            asked.sort();
            assert_eq!(asked, ["Google Photos/zoë", "Été 2021"]);
        }
        let report = env.read_json("out/upload-report.json");
        assert_eq!(
            report["jobs"][0]["albums"],
            json!(["Google Photos/zoë", "Été 2021"])
        );
    }
}

#[test]
fn an_album_name_used_by_several_albums_picks_the_oldest_own() {
    const NAME: &str = "Google Photos/alice";
    const OTHER: &str = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";
    for gen in [Gen::G2, Gen::G3] {
        let env = TestEnv::new();
        takeout(&env, EXPORT);
        let fake = FakeImmich::start(gen);
        fake.add_album(NAME, OTHER, "2019-01-01T00:00:00.000Z");
        fake.add_album(
            &format!("{NAME} (old)"),
            USER_ID,
            "2018-01-01T00:00:00.000Z",
        );
        fake.add_album(
            "google photos/alice",
            USER_ID,
            "2018-01-01T00:00:00.000Z",
        );
        fake.add_album(NAME, USER_ID, "2024-06-01T00:00:00.000Z");
        let tie_a = fake.add_album(NAME, USER_ID, "2023-01-01T00:00:00.000Z");
        let tie_b = fake.add_album(NAME, USER_ID, "2023-01-01T00:00:00.000Z");
        let want = tie_a.clone().min(tie_b.clone());
        upload_run(&env, &fake, &[]).expect_code(0);
        fake.assert_clean();
        let albums = fake.albums();
        let named: Vec<_> = albums.iter().filter(|a| a.name == NAME).collect();
        assert_eq!(named.len(), 4, "{gen:?}: no new album of that name");
        for album in &albums {
            let expected = match album.name.as_str() {
                _ if album.id == want => 4,
                "Trip to Rome" => 3,
                _ => 0,
            };
            assert_eq!(
                album.assets.len(),
                expected,
                "{gen:?}: album {} ({}, {})",
                album.name,
                album.owner,
                album.created_at
            );
        }
        // A rerun files into the same album.
        fake.empty_albums();
        upload_run(&env, &fake, &[]).expect_code(0);
        let again = fake.albums();
        let chosen = again.iter().find(|a| a.id == want).unwrap();
        assert_eq!(chosen.assets.len(), 4, "{gen:?}");
    }
}

#[test]
fn files_the_server_does_not_take_are_skipped() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let mut profile = Profile::of(Gen::G3);
    profile.unsupported = vec![".png".into()];
    let fake = FakeImmich::with(profile);
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(0);
    fake.assert_clean();
    let err = run.stderr();
    assert!(
        err.contains(
            "Upload: 3 uploaded, 0 already on server, 0 failed, 1 skipped"
        ),
        "{err}"
    );
    let uploads = fake.calls("POST /assets");
    assert_eq!(uploads.len(), 3);
    for up in &uploads {
        let name = up.file("assetData").unwrap().filename.clone().unwrap();
        assert!(!name.ends_with(".png"), "{name} was sent");
    }
    let checked =
        fake.calls("POST /assets/bulk-upload-check")[0].json.clone().unwrap();
    let ids = checked["assets"].as_array().unwrap();
    assert_eq!(ids.len(), 3, "the pre-check leaves it out too: {ids:?}");
    let report = env.read_json("out/upload-report.json");
    let job = &report["jobs"][0];
    assert_eq!(job["counts"]["skipped"], 1);
    let png: Vec<&Value> = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(".png"))
        .collect();
    assert_eq!(png.len(), 1);
    assert_eq!(png[0]["status"], "skipped");
    assert_eq!(png[0]["reason"], "not supported by the server");
    assert!(png[0]["asset_id"].is_null());
    let audit = written(&env, "out/report.json");
    let entry = audit
        .values()
        .find(|f| f["output"].as_str().unwrap().ends_with(".png"));
    assert_eq!(entry.unwrap()["upload"]["status"], "skipped");
}

#[test]
fn a_duplicate_in_the_trash_is_reported_and_still_filed() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    upload_run(&env, &fake, &[]).expect_code(0);
    let png = fake
        .assets()
        .into_iter()
        .find(|a| a.filename.ends_with(".png"))
        .unwrap();
    fake.trash(&png.filename);
    fake.empty_albums();
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(0);
    fake.assert_clean();
    let err = run.stderr();
    let warning = "1 file(s) are already on the server but in the Immich trash";
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    assert!(
        err.contains("4 already on server (1 in the Immich trash)"),
        "{err}"
    );
    assert!(err.contains("Upload: 0 uploaded, 4 already on server"), "{err}");
    let report = env.read_json("out/upload-report.json");
    let files = report["jobs"][0]["files"].as_array().unwrap();
    for file in files {
        let trashed = file["path"].as_str().unwrap().ends_with(".png");
        assert_eq!(file["status"], "duplicate", "{file}");
        assert_eq!(file["in_trash"] == true, trashed, "{file}");
    }
    let trashed = files.iter().find(|f| f["in_trash"] == true).unwrap();
    assert_eq!(trashed["asset_id"], png.id.as_str());
    // memoria never restores it, but files it into its albums.
    assert_eq!(fake.album_files()["Google Photos/alice"].len(), 4);
    assert_eq!(fake.calls("POST /assets").len(), 4, "nothing sent again");
}
