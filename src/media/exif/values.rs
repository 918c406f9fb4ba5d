//! Encodes memoria's values as new EXIF entries: date text,
//! descriptions and the GPS IFD, with the exact types and counts of
//! metadata.md §6 "EXIF entries" and the rationals of §3.

use super::tiff::{types, Order};
use crate::media::model::{Gps, Stamp};

/// An entry memoria adds or replaces, value bytes already in the block's
/// byte order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewEntry {
    /// Tag number.
    pub(crate) tag: u16,
    /// Field type.
    pub(crate) typ: u16,
    /// Number of values.
    pub(crate) count: u32,
    /// Value bytes; stored inline when at most 4 bytes long.
    pub(crate) data: Vec<u8>,
}

impl NewEntry {
    /// Returns an ASCII entry holding the UTF-8 bytes of `text` plus NUL
    /// (metadata.md §6: type 2, never the Exif 3.0 UTF-8 type).
    pub(crate) fn ascii(tag: u16, text: &str) -> NewEntry {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        NewEntry::new(tag, types::ASCII, data)
    }

    /// Returns an entry of byte-sized `typ` (BYTE, UNDEFINED) over `data`.
    pub(crate) fn bytes(tag: u16, typ: u16, data: &[u8]) -> NewEntry {
        NewEntry::new(tag, typ, data.to_vec())
    }

    /// Returns a LONG entry pointing at a sub-IFD.
    pub(crate) fn pointer(tag: u16, offset: u32, order: Order) -> NewEntry {
        let data = order.put_u32(offset).to_vec();
        NewEntry { tag, typ: types::LONG, count: 1, data }
    }

    /// Returns a RATIONAL entry with one value per `(num, den)` pair.
    fn rationals(tag: u16, values: &[(u32, u32)], order: Order) -> NewEntry {
        let data: Vec<u8> = values
            .iter()
            .flat_map(|&(n, d)| [order.put_u32(n), order.put_u32(d)])
            .flatten()
            .collect();
        let count = values.len() as u32;
        NewEntry { tag, typ: types::RATIONAL, count, data }
    }

    /// Returns an entry whose count is the byte length of `data`.
    fn new(tag: u16, typ: u16, data: Vec<u8>) -> NewEntry {
        let count = u32::try_from(data.len()).unwrap_or(u32::MAX);
        NewEntry { tag, typ, count, data }
    }
}

/// Returns `YYYY:MM:DD HH:MM:SS`, or None for a year outside 1..=9999,
/// which the fixed count of 20 cannot hold (metadata.md §6).
pub(crate) fn date_text(stamp: &Stamp) -> Option<String> {
    let t = stamp.local;
    if !(1..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}:{:02}:{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// Returns the GPS IFD entries for `gps` (metadata.md §3, "EXIF GPS IFD"):
/// version 2.3.0.0, refs, coordinates and, when non-zero, altitude.
pub(crate) fn gps_entries(gps: &Gps, order: Order) -> Vec<NewEntry> {
    let lat_ref = if gps.latitude < 0.0 { "S" } else { "N" };
    let lon_ref = if gps.longitude < 0.0 { "W" } else { "E" };
    let mut entries = vec![
        NewEntry::bytes(0x0000, types::BYTE, &[2, 3, 0, 0]),
        NewEntry::ascii(0x0001, lat_ref),
        NewEntry::rationals(0x0002, &dms(gps.latitude), order),
        NewEntry::ascii(0x0003, lon_ref),
        NewEntry::rationals(0x0004, &dms(gps.longitude), order),
    ];
    let altitude = gps.altitude.filter(|a| a.is_finite() && *a != 0.0);
    if let Some(alt) = altitude {
        let below = u8::from(alt < 0.0);
        let millis = (alt.abs() * 1000.0).round().min(f64::from(u32::MAX));
        entries.push(NewEntry::bytes(0x0005, types::BYTE, &[below]));
        let value = [(millis as u32, 1000)];
        entries.push(NewEntry::rationals(0x0006, &value, order));
    }
    entries
}

/// Returns degrees/1, minutes/1, seconds×10000/10000 of `|value|`.
///
/// The total is rounded to 1/10000 s first and then split, so a
/// rounding carry never leaves 60 seconds or 60 minutes (§3).
fn dms(value: f64) -> [(u32, u32); 3] {
    const SEC: u64 = 10_000;
    let total = (value.abs() * 3600.0 * SEC as f64).round() as u64;
    let degrees = total / (3600 * SEC);
    let minutes = total % (3600 * SEC) / (60 * SEC);
    let seconds = total % (60 * SEC);
    [(degrees as u32, 1), (minutes as u32, 1), (seconds as u32, SEC as u32)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::Offset;

    #[test]
    fn dms_matches_spec_example_and_carries() {
        assert_eq!(dms(40.5), [(40, 1), (30, 1), (0, 10000)]);
        assert_eq!(dms(-73.9), [(73, 1), (54, 1), (0, 10000)]);
        // 0.99999999° rounds to exactly 1°: the carry must reach degrees.
        assert_eq!(dms(0.999_999_999), [(1, 1), (0, 1), (0, 10000)]);
        assert_eq!(dms(12.345_678), [(12, 1), (20, 1), (444_408, 10000)]);
        assert_eq!(dms(180.0), [(180, 1), (0, 1), (0, 10000)]);
    }

    #[test]
    fn date_text_has_spec_form() {
        let local = jiff::civil::date(2021, 1, 4).at(18, 8, 30, 0);
        let offset = Offset::from_seconds(-5 * 3600).unwrap();
        let stamp = Stamp { local, offset };
        assert_eq!(date_text(&stamp).unwrap(), "2021:01:04 18:08:30");
        let early = jiff::civil::date(-5, 1, 1).at(0, 0, 0, 0);
        assert_eq!(date_text(&Stamp { local: early, offset }), None);
    }

    #[test]
    fn gps_entries_follow_spec() {
        let gps =
            Gps { latitude: 40.5, longitude: -73.9, altitude: Some(12.3) };
        let e = gps_entries(&gps, Order::Big);
        let tags: Vec<u16> = e.iter().map(|x| x.tag).collect();
        assert_eq!(tags, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(e[0].data, [2, 3, 0, 0]);
        assert_eq!(e[1].data, b"N\0");
        assert_eq!(e[3].data, b"W\0");
        assert_eq!((e[2].typ, e[2].count, e[2].data.len()), (5, 3, 24));
        assert_eq!(e[5].data, [0]);
        assert_eq!(e[6].data, [0, 0, 0x30, 0x0c, 0, 0, 0x03, 0xe8]);
        let low = Gps { altitude: Some(-3.0), ..gps };
        assert_eq!(gps_entries(&low, Order::Big)[5].data, [1]);
        let flat = Gps { altitude: Some(0.0), ..gps };
        assert_eq!(gps_entries(&flat, Order::Big).len(), 5);
    }
}
