//! Reads the metadata a parsed `moov` already carries (metadata.md §5):
//! the `creationdate` key, the `mvhd` creation time, the position from
//! the ISO 6709 key or `udta/©xyz`, and the description carriers.

use jiff::Timestamp;

use super::atoms::{self, CMT, DESC, KEY_DATE, KEY_GPS, XYZ};
use super::tables;
use super::tree::Node;
use super::values;
use crate::media::model::{Existing, ExistingDate, Gps};

/// Seconds from 1904-01-01 (QuickTime epoch) to 1970-01-01.
pub(super) const EPOCH_1904: i64 = 2_082_844_800;

/// What a `moov` holds, per carrier.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// `creationdate` key value, when non-empty after trimming.
    pub(super) creation_date: Option<String>,
    /// Non-zero `mvhd` creation time (seconds since 1904).
    pub(super) header_time: Option<u64>,
    /// Position from the ISO 6709 key, else from `udta/©xyz`.
    pub(super) gps: Option<Gps>,
    /// `ilst` `©cmt` of `udta/meta` (as stored).
    pub(super) ilst_comment: Option<String>,
    /// `ilst` `desc` of `udta/meta` (as stored).
    pub(super) ilst_description: Option<String>,
    /// `udta/©cmt` user-data text atom (as stored).
    pub(super) udta_comment: Option<String>,
}

impl Found {
    /// Collects every carrier of `moov`; unparsable carriers count as
    /// absent.
    pub(super) fn inspect(moov: &Node) -> Found {
        let udta = moov.child(b"udta");
        let metas = moov
            .children()
            .iter()
            .chain(udta.map(Node::children).unwrap_or_default())
            .filter(|c| &c.kind == b"meta");
        let mut found = Found::default();
        for meta in metas {
            match atoms::handler(meta).as_ref() {
                Some(b"mdta") => found.add_keys(meta),
                Some(b"mdir") => found.add_items(meta),
                _ => {}
            }
        }
        if let Some(udta) = udta {
            found.add_user_data(udta);
        }
        found.header_time = moov
            .child(b"mvhd")
            .and_then(Node::payload)
            .and_then(tables::creation_time)
            .filter(|&t| t != 0);
        found
    }

    /// Takes the date and position keys of an `mdta` `meta`.
    fn add_keys(&mut self, meta: &Node) {
        for (name, value) in atoms::mdta_values(meta) {
            let non_empty = !value.trim().is_empty();
            if name == KEY_DATE.as_bytes() && non_empty {
                self.creation_date.get_or_insert(value);
            } else if name == KEY_GPS.as_bytes() && self.gps.is_none() {
                self.gps = values::parse_iso6709(&value);
            }
        }
    }

    /// Takes the description items of an `mdir` `meta`.
    fn add_items(&mut self, meta: &Node) {
        let Some(ilst) = meta.child(b"ilst") else { return };
        for item in atoms::ilst_items(ilst) {
            let slot = match item.kind {
                CMT => &mut self.ilst_comment,
                DESC => &mut self.ilst_description,
                _ => continue,
            };
            if slot.is_none() {
                *slot = atoms::item_text(&item);
            }
        }
    }

    /// Takes `udta/©cmt` and, when no key gave one, `udta/©xyz`.
    fn add_user_data(&mut self, udta: &Node) {
        let text = |kind| {
            let atom = udta.child(kind)?.payload()?;
            Some(atoms::parse_text_atom(atom)?.0)
        };
        self.udta_comment = text(&CMT);
        if self.gps.is_none() {
            self.gps = text(&XYZ).and_then(|t| values::parse_iso6709(&t));
        }
    }

    /// Returns the first description carrier with text, trimmed.
    pub(super) fn description(&self) -> Option<String> {
        [&self.ilst_comment, &self.ilst_description, &self.udta_comment]
            .into_iter()
            .flatten()
            .map(|text| text.trim())
            .find(|text| !text.is_empty())
            .map(str::to_string)
    }

    /// Returns the file's own metadata as the engine sees it.
    pub(super) fn existing(&self) -> Existing {
        let key_date = self.creation_date.as_deref().and_then(|text| {
            let (local, offset) = values::parse_creation_date(text)?;
            Some(ExistingDate::Local { local, offset })
        });
        let header_date = self.header_time.and_then(|secs| {
            let unix = i64::try_from(secs).ok()?.checked_sub(EPOCH_1904)?;
            Some(ExistingDate::Instant(Timestamp::from_second(unix).ok()?))
        });
        Existing {
            date: key_date.or(header_date),
            gps: self.gps,
            description: self.description(),
        }
    }
}
