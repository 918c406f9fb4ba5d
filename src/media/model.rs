//! The metadata model shared by every container writer and reader.
//!
//! A platform's facts are resolved by the engine into a [`Metadata`] value
//! (local wall clock with its offset, position, description and policy);
//! container modules embed it and report per field what they did. Readers
//! return [`Existing`], what a file already carries.

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

/// A position in decimal degrees (WGS 84) with an optional altitude in
/// metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Gps {
    /// Latitude, positive north.
    pub(crate) latitude: f64,
    /// Longitude, positive east.
    pub(crate) longitude: f64,
    /// Altitude in metres, negative below sea level; only used when
    /// non-zero.
    pub(crate) altitude: Option<f64>,
}

impl Gps {
    /// Returns true when both coordinates are finite, in range and not
    /// both zero (0,0 means "no position" on every platform).
    pub(crate) fn is_valid(&self) -> bool {
        let (lat, lon) = (self.latitude, self.longitude);
        lat.is_finite()
            && lon.is_finite()
            && lat.abs() <= 90.0
            && lon.abs() <= 180.0
            && !(lat == 0.0 && lon == 0.0)
    }
}

/// A capture time as memoria writes it: local wall clock plus the UTC
/// offset in effect at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Local wall-clock time, whole seconds.
    pub(crate) local: DateTime,
    /// UTC offset of `local`.
    pub(crate) offset: Offset,
}

impl Stamp {
    /// Returns the stamp for `instant` seen at `offset`, seconds truncated.
    pub(crate) fn from_instant(instant: Timestamp, offset: Offset) -> Stamp {
        let whole = Timestamp::from_second(instant.as_second())
            .expect("whole seconds of a valid timestamp are valid");
        Stamp { local: offset.to_datetime(whole), offset }
    }

    /// Returns the absolute instant of this stamp.
    pub(crate) fn instant(&self) -> Timestamp {
        self.offset
            .to_timestamp(self.local)
            .expect("a civil time from a valid instant converts back")
    }
}

/// Returns `+HH:MM` for `offset`, seconds dropped: the form of the Exif
/// offset tags, XMP dates and reports (metadata.md §2.4).
pub(crate) fn offset_text(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
}

/// What to do with a description the file already carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DescriptionPolicy {
    /// Write only when no description carrier of the container holds text.
    KeepIfPresent,
    /// Write into every carrier, replacing what was there.
    Overwrite,
}

/// The metadata to embed into one output file.
///
/// Dates and GPS are always fill-if-empty: a tag already present in the
/// file is never replaced (metadata.md §4.2).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Metadata {
    /// Capture time for the date tags, if known.
    pub(crate) date: Option<Stamp>,
    /// Position for the GPS tags, if known and valid.
    pub(crate) gps: Option<Gps>,
    /// Description text (UTF-8, `\n` between lines), if any.
    pub(crate) description: Option<String>,
    /// How an existing description is treated.
    pub(crate) description_policy: DescriptionPolicy,
}

/// What happened to one kind of metadata in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldOutcome {
    /// memoria wrote every tag of this kind.
    Written,
    /// The file already had the value; nothing was written.
    Kept,
    /// Some tags were written, others were already present.
    Partial,
    /// There was nothing to write.
    None,
}

impl FieldOutcome {
    /// Returns the name used in `report.json`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FieldOutcome::Written => "written",
            FieldOutcome::Kept => "kept",
            FieldOutcome::Partial => "partial",
            FieldOutcome::None => "none",
        }
    }
}

/// Per-field result of an embed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Date tags.
    pub(crate) dates: FieldOutcome,
    /// GPS tags.
    pub(crate) gps: FieldOutcome,
    /// Description carriers.
    pub(crate) description: FieldOutcome,
    /// True when an unparsable EXIF block was replaced by a rebuilt one
    /// holding every entry that could still be read (metadata.md §5).
    pub(crate) exif_rebuilt: bool,
}

impl Applied {
    /// Returns true when nothing at all was written.
    pub(crate) fn is_unchanged(&self) -> bool {
        [self.dates, self.gps, self.description]
            .iter()
            .all(|f| matches!(f, FieldOutcome::Kept | FieldOutcome::None))
    }
}

/// A date a file already carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExistingDate {
    /// EXIF `DateTimeOriginal` (or a QuickTime `creationdate` key), with
    /// its offset when one was recorded.
    Local { local: DateTime, offset: Option<Offset> },
    /// A non-zero QuickTime header creation time (UTC).
    Instant(Timestamp),
}

/// The metadata a file already holds, as far as memoria can read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Existing {
    /// The file's own capture date.
    pub(crate) date: Option<ExistingDate>,
    /// The file's own position (never 0,0).
    pub(crate) gps: Option<Gps>,
    /// The file's own description, trimmed, never empty.
    pub(crate) description: Option<String>,
}

/// Why an in-file embed did not happen.
#[derive(Debug)]
pub(crate) enum EmbedError {
    /// The container or this particular file cannot be written in-file
    /// safely; the metadata goes to an XMP sidecar instead.
    Unsupported(String),
    /// The file's structure is broken; it is copied unchanged and the
    /// metadata goes to an XMP sidecar.
    Malformed(String),
    /// Reading the source or writing the output failed.
    Io(std::io::Error),
}

impl EmbedError {
    /// Returns a structural error naming what is wrong.
    pub(crate) fn malformed(why: impl Into<String>) -> EmbedError {
        EmbedError::Malformed(why.into())
    }
}

impl std::fmt::Display for EmbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbedError::Unsupported(why) => write!(f, "unsupported: {why}"),
            EmbedError::Malformed(why) => write!(f, "malformed: {why}"),
            EmbedError::Io(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for EmbedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmbedError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<std::io::Error> for EmbedError {
    fn from(err: std::io::Error) -> EmbedError {
        EmbedError::Io(err)
    }
}
