//! Applies memoria's metadata to a parsed `moov` (metadata.md §4.2, §6
//! "MP4 family"): header times, the `creationdate` and ISO 6709 keys in
//! `moov/meta` (`mdta`), `udta/©xyz`, and `©cmt`/`desc` in
//! `moov/udta/meta` (`mdir`). New atoms are appended in a fixed order.

use super::atoms::{self, CMT, DESC, KEY_DATE, KEY_GPS, XYZ};
use super::inspect::{Found, EPOCH_1904};
use super::tables::{self, Tally};
use super::tree::{FourCc, Node};
use super::values;
use crate::media::model::{
    Applied, DescriptionPolicy, EmbedError, FieldOutcome, Gps, Metadata, Stamp,
};

/// Writes `meta` into `moov` and reports per field what happened.
pub(super) fn apply(
    moov: &mut Node,
    meta: &Metadata,
) -> Result<Applied, EmbedError> {
    let found = Found::inspect(moov);
    let dates = apply_dates(moov, meta.date, &found)?;
    let gps = apply_gps(moov, meta.gps, &found)?;
    let description = apply_description(moov, meta, &found)?;
    Ok(Applied { dates, gps, description, exif_rebuilt: false })
}

/// Fills zero header times and adds the `creationdate` key when absent.
fn apply_dates(
    moov: &mut Node,
    date: Option<Stamp>,
    found: &Found,
) -> Result<FieldOutcome, EmbedError> {
    let Some(stamp) = date else { return Ok(FieldOutcome::None) };
    let secs = stamp.instant().as_second().checked_add(EPOCH_1904);
    let mut tally: Tally =
        tables::fill_times(moov, secs.and_then(|s| u64::try_from(s).ok()));
    if found.creation_date.is_some() {
        tally.kept += 1;
    } else {
        set_key(moov, KEY_DATE, &values::creation_date(&stamp))?;
        tally.written += 1;
    }
    Ok(tally.outcome())
}

/// Adds `udta/©xyz` and the ISO 6709 key unless a position is present.
fn apply_gps(
    moov: &mut Node,
    gps: Option<Gps>,
    found: &Found,
) -> Result<FieldOutcome, EmbedError> {
    let Some(gps) = gps.filter(Gps::is_valid) else {
        return Ok(FieldOutcome::None);
    };
    if found.gps.is_some() {
        return Ok(FieldOutcome::Kept);
    }
    let text = values::iso6709(&gps);
    set_text_atom(udta(moov)?, XYZ, &text, Placement::AddIfMissing);
    set_key(moov, KEY_GPS, &text)?;
    Ok(FieldOutcome::Written)
}

/// Writes `©cmt` and `desc` per the description policy (metadata.md
/// §4.2); with overwrite, an existing `udta/©cmt` text atom is replaced
/// too so no carrier keeps an old text.
fn apply_description(
    moov: &mut Node,
    meta: &Metadata,
    found: &Found,
) -> Result<FieldOutcome, EmbedError> {
    let text = meta.description.as_deref().filter(|t| !t.trim().is_empty());
    let Some(text) = text else { return Ok(FieldOutcome::None) };
    let keep = match meta.description_policy {
        DescriptionPolicy::KeepIfPresent => found.description().is_some(),
        DescriptionPolicy::Overwrite => holds_only(found, text),
    };
    if keep {
        return Ok(FieldOutcome::Kept);
    }
    let ilst = mdir_ilst(moov)?;
    set_item(ilst, CMT, &atoms::data_item(CMT, text))?;
    set_item(ilst, DESC, &atoms::data_item(DESC, text))?;
    if found.udta_comment.is_some() {
        set_text_atom(udta(moov)?, CMT, text, Placement::ReplaceOnly);
    }
    Ok(FieldOutcome::Written)
}

/// Returns true when both `ilst` carriers already hold exactly `text` and
/// no other carrier differs, so an overwrite would change nothing.
fn holds_only(found: &Found, text: &str) -> bool {
    let same = |value: &Option<String>| value.as_deref() == Some(text);
    same(&found.ilst_comment)
        && same(&found.ilst_description)
        && found.udta_comment.as_ref().is_none_or(|_| same(&found.udta_comment))
}

/// Whether a text atom may be created or only replaced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    AddIfMissing,
    ReplaceOnly,
}

/// Replaces the first `kind` text atom of `udta` (keeping its language)
/// or appends a new one.
fn set_text_atom(
    udta: &mut Vec<Node>,
    kind: FourCc,
    text: &str,
    how: Placement,
) {
    let old = udta.iter_mut().find(|c| c.kind == kind);
    match old {
        Some(old) => {
            let language = old
                .payload()
                .and_then(atoms::parse_text_atom)
                .map(|(_, language)| language);
            *old = atoms::text_atom(kind, text, language);
        }
        None if how == Placement::AddIfMissing => {
            udta.push(atoms::text_atom(kind, text, None));
        }
        None => {}
    }
}

/// Sets key `name` of `moov/meta` (`mdta`) to `value`, adding the key
/// when the `keys` box lacks it.
fn set_key(moov: &mut Node, name: &str, value: &str) -> Result<(), EmbedError> {
    let meta = mdta_meta(moov)?;
    let keys = meta.child_mut(b"keys").ok_or_else(|| unsupported("keys"))?;
    let names = atoms::key_names(keys).ok_or_else(|| unsupported("keys"))?;
    let index = match names.iter().position(|n| n == name.as_bytes()) {
        Some(i) => u32::try_from(i + 1).ok(),
        None => atoms::add_key(keys, name),
    };
    let index = index.ok_or_else(|| unsupported("keys"))?;
    let ilst = meta.child_mut(b"ilst").ok_or_else(|| unsupported("ilst"))?;
    let kind = index.to_be_bytes();
    set_item(ilst, kind, &atoms::data_item(kind, value))
}

/// Replaces the first `kind` item of `ilst` or appends `item`.
fn set_item(
    ilst: &mut Node,
    kind: FourCc,
    item: &Node,
) -> Result<(), EmbedError> {
    ilst.expand(0).map_err(|_| unsupported("ilst"))?;
    let items = ilst.children_mut().ok_or_else(|| unsupported("ilst"))?;
    match items.iter_mut().find(|c| c.kind == kind) {
        Some(old) => *old = item.clone(),
        None => items.push(item.clone()),
    }
    Ok(())
}

/// Returns `moov/meta` with handler `mdta`, its `keys` and `ilst`,
/// creating what is missing.
fn mdta_meta(moov: &mut Node) -> Result<&mut Node, EmbedError> {
    let children = moov.children_mut().ok_or_else(|| unsupported("moov"))?;
    let meta = child_or_insert(children, *b"mdta")?;
    if atoms::handler(meta).as_ref() != Some(b"mdta") {
        return Err(unsupported("moov meta handler"));
    }
    let parts = meta.children_mut().ok_or_else(|| unsupported("moov meta"))?;
    if !parts.iter().any(|c| &c.kind == b"keys") {
        let at = parts.iter().position(|c| &c.kind == b"ilst");
        parts.insert(at.unwrap_or(parts.len()), atoms::new_keys());
    }
    if !parts.iter().any(|c| &c.kind == b"ilst") {
        parts.push(Node::tree(*b"ilst", Vec::new(), Vec::new()));
    }
    Ok(meta)
}

/// Returns the `ilst` of `moov/udta/meta` (`mdir`), creating what is
/// missing.
fn mdir_ilst(moov: &mut Node) -> Result<&mut Node, EmbedError> {
    let meta = child_or_insert(udta(moov)?, *b"mdir")?;
    if atoms::handler(meta).as_ref() != Some(b"mdir") {
        return Err(unsupported("udta meta handler"));
    }
    let parts = meta.children_mut().ok_or_else(|| unsupported("udta meta"))?;
    if !parts.iter().any(|c| &c.kind == b"ilst") {
        parts.push(Node::tree(*b"ilst", Vec::new(), Vec::new()));
    }
    parts
        .iter_mut()
        .find(|c| &c.kind == b"ilst")
        .ok_or_else(|| unsupported("udta meta"))
}

/// Returns the first `meta` of `children`, appending a new one with
/// handler `handler` when there is none.
fn child_or_insert(
    children: &mut Vec<Node>,
    handler: FourCc,
) -> Result<&mut Node, EmbedError> {
    if !children.iter().any(|c| &c.kind == b"meta") {
        children.push(atoms::new_meta(handler));
    }
    let meta = children.iter_mut().find(|c| &c.kind == b"meta");
    meta.ok_or_else(|| unsupported("meta"))
}

/// Returns the children of `moov/udta`, creating the box when missing.
fn udta(moov: &mut Node) -> Result<&mut Vec<Node>, EmbedError> {
    let children = moov.children_mut().ok_or_else(|| unsupported("moov"))?;
    if !children.iter().any(|c| &c.kind == b"udta") {
        children.push(Node::tree(*b"udta", Vec::new(), Vec::new()));
    }
    let udta = children.iter_mut().find(|c| &c.kind == b"udta");
    udta.and_then(Node::children_mut).ok_or_else(|| unsupported("udta"))
}

/// Returns the error for a box the writer cannot safely edit.
fn unsupported(what: &str) -> EmbedError {
    EmbedError::Unsupported(format!("cannot edit {what} box of this file"))
}
