//! The native EXIF writer shared by the JPEG, PNG and WebP containers:
//! merges memoria's dates, offsets, GPS and description into a
//! TIFF-structured EXIF block (metadata.md §4.2, §5, §6).
//!
//! Existing entries are never dropped or moved: the original block is
//! kept as a prefix and rewritten IFDs are appended ([`build`]).

mod build;
mod tiff;
mod values;

#[cfg(test)]
pub(crate) mod roundtrip;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use self::build::{to_u32, Draft};
pub(crate) use self::tiff::types;
use self::tiff::{Ifd, Order, RawEntry, Tiff};
use self::values::NewEntry;
use crate::media::model::{
    offset_text, Applied, DescriptionPolicy, EmbedError, FieldOutcome, Gps,
    Metadata, Stamp,
};

/// IFD0 pointer to the Exif IFD.
pub(crate) const EXIF_POINTER: u16 = 0x8769;
/// IFD0 pointer to the GPS IFD.
pub(crate) const GPS_POINTER: u16 = 0x8825;
/// IFD0 `ImageDescription`.
const DESCRIPTION: u16 = 0x010E;
/// Exif IFD `ExifVersion`.
const EXIF_VERSION: u16 = 0x9000;
/// Exif IFD `ComponentsConfiguration`.
const COMPONENTS: u16 = 0x9101;
/// The version written with offset tags, which need 0231 or later (§6).
const VERSION_0232: &[u8; 4] = b"0232";
/// GPS IFD `GPSLatitude` and `GPSLongitude`.
const GPS_LATITUDE: u16 = 0x0002;
const GPS_LONGITUDE: u16 = 0x0004;

/// Where a date tag lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ifd0,
    Exif,
}

/// The three date tags with their offset tags, in writing order
/// (metadata.md §6): `ModifyDate`/`OffsetTime`,
/// `DateTimeOriginal`/`OffsetTimeOriginal`,
/// `CreateDate`/`OffsetTimeDigitized`.
const DATES: [(Dir, u16, u16); 3] = [
    (Dir::Ifd0, 0x0132, 0x9010),
    (Dir::Exif, 0x9003, 0x9011),
    (Dir::Exif, 0x9004, 0x9012),
];

/// The result of [`merge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Merged {
    /// The new TIFF block, or None when the existing one needs no change.
    pub(crate) tiff: Option<Vec<u8>>,
    /// What was applied, per field.
    pub(crate) applied: Applied,
}

/// Merges `meta` into an existing TIFF-structured EXIF block (bytes
/// starting at the TIFF header "II*\0"/"MM\0*", no "Exif\0\0" prefix), or
/// builds a new block when `existing` is None. Returns the new block and
/// what was applied.
///
/// Dates and GPS are fill-if-empty, the description follows
/// `meta.description_policy` (metadata.md §4.2). A block that cannot be
/// parsed gives [`EmbedError::Malformed`]: bytes that are not understood
/// are never dropped. The result is deterministic.
pub(crate) fn merge(
    existing: Option<&[u8]>,
    meta: &Metadata,
) -> Result<Merged, EmbedError> {
    let doc = match existing {
        Some(bytes) => Doc::parse(bytes).map_err(EmbedError::Malformed)?,
        None => Doc::empty(),
    };
    let edits = Edits::plan(&doc, meta).map_err(EmbedError::Malformed)?;
    let tiff = if edits.is_empty() { None } else { Some(doc.write(&edits)?) };
    Ok(Merged { tiff, applied: edits.applied })
}

/// Checks that `tiff` is a readable EXIF block: header, IFD0 and the
/// Exif and GPS IFDs in range and without loops, and the values of every
/// tag memoria writes inside the block.
pub(crate) fn check(tiff: &[u8]) -> Result<(), String> {
    Doc::parse(tiff).map(|_| ())
}

/// The tags memoria may write, per IFD: IFD0, Exif IFD, GPS IFD (§6).
const WRITTEN_TAGS: [&[u16]; 3] = [
    &[0x0132, DESCRIPTION],
    &[0x9003, 0x9004, 0x9010, 0x9011, 0x9012, EXIF_VERSION, COMPONENTS],
    &[0, 1, 2, 3, 4, 5, 6],
];

/// The header of a block built from nothing: little endian, IFD0 at 8.
const EMPTY_HEADER: &[u8] = b"II*\0\x08\0\0\0";

/// A parsed EXIF block: the IFDs the merger may rewrite.
struct Doc<'a> {
    tiff: Tiff<'a>,
    ifd0: Ifd,
    exif: Option<Ifd>,
    gps: Option<Ifd>,
}

impl<'a> Doc<'a> {
    /// Returns the document of a new, empty block.
    fn empty() -> Doc<'static> {
        let tiff = Tiff { data: EMPTY_HEADER, order: Order::Little };
        Doc { tiff, ifd0: Ifd::default(), exif: None, gps: None }
    }

    /// Parses the header, IFD0 and its Exif and GPS IFDs.
    fn parse(bytes: &'a [u8]) -> Result<Doc<'a>, String> {
        let (tiff, ifd0_at) = Tiff::from_bytes(bytes)?;
        if ifd0_at < 8 {
            return Err(format!("ifd0 offset {ifd0_at} inside tiff header"));
        }
        let ifd0 = tiff.ifd(ifd0_at, "ifd0")?;
        let exif = sub_ifd(&tiff, &ifd0, EXIF_POINTER, "exif ifd")?;
        let gps = sub_ifd(&tiff, &ifd0, GPS_POINTER, "gps ifd")?;
        let offsets = [Some(&ifd0), exif.as_ref(), gps.as_ref()];
        let offsets: Vec<usize> =
            offsets.iter().flatten().map(|i| i.offset).collect();
        // The IFD chain is not followed (IFD1 is kept verbatim), but a
        // pointer back to an IFD read here is a loop other readers hit.
        let next = tiff.order.u32(ifd0.next) as usize;
        let repeats =
            (1..offsets.len()).any(|i| offsets[..i].contains(&offsets[i]));
        if repeats || offsets.contains(&next) {
            return Err("exif ifds loop".to_string());
        }
        let doc = Doc { tiff, ifd0, exif, gps };
        doc.check_values()?;
        Ok(doc)
    }

    /// Checks that every tag memoria may write or inspect has its value
    /// inside the block (types it does not know are left alone).
    fn check_values(&self) -> Result<(), String> {
        let ifds = [Some(&self.ifd0), self.exif.as_ref(), self.gps.as_ref()];
        for (ifd, tags) in ifds.into_iter().zip(WRITTEN_TAGS) {
            let entries = ifd.map(|i| i.entries.as_slice()).unwrap_or_default();
            let known = |e: &&RawEntry| tiff::type_size(e.typ).is_some();
            for e in
                entries.iter().filter(|e| tags.contains(&e.tag)).filter(known)
            {
                self.tiff.value(e)?;
            }
        }
        Ok(())
    }

    /// Returns the first entry with `tag` in `dir`.
    fn find(&self, dir: Dir, tag: u16) -> Option<&RawEntry> {
        match dir {
            Dir::Ifd0 => self.ifd0.find(tag),
            Dir::Exif => self.exif.as_ref()?.find(tag),
        }
    }

    /// Returns true when `entry` holds text that is non-empty after
    /// trimming; with `is_date`, text starting with `0000` counts as
    /// absent too (metadata.md §5). A value of unknown type counts as
    /// present so it is never replaced.
    fn has_text(
        &self,
        entry: Option<&RawEntry>,
        is_date: bool,
    ) -> Result<bool, String> {
        let Some(entry) = entry else { return Ok(false) };
        if tiff::type_size(entry.typ).is_none() {
            return Ok(true);
        }
        let bytes = self.tiff.value(entry)?;
        let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
        let text = String::from_utf8_lossy(text);
        let text = text.trim();
        let is_zero_date = is_date && text.starts_with("0000");
        Ok(!text.is_empty() && !is_zero_date)
    }

    /// Returns true when the GPS IFD holds latitude and longitude, not
    /// both 0 (metadata.md §3). Values that are not three rationals
    /// count as present, so they are never replaced.
    fn has_position(&self) -> Result<bool, String> {
        let Some(gps) = &self.gps else { return Ok(false) };
        let (Some(lat), Some(lon)) =
            (gps.find(GPS_LATITUDE), gps.find(GPS_LONGITUDE))
        else {
            return Ok(false);
        };
        Ok(!(self.is_zero_dms(lat)? && self.is_zero_dms(lon)?))
    }

    /// Returns true when `e` is three rationals whose value is 0.
    fn is_zero_dms(&self, e: &RawEntry) -> Result<bool, String> {
        if e.typ != types::RATIONAL || e.count < 3 {
            return Ok(false);
        }
        let bytes = self.tiff.value(e)?;
        let order = self.tiff.order;
        let zero = bytes.chunks_exact(8).all(|r| {
            let num = order.u32([r[0], r[1], r[2], r[3]]);
            let den = order.u32([r[4], r[5], r[6], r[7]]);
            num == 0 || den == 0
        });
        Ok(zero)
    }

    /// Returns true when `ExifVersion` is missing or below 0231.
    fn needs_version(&self) -> Result<bool, String> {
        let entry = self.find(Dir::Exif, EXIF_VERSION);
        let Some(entry) = entry.filter(|e| tiff::type_size(e.typ) == Some(1))
        else {
            return Ok(true);
        };
        Ok(self.tiff.value(entry)?.as_ref() < b"0231".as_slice())
    }

    /// Returns true when IFD0 already holds exactly `text` as ASCII.
    fn has_description(&self, text: &str) -> bool {
        let Some(e) = self.ifd0.find(DESCRIPTION) else { return false };
        let wanted = NewEntry::ascii(DESCRIPTION, text);
        let same_shape = e.typ == wanted.typ && e.count == wanted.count;
        same_shape && self.tiff.value(e).is_ok_and(|v| *v == *wanted.data)
    }

    /// Returns the original block plus the rewritten IFDs of `edits`.
    fn write(&self, edits: &Edits) -> Result<Vec<u8>, EmbedError> {
        let order = self.tiff.order;
        let mut ifd0 = Draft::from_ifd(Some(&self.ifd0));
        let exif = edits.exif_draft(self.exif.as_ref());
        let gps = edits.gps_draft(self.gps.as_ref());
        edits.ifd0.iter().cloned().for_each(|e| ifd0.upsert(e));
        // Pointers are inline LONGs: placeholders do not change the size.
        for (tag, draft) in [(EXIF_POINTER, &exif), (GPS_POINTER, &gps)] {
            if draft.is_some() {
                ifd0.upsert(NewEntry::pointer(tag, 0, order));
            }
        }
        ifd0.sort();
        let mut out = self.tiff.data.to_vec();
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let ifd0_at = out.len();
        let mut next_at = ifd0_at + ifd0.len();
        for (tag, draft) in [(EXIF_POINTER, &exif), (GPS_POINTER, &gps)] {
            if let Some(draft) = draft {
                ifd0.upsert(NewEntry::pointer(tag, to_u32(next_at)?, order));
                next_at += draft.len();
            }
        }
        ifd0.sort();
        ifd0.write(&mut out, order)?;
        for draft in [&exif, &gps].into_iter().flatten() {
            draft.write(&mut out, order)?;
        }
        if let Some(header) = out.get_mut(4..8) {
            header.copy_from_slice(&order.put_u32(to_u32(ifd0_at)?));
        }
        Ok(out)
    }
}

/// Reads the sub-IFD that IFD0's `tag` points at; a 0 pointer means none.
fn sub_ifd(
    tiff: &Tiff,
    ifd0: &Ifd,
    tag: u16,
    name: &str,
) -> Result<Option<Ifd>, String> {
    let Some(entry) = ifd0.find(tag) else { return Ok(None) };
    match tiff.pointer(entry)? {
        0 => Ok(None),
        offset => tiff.ifd(offset, name).map(Some),
    }
}

/// The entries to add or replace per IFD, and the per-field outcome.
struct Edits {
    ifd0: Vec<NewEntry>,
    exif: Vec<NewEntry>,
    gps: Vec<NewEntry>,
    applied: Applied,
}

impl Edits {
    /// Decides every tag to write for `meta` into `doc` (metadata.md §4.2).
    fn plan(doc: &Doc, meta: &Metadata) -> Result<Edits, String> {
        let mut edits = Edits {
            ifd0: Vec::new(),
            exif: Vec::new(),
            gps: Vec::new(),
            applied: Applied {
                dates: FieldOutcome::None,
                gps: FieldOutcome::None,
                description: FieldOutcome::None,
                exif_rebuilt: false,
            },
        };
        if let Some(stamp) = &meta.date {
            edits.applied.dates = edits.plan_dates(doc, stamp)?;
        }
        if let Some(gps) = meta.gps.filter(Gps::is_valid) {
            edits.applied.gps = edits.plan_gps(doc, &gps)?;
        }
        if let Some(text) = meta.description.as_deref() {
            let policy = meta.description_policy;
            edits.applied.description =
                edits.plan_description(doc, text, policy)?;
        }
        Ok(edits)
    }

    /// Fills each absent date tag, and its offset tag when that is absent
    /// too; raises `ExifVersion` when offsets are written (§2.4).
    fn plan_dates(
        &mut self,
        doc: &Doc,
        stamp: &Stamp,
    ) -> Result<FieldOutcome, String> {
        let Some(date) = values::date_text(stamp) else {
            return Ok(FieldOutcome::None);
        };
        let offset = offset_text(stamp.offset);
        let (mut written, mut offsets) = (0, false);
        for (dir, tag, offset_tag) in DATES {
            if doc.has_text(doc.find(dir, tag), true)? {
                continue;
            }
            let entry = NewEntry::ascii(tag, &date);
            match dir {
                Dir::Ifd0 => self.ifd0.push(entry),
                Dir::Exif => self.exif.push(entry),
            }
            written += 1;
            if !doc.has_text(doc.find(Dir::Exif, offset_tag), false)? {
                self.exif.push(NewEntry::ascii(offset_tag, &offset));
                offsets = true;
            }
        }
        if offsets && doc.exif.is_some() && doc.needs_version()? {
            self.exif.push(version_entry());
        }
        Ok(match written {
            0 => FieldOutcome::Kept,
            3 => FieldOutcome::Written,
            _ => FieldOutcome::Partial,
        })
    }

    /// Writes the position unless the file already has one (§3).
    fn plan_gps(
        &mut self,
        doc: &Doc,
        gps: &Gps,
    ) -> Result<FieldOutcome, String> {
        if doc.has_position()? {
            return Ok(FieldOutcome::Kept);
        }
        self.gps = values::gps_entries(gps, doc.tiff.order);
        Ok(FieldOutcome::Written)
    }

    /// Writes `text` as `ImageDescription` per `policy` (§4.2).
    fn plan_description(
        &mut self,
        doc: &Doc,
        text: &str,
        policy: DescriptionPolicy,
    ) -> Result<FieldOutcome, String> {
        if text.trim().is_empty() {
            return Ok(FieldOutcome::None);
        }
        let existing = doc.ifd0.find(DESCRIPTION);
        if policy == DescriptionPolicy::KeepIfPresent
            && doc.has_text(existing, false)?
        {
            return Ok(FieldOutcome::Kept);
        }
        // Already exactly this text: written, and nothing to change, so a
        // second run gives identical bytes.
        if !doc.has_description(text) {
            self.ifd0.push(NewEntry::ascii(DESCRIPTION, text));
        }
        Ok(FieldOutcome::Written)
    }

    /// Returns true when no entry needs writing.
    fn is_empty(&self) -> bool {
        self.ifd0.is_empty() && self.exif.is_empty() && self.gps.is_empty()
    }

    /// Returns the rebuilt Exif IFD, or None when it is unchanged; a new
    /// Exif IFD gets `ExifVersion` 0232 (metadata.md §6) and the
    /// `ComponentsConfiguration` Exif requires for compressed images
    /// (Y Cb Cr, exiftool's validation reports it missing otherwise).
    fn exif_draft(&self, existing: Option<&Ifd>) -> Option<Draft> {
        if self.exif.is_empty() {
            return None;
        }
        let mut draft = Draft::from_ifd(existing);
        if existing.is_none() {
            draft.upsert(version_entry());
            draft.upsert(NewEntry::bytes(
                COMPONENTS,
                types::UNDEFINED,
                &[1, 2, 3, 0],
            ));
        }
        self.exif.iter().cloned().for_each(|e| draft.upsert(e));
        draft.sort();
        Some(draft)
    }

    /// Returns the rebuilt GPS IFD, or None when it is unchanged. Existing
    /// entries without a position (e.g. a lone GPSVersionID) are kept.
    fn gps_draft(&self, existing: Option<&Ifd>) -> Option<Draft> {
        if self.gps.is_empty() {
            return None;
        }
        let mut draft = Draft::from_ifd(existing);
        self.gps.iter().cloned().for_each(|e| draft.upsert(e));
        draft.sort();
        Some(draft)
    }
}

/// Returns `ExifVersion` 0232 (UNDEFINED×4).
fn version_entry() -> NewEntry {
    NewEntry::bytes(EXIF_VERSION, types::UNDEFINED, VERSION_0232)
}
