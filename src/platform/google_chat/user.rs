//! The exporting user of a Google Chat export (platforms.md §4.3): the
//! email of the first `Users/*/user_info.json`, else the export folder
//! name.
//!
//! A missing or unreadable `user_info.json` never stops the processor; it
//! is logged and the folder-name username is used.

use std::fs;

use anyhow::Context;
use serde_json::Value;

use super::locate::{self, Folder};
use crate::discover;

/// The address suffix left out of usernames (§4.3).
const GMAIL: &str = "@gmail.com";

/// The exporting user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct User {
    /// The username used in names, descriptions and albums.
    pub(super) name: String,
    /// The user's email, used to tell the user apart from other members
    /// (§4.4); `None` when unknown.
    pub(super) email: Option<String>,
}

impl User {
    /// Returns the user of the export `export_name` whose `Google Chat`
    /// folder is `chat`.
    pub(super) fn find(chat: &Folder, export_name: &str) -> User {
        match email_in(chat) {
            Ok(email) => User { name: username(&email), email: Some(email) },
            Err(err) => {
                let name = discover::username(export_name, "google");
                log::warn!("{err:#}; using the username {name:?}");
                let email = assumed_email(&name);
                User { name, email }
            }
        }
    }

    /// Returns whether `email` is the user's own address (compared
    /// case-insensitively, as mail providers do).
    pub(super) fn is_own(&self, email: Option<&str>) -> bool {
        match (&self.email, email) {
            (Some(own), Some(email)) => own.eq_ignore_ascii_case(email.trim()),
            _ => false,
        }
    }
}

/// Returns the `user.email` of the first user folder (byte order).
fn email_in(chat: &Folder) -> anyhow::Result<String> {
    let users = chat.child("Users");
    let first =
        locate::sub_folders(&users)?.into_iter().next().with_context(|| {
            format!("no user folder in {}", users.path.display())
        })?;
    let path = first.path.join("user_info.json");
    let bytes = fs::read(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let json: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid JSON in {}", path.display()))?;
    let email = json.get("user").and_then(|u| u.get("email"));
    let email = email.and_then(Value::as_str).map(str::trim);
    email
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .with_context(|| format!("no user.email in {}", path.display()))
}

/// Returns the username of `email`: without a trailing `@gmail.com`
/// (any case), other domains kept in full.
fn username(email: &str) -> String {
    let cut = email.len().checked_sub(GMAIL.len()).filter(|&at| {
        at > 0
            && email.is_char_boundary(at)
            && email[at..].eq_ignore_ascii_case(GMAIL)
    });
    match cut {
        Some(at) => email[..at].to_string(),
        None => email.to_string(),
    }
}

/// Returns the email a username from the folder name stands for: the
/// username itself when it holds an `@`, else its Gmail address, the
/// reverse of [`username`]; `None` for `unknown`.
fn assumed_email(name: &str) -> Option<String> {
    if name == "unknown" {
        None
    } else if name.contains('@') {
        Some(name.to_string())
    } else {
        Some(format!("{name}{GMAIL}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_is_stripped_and_other_domains_kept() {
        let cases = [
            ("john.doe@gmail.com", "john.doe"),
            ("John.Doe@GMail.COM", "John.Doe"),
            ("jane@example.com", "jane@example.com"),
            ("bob@gmail.com.au", "bob@gmail.com.au"),
            ("@gmail.com", "@gmail.com"),
            ("plain", "plain"),
        ];
        for (email, want) in cases {
            assert_eq!(username(email), want, "{email}");
        }
    }

    #[test]
    fn assumed_emails_reverse_the_username() {
        assert_eq!(
            assumed_email("john.doe").as_deref(),
            Some("john.doe@gmail.com")
        );
        assert_eq!(assumed_email("a@b.org").as_deref(), Some("a@b.org"));
        assert_eq!(assumed_email("unknown"), None);
    }
}
