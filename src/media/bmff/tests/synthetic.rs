//! Synthetic files: chunk offsets near 4 GiB (the `stco` → `co64`
//! upgrade), a 1 GiB media box streamed in bounded buffers, a size-0
//! last box, 64-bit sizes and 64-bit header times.

use super::fixtures::{self, bx, CaptureSink, VirtualFile};
use super::*;
use crate::media::bmff::inspect::EPOCH_1904;
use crate::media::bmff::layout::{self, Layout};
use crate::media::bmff::tables;
use crate::media::bmff::tree::Node;
use DescriptionPolicy::Overwrite;

/// Largest buffer a streaming copy may use (`io::copy` uses 8 KiB).
const BOUNDED: usize = 64 * 1024;

/// Returns the head of a moov-first file (`ftyp`, `moov`, 16-byte `mdat`
/// header) whose `mdat` spans to `len`, with chunk offsets at the start
/// of the media data plus `extra`.
fn moov_first_head(len: u64, extra: &[u32]) -> Vec<u8> {
    let probe = fixtures::synthetic_moov(&vec![0; extra.len() + 1], &[]);
    let data = (fixtures::ftyp().len() + probe.len() + 16) as u32;
    let offsets: Vec<u32> = [data].iter().chain(extra).copied().collect();
    let moov = fixtures::synthetic_moov(&offsets, &[]);
    let head = [fixtures::ftyp(), moov].concat();
    let mdat_size = len - head.len() as u64;
    let mdat = [&1u32.to_be_bytes()[..], b"mdat", &mdat_size.to_be_bytes()];
    [head, mdat.concat()].concat()
}

/// Returns the `moov` of `head` (a file of `len` bytes) as a tree.
fn moov_of(head: Vec<u8>, len: u64) -> (Node, u64) {
    let mut file = VirtualFile::new(head, len);
    let top = Layout::scan(&mut file).unwrap().moov().unwrap();
    let moov = layout::load_moov(&mut file, &top).unwrap();
    (moov, top.end - top.start)
}

/// Returns the chunk offset table of the first track.
fn chunk_table(moov: &Node) -> &Node {
    let trak = moov.child(b"trak").unwrap();
    let stbl = trak.child(b"mdia").unwrap().child(b"minf").unwrap();
    let stbl = stbl.child(b"stbl").unwrap();
    let mut tables = stbl.children().iter();
    tables.find(|c| matches!(&c.kind, b"stco" | b"co64")).unwrap()
}

#[test]
fn stco_becomes_co64_when_shifted_offsets_overflow() {
    let len = (1u64 << 32) + 4096;
    let near_end = u32::MAX - 100;
    let head = moov_first_head(len, &[near_end]);
    let mut src = VirtualFile::new(head.clone(), len);
    validate(&mut src).expect("synthetic input is valid");
    let mut sink = CaptureSink::new(1 << 20);
    let done = embed(&mut src, &mut sink, &full_meta(Overwrite)).unwrap();
    assert_eq!(
        done,
        applied(
            FieldOutcome::Written,
            FieldOutcome::Written,
            FieldOutcome::Written
        )
    );
    assert_eq!(sink.nonzero_tail, 0, "media bytes copied as they were");
    let (old_moov, old_size) = moov_of(head, len);
    let (new_moov, new_size) = moov_of(sink.head.clone(), sink.total);
    let delta = new_size - old_size;
    assert_eq!(sink.total, len + delta);
    let table = chunk_table(&new_moov);
    assert_eq!(&table.kind, b"co64");
    let old = chunk_table(&old_moov).payload().unwrap();
    let first = u64::from(u32::from_be_bytes(old[8..12].try_into().unwrap()));
    let want = [first + delta, u64::from(near_end) + delta];
    let got: Vec<u64> = table.payload().unwrap()[8..]
        .chunks(8)
        .map(|c| u64::from_be_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got, want);
    let mut out = VirtualFile::new(sink.head, sink.total);
    validate(&mut out).expect("output validates");
    assert_eq!(read(&mut out).unwrap().gps, Some(gps()));
}

/// Returns a moov-first file whose chunk offset points at the first
/// byte of `payload`, the payload of an `mdat` with header `mdat`; `extra`
/// boxes go at the end of `moov`.
fn small_moov_first(mdat: &[u8], payload: &[u8], extra: &[u8]) -> Vec<u8> {
    let probe = fixtures::synthetic_moov(&[0], extra);
    let data = (fixtures::ftyp().len() + probe.len() + mdat.len()) as u32;
    let moov = fixtures::synthetic_moov(&[data], extra);
    [&fixtures::ftyp()[..], &moov, mdat, payload].concat()
}

#[test]
fn gigabyte_media_streams_through_bounded_buffers() {
    let ftyp = fixtures::ftyp();
    let data = ftyp.len() + 8;
    let moov = fixtures::synthetic_moov(&[data as u32], &[]);
    let len = (1u64 << 30) + (data + moov.len()) as u64;
    let mdat_size = len - (ftyp.len() + moov.len()) as u64;
    let mdat = [&(mdat_size as u32).to_be_bytes()[..], b"mdat"].concat();
    let head = [ftyp, mdat].concat();
    let mut src = VirtualFile::with_tail(head, len, moov);
    validate(&mut src).expect("synthetic input is valid");
    let mut sink = CaptureSink::new(1024);
    embed(&mut src, &mut sink, &full_meta(Overwrite)).unwrap();
    assert!(src.largest_read <= BOUNDED, "read of {}", src.largest_read);
    assert!(sink.largest_write <= BOUNDED, "write of {}", sink.largest_write);
    assert!(sink.total > len);
}

#[test]
fn size_zero_last_mdat_is_supported() {
    let src =
        small_moov_first(&[0, 0, 0, 0, b'm', b'd', b'a', b't'], &[7; 100], &[]);
    validate_bytes(&src).expect("size-0 mdat validates");
    let (out, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    validate_bytes(&out).expect("output validates");
    assert!(out.ends_with(&src[src.len() - 108..]), "mdat copied as it was");
    assert_eq!(read_bytes(&out).unwrap().description.as_deref(), Some(TEXT));
}

#[test]
fn header_times_keep_their_version() {
    let mdat = bx(b"mdat", &[5; 10]);
    let src = small_moov_first(&mdat[..8], &mdat[8..], &[]);
    let (out, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    let len = out.len() as u64;
    let (moov, _) = moov_of(out, len);
    let secs = (stamp().instant().as_second() + EPOCH_1904) as u64;
    let mvhd = moov.child(b"mvhd").unwrap().payload().unwrap();
    let trak = moov.child(b"trak").unwrap();
    let tkhd = trak.child(b"tkhd").unwrap().payload().unwrap();
    let mdhd = trak.child(b"mdia").unwrap().child(b"mdhd").unwrap();
    let mdhd = mdhd.payload().unwrap();
    assert_eq!((mvhd[0], tkhd[0], mdhd[0]), (1, 0, 1));
    let long = secs.to_be_bytes();
    assert_eq!(mvhd[4..20], [long, long].concat());
    let short = (secs as u32).to_be_bytes();
    assert_eq!(tkhd[4..12], [short, short].concat());
    assert_eq!(tables::creation_time(mdhd), Some(secs));
    assert_eq!(mdhd[12..20], long);
}

#[test]
fn large_size_boxes_keep_their_header_form() {
    let large = [&1u32.to_be_bytes()[..], b"free", &24u64.to_be_bytes()];
    let free = [&large.concat()[..], &[9; 8]].concat();
    let mdat = bx(b"mdat", &[1; 64]);
    let src = small_moov_first(&mdat[..8], &mdat[8..], &free);
    validate_bytes(&src).expect("input validates");
    let (out, _) = embed_bytes(&src, &full_meta(Overwrite)).unwrap();
    validate_bytes(&out).expect("output validates");
    assert!(out.windows(free.len()).any(|w| w == free), "free box kept");
}
