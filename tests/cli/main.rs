//! Integration tests: the real binary on exports built in temp folders,
//! outputs checked with kamadak-exif and exiftool.

// Test fixtures fail loudly: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

mod cli_args;
mod google_photos;
mod robustness;
mod support;
