//! Broken and hostile input: every entry point returns an error and
//! never panics; a seeded mutation loop hammers a real small MP4.

use super::fixtures::{self, bx, Video};
use super::*;
use DescriptionPolicy::Overwrite;

/// Asserts that embed, read and validate all reject `bytes`, embed with
/// a `Malformed` error.
fn assert_malformed(bytes: &[u8], what: &str) {
    let result = embed_bytes(bytes, &full_meta(Overwrite));
    assert!(
        matches!(result, Err(EmbedError::Malformed(_))),
        "{what}: {result:?}"
    );
    assert!(read_bytes(bytes).is_err(), "{what}: read");
    assert!(validate_bytes(bytes).is_err(), "{what}: validate");
}

#[test]
fn empty_file_is_malformed() {
    assert_malformed(&[], "empty file");
}

#[test]
fn box_past_end_of_file_is_malformed() {
    let src = fixtures::video(Video::MoovLast);
    assert_malformed(&src[..src.len() - 1], "moov cut by one byte");
    let mut big = src.clone();
    big[3] = 0xFF;
    assert_malformed(&big, "ftyp size past end");
}

#[test]
fn truncated_moov_is_malformed() {
    let src = fixtures::video(Video::MoovFirst);
    let moov = top_offset(&src, b"moov").unwrap();
    assert_malformed(&src[..moov + 500], "moov cut in half");
    assert_malformed(&src[..moov + 4], "moov header cut");
}

#[test]
fn trailing_bytes_and_bad_children_are_malformed() {
    let src = fixtures::video(Video::MoovLast);
    assert_malformed(&[&src[..], &[0, 0, 1]].concat(), "trailing bytes");
    let moov = top_offset(&src, b"moov").unwrap();
    let mut zero = src.clone();
    zero[moov + 8..moov + 12].copy_from_slice(&[0; 4]);
    assert_malformed(&zero, "size-0 mvhd inside moov");
    let mut small = src.clone();
    small[moov + 8..moov + 12].copy_from_slice(&[0, 0, 0, 3]);
    assert_malformed(&small, "mvhd smaller than its header");
    let no_moov = &src[..moov];
    assert_malformed(no_moov, "no moov");
    let two = [&src[..], &src[moov..]].concat();
    assert_malformed(&two, "two moov boxes");
}

#[test]
fn chunk_offsets_outside_mdat_fail_validation() {
    let src = fixtures::video(Video::MoovLast);
    validate_bytes(&src).expect("fixture validates");
    let stco = src.windows(4).position(|w| w == b"stco").unwrap();
    let mut bad = src.clone();
    bad[stco + 12..stco + 16].copy_from_slice(&[0xFF; 4]);
    let err = validate_bytes(&bad).unwrap_err();
    assert!(err.contains("outside every mdat"), "{err}");
    let mut early = src.clone();
    early[stco + 12..stco + 16].copy_from_slice(&4u32.to_be_bytes());
    assert!(validate_bytes(&early).is_err(), "offset inside ftyp");
    let mut count = src;
    count[stco + 8..stco + 12].copy_from_slice(&[0xFF; 4]);
    assert!(validate_bytes(&count).is_err(), "count past box end");
}

#[test]
fn fragmented_files_are_unsupported() {
    let src = fixtures::video(Video::MoovLast);
    let with_moof = [&src[..], &bx(b"moof", &[0; 16])].concat();
    let result = embed_bytes(&with_moof, &full_meta(Overwrite));
    let Err(EmbedError::Unsupported(why)) = result else {
        panic!("expected unsupported, got {result:?}");
    };
    assert_eq!(why, "fragmented mp4");
}

/// A seeded xorshift64 generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Returns `src` with a few random changes, biased towards `moov`.
fn mutate(
    src: &[u8],
    moov: std::ops::Range<usize>,
    rng: &mut XorShift,
) -> Vec<u8> {
    let mut bytes = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = match rng.below(4) {
            0 => rng.below(bytes.len()),
            _ => moov.start + rng.below(moov.len()),
        };
        bytes[at] = match rng.below(3) {
            0 => rng.next() as u8,
            1 => bytes[at] ^ (1 << rng.below(8)),
            _ => [0, 1, 0xFF, 8][rng.below(4)],
        };
    }
    if rng.below(10) == 0 {
        bytes.truncate(rng.below(bytes.len()));
    }
    bytes
}

#[test]
fn mutated_files_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for video in [Video::MoovFirst, Video::Mov] {
        let src = fixtures::video(video);
        let start = top_offset(&src, b"moov").unwrap();
        let size =
            u32::from_be_bytes(src[start..start + 4].try_into().unwrap());
        let moov = start..start + size as usize;
        for round in 0..1500 {
            let bytes = mutate(&src, moov.clone(), &mut rng);
            let valid = validate_bytes(&bytes).is_ok();
            let _ = read_bytes(&bytes);
            if let Ok((out, _)) = embed_bytes(&bytes, &full_meta(Overwrite)) {
                let ok = validate_bytes(&out);
                assert!(
                    !valid || ok.is_ok(),
                    "{video:?} round {round}: {ok:?}"
                );
            }
        }
    }
}
