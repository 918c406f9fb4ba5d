//! One Takeout holding Google Photos, Chat and Voice side by side: all
//! three come out of one run, in registry order.

use serde_json::json;

use crate::support::*;

#[test]
fn photos_chat_and_voice_come_out_of_one_run() {
    let env = TestEnv::new();
    crate::google_chat::takeout(&env);
    crate::google_voice::takeout(&env);
    let album = "google-john.doe-20250526/Takeout/Google Photos/Trip";
    env.write(&format!("{album}/IMG_1.jpg"), &jpeg(42));
    env.json(
        &format!("{album}/IMG_1.jpg.json"),
        &json!({"title": "IMG_1.jpg", "photoTakenTime": {"timestamp": "1609459200"}}),
    );
    let run = env.run(&[
        "google-john.doe-20250526",
        "-o",
        "out",
        "--timezone",
        "UTC",
    ]);
    assert!(
        run.stderr().contains("Detected 3 processor(s):"),
        "{}",
        run.stderr()
    );
    let report = env.read_json("out/report.json");
    let names: Vec<&str> = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Google Chat", "Google Photos", "Google Voice"]);
    for p in report["processors"].as_array().unwrap() {
        assert!(p["counts"]["written"].as_u64().unwrap() > 0, "{p}");
        assert_eq!(p["username"], "john.doe", "{p}");
    }
    assert_eq!(env.tree("out/photos"), ["gphotos-john.doe-20210101.jpg"]);
    let chat = env.tree("out/chat");
    assert!(chat.iter().any(|n| n.starts_with("gchat-john.doe-")), "{chat:?}");
    let voice = env.tree("out/Google Voice");
    assert!(
        voice.iter().any(|n| n.starts_with("gvoice-john.doe-")),
        "{voice:?}"
    );
}
