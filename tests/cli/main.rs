//! Integration tests: the real binary on exports built in temp folders,
//! outputs checked with kamadak-exif and exiftool.

mod cli_args;
mod google_photos;
mod robustness;
mod support;
