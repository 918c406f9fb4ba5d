//! Tests of what is read from a page: group participants, senders given
//! only by number, conversation-name fallbacks, HTML entities, and pages
//! that are malformed, not UTF-8 or unreadable.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{cite, img, inputs, message, page, Voice, JANE};

const GROUP: &str = "Group Conversation - 2016-05-18T15_00_23Z";

/// Returns the `div.participants` block of a group page.
fn participants(cites: &[String]) -> String {
    format!(
        "<div class=\"participants\">Group conversation with:\n{}</div>",
        cites.join(",\n")
    )
}

#[test]
fn group_pages_are_named_by_their_participants() {
    let v = Voice::new();
    let people = [
        cite("Jane Doe", "+1555"),
        cite("Me", "+1000"),
        cite("", "+15559876543"),
        cite("Bob &amp; Co", "+1666"),
    ];
    let body = participants(&people)
        + &message(
            "2016-05-18T11:00:23-04:00",
            &people[3],
            &img(&format!("{GROUP}-1-1")),
        )
        + &message(
            "2016-05-18T11:01:23-04:00",
            &people[1],
            &img(&format!("{GROUP}-2-1")),
        );
    v.put(&format!("{GROUP}.html"), page("Group Conversation", &body))
        .media(&format!("{GROUP}-1-1.jpg"))
        .media(&format!("{GROUP}-2-1.gif"));
    let plan = v.plan();
    let name = "Jane Doe, +15559876543, Bob & Co";
    let got: Vec<(&str, &str, &str)> = plan
        .items
        .iter()
        .map(|i| {
            let sender = i.context["sender"].as_str().unwrap();
            (i.album.as_str(), i.prefix.as_str(), sender)
        })
        .collect();
    let prefix = "gvoice-john.doe-jane_doe_15559876543_bob_co";
    assert_eq!(got, [(name, prefix, "Bob & Co"), (name, prefix, "john.doe")]);
    let description = plan.items[0].description.as_deref().unwrap();
    assert_eq!(
        description,
        format!(
            "Source: Google Voice/john.doe\nConversation: \"{name}\"\n\
             Sender: \"Bob & Co\""
        )
    );
}

#[test]
fn a_sender_without_a_name_is_its_number() {
    let v = Voice::new();
    let number = cite("", "+15551234567");
    let body = message("2016-05-18T11:00:23-04:00", &number, &img("a"));
    // No title: the first sender other than `Me` names the conversation.
    v.put(&format!("{JANE}.html"), page("", &body)).media("a.jpg");
    let plan = v.plan();
    let item = &plan.items[0];
    assert_eq!(item.album, "+15551234567");
    assert_eq!(item.context["sender"], "+15551234567");
    assert_eq!(item.prefix, "gvoice-john.doe-15551234567");
}

#[test]
fn names_fall_back_to_the_file_name() {
    let v = Voice::new();
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("Me", "+1"), &img("a"))
            + &message("2016-05-18T11:00:24-04:00", "", &img("b"));
    v.put("Jane Roe - Text - 2016-05-18T15_00_23Z.html", page(" ", &body))
        .media("a.jpg")
        .media("b.jpg");
    let plan = v.plan();
    let got: Vec<(&str, &str)> = plan
        .items
        .iter()
        .map(|i| (i.album.as_str(), i.context["sender"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("Jane Roe", "john.doe"), ("Jane Roe", "unknown")]);
}

#[test]
fn entities_in_names_texts_and_sources_are_decoded() {
    let v = Voice::new();
    let who = cite("O&#39;Brien &lt;3&gt;", "+1555");
    let inner = format!(
        "<q>&quot;Hi&quot; &#233;&#x263A;<br>bye</q>{}",
        img("Tom &amp; Jerry")
    );
    let body = message("2016-05-18T11:00:23-04:00", &who, &inner);
    v.put(&format!("{JANE}.html"), page("Me to Tom &amp; Jerry&#39;s", &body))
        .media("Tom & Jerry.jpg");
    let plan = v.plan();
    let item = &plan.items[0];
    assert_eq!(item.input, v.rel("Tom & Jerry.jpg"));
    assert_eq!(item.album, "Tom & Jerry's");
    assert_eq!(item.context["sender"], "O'Brien <3>");
    assert_eq!(item.context["text"], "\"Hi\" é☺\nbye");
    assert_eq!(item.prefix, "gvoice-john.doe-tom_jerrys");
}

#[test]
fn class_tests_are_on_tokens() {
    let v = Voice::new();
    let body = "<div class=\"message outgoing\">\
        <abbr class=\"published dt\" \
        title=\"2016-05-18T11:00:23-04:00\">x</abbr>\
        <cite class=\"vcard sender\"><a class=\"tel\" href=\"tel:+1\">\
        <abbr class=\"fn\" title=\"\">Jane</abbr></a></cite>\
        <img src=\"a\"></div>\
        <div class=\"messages\"><img src=\"b\"></div>\
        <div class=\"xmessage\"><img src=\"c\"></div>";
    v.put(&format!("{JANE}.html"), page("Me to Jane", body))
        .media("a.jpg")
        .media("b.jpg")
        .media("c.jpg");
    let plan = v.plan();
    assert_eq!(inputs(&plan), [v.rel("a.jpg")]);
    assert!(plan.items[0].capture.is_some());
    assert_eq!(plan.items[0].context["sender"], "Jane");
    assert_eq!(plan.unmatched.len(), 2);
}

#[test]
fn malformed_pages_do_not_crash() {
    let v = Voice::new();
    let broken = [
        "<html><body><div class=\"message\"><img src=\"a",
        "<div class=\"message\"><abbr class=\"dt\" \
         title=\"2016-05-18T11:00:23-04:00<img src=\"b\"></div></div></div>",
        "</div><<<>>><div class='message'><img src=b2/><p ",
        "<div class=\"message\"><abbr class=\"dt\" title=\"T\"></abbr>\
         <cite class=\"sender\"><a class=\"tel\"></a></cite>\
         <img src=\"c\"><img src=\"\"><video></video><a class=\"video\">\
         </a></div>",
        "",
        "\u{feff}<!-- unterminated",
        "<div class=\"message\">&#xFFFFFFFF; &#55296; &amp<img src=\"&#0;\">",
    ];
    for (i, html) in broken.iter().enumerate() {
        v.put(&format!("x - Text - {i}.html"), html);
    }
    v.media("c.jpg");
    let plan = v.plan();
    let item = plan.items.iter().find(|i| i.input == v.rel("c.jpg"));
    let item = item.expect("the page with a parsable message still counts");
    assert_eq!(item.capture, None);
    assert_eq!(item.context["sender"], "unknown");
}

#[test]
fn pages_that_cannot_be_read_are_skipped() {
    let v = Voice::new();
    let good =
        message("2016-05-18T11:00:23-04:00", &cite("A", "+1"), &img("good"));
    let latin1 = b"<title>Me to Ren\xe9e</title><div class=\"message\">\
        <img src=\"bad\"></div>";
    v.put(&format!("{JANE}.html"), page("Me to A", &good))
        .put("Renee - Text - 1.html", latin1)
        .media("good.jpg")
        .media("bad.jpg");
    let locked = v.export.path.join(v.calls).join("Locked - Text - 2.html");
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("B", "+2"), &img("locked"));
    fs::write(&locked, page("Me to B", &body)).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    v.media("locked.jpg");
    let plan = v.plan();
    assert_eq!(inputs(&plan)[0], v.rel("good.jpg"));
    let left: Vec<&str> =
        plan.unmatched.iter().map(|u| u.input.as_str()).collect();
    assert!(left.contains(&v.rel("bad.jpg").as_str()), "{left:?}");
    // Root reads the page anyway; then its file is an item.
    if fs::read(&locked).is_err() {
        assert!(left.contains(&v.rel("locked.jpg").as_str()), "{left:?}");
    }
    assert!(plan.orphans.is_empty());
}
