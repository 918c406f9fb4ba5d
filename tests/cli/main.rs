//! Integration tests: the real binary on exports built in temp folders,
//! outputs checked with kamadak-exif and exiftool.

// Test fixtures fail loudly: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

mod cli_args;
mod fake_immich;
mod google_chat;
mod google_photos;
mod google_takeout;
mod google_voice;
mod robustness;
mod snap_server;
mod snapchat_memories;
mod snapchat_messages;
mod snapchat_mydata;
mod support;
mod upload;
