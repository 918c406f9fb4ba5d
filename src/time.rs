//! Time-zone resolution: turns a platform capture (or a file's own date)
//! plus an optional position into a local wall clock with its UTC offset.
//!
//! The order is platform offset > GPS zone > `--timezone` > machine zone
//! (metadata.md §2.2-§2.3, cli.md §10). Built once per run as [`Zones`] and
//! shared by every worker; it reads no files and writes nothing.

use std::sync::OnceLock;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use crate::media::model::{ExistingDate, Gps, Stamp};
use crate::plan::When;

/// Which rule of metadata.md §2.3 chose the offset (`zone_source` in
/// `report.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZoneSource {
    /// The platform stated the offset the user saw.
    Platform,
    /// The file's own date carried its offset.
    File,
    /// The zone at the GPS position.
    Gps,
    /// The `--timezone` zone.
    Timezone,
    /// The machine zone.
    Local,
}

impl ZoneSource {
    /// Returns the name used in `report.json`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ZoneSource::Platform => "platform",
            ZoneSource::File => "file",
            ZoneSource::Gps => "gps",
            ZoneSource::Timezone => "timezone",
            ZoneSource::Local => "local",
        }
    }
}

/// A capture time resolved to local wall clock, offset and instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Local wall clock and offset, whole seconds.
    pub(crate) stamp: Stamp,
    /// IANA name of the zone used, or "" for a fixed platform or file
    /// offset.
    pub(crate) zone: String,
    /// The rule that chose the offset.
    pub(crate) source: ZoneSource,
    /// The absolute instant, whole seconds (equal to `stamp.instant()`).
    pub(crate) instant: Timestamp,
}

/// A named zone: the name reported and the rules used.
#[derive(Clone, Debug)]
struct Named {
    name: String,
    tz: TimeZone,
}

/// The fallback zones of one run: `--timezone` and the machine zone.
///
/// `TimeZone` is reference counted and immutable, so `Zones` is
/// `Send + Sync` and can be shared by reference across worker threads.
#[derive(Clone, Debug)]
pub(crate) struct Zones {
    flag: Option<Named>,
    machine: Named,
}

impl Zones {
    /// Returns the zones for a run with the validated `--timezone` value
    /// `flag` (its name and zone).
    ///
    /// The machine zone comes from `TZ` or the system setting. When it
    /// cannot be determined, UTC is used and a warning is logged once
    /// (cli.md §10).
    pub(crate) fn new(flag: Option<(String, TimeZone)>) -> Zones {
        let machine = match TimeZone::try_system() {
            Ok(tz) if !tz.is_unknown() => tz,
            _ => {
                log::warn!(
                    "could not determine the machine time zone; using UTC"
                );
                TimeZone::UTC
            }
        };
        Zones::with_machine(flag, machine)
    }

    /// Returns the zones with an explicit machine zone (tests, and callers
    /// that already know it).
    pub(crate) fn with_machine(
        flag: Option<(String, TimeZone)>,
        machine: TimeZone,
    ) -> Zones {
        let flag = flag.map(|(name, tz)| Named { name, tz });
        let machine = Named { name: machine_name(&machine), tz: machine };
        Zones { flag, machine }
    }

    /// Returns the fallback zone name in effect and where it came from
    /// (`"flag"` or `"machine"`), for the settings of `report.json`.
    pub(crate) fn fallback(&self) -> (&str, &'static str) {
        match &self.flag {
            Some(flag) => (&flag.name, "flag"),
            None => (&self.machine.name, "machine"),
        }
    }

    /// Resolves a platform capture, with the position the output file will
    /// carry, per metadata.md §2.3.
    pub(crate) fn resolve(&self, when: &When, gps: Option<&Gps>) -> Resolved {
        match *when {
            When::Offset(instant, offset) => {
                fixed(instant, offset, ZoneSource::Platform)
            }
            When::Instant(instant) => self.at_instant(instant, gps),
            When::Wall(local) => self.at_wall(local, gps),
        }
    }

    /// Resolves a date the file already carries (metadata.md §2.4: the
    /// file's own date is the one truth).
    ///
    /// A wall clock with an offset keeps that offset (source `file`); one
    /// without is read in the GPS, `--timezone` or machine zone like a
    /// bare platform time; a header instant is shown in that zone.
    pub(crate) fn resolve_existing(
        &self,
        date: &ExistingDate,
        gps: Option<&Gps>,
    ) -> Resolved {
        match *date {
            ExistingDate::Local { local, offset: Some(offset) } => {
                let instant =
                    offset.to_timestamp(local).unwrap_or_else(|_| clamp(local));
                fixed(instant, offset, ZoneSource::File)
            }
            ExistingDate::Local { local, offset: None } => {
                self.at_wall(local, gps)
            }
            ExistingDate::Instant(instant) => self.at_instant(instant, gps),
        }
    }

    /// Shows an absolute instant in the chosen zone (rules 2-4).
    fn at_instant(&self, instant: Timestamp, gps: Option<&Gps>) -> Resolved {
        let (zone, source) = self.choose(gps);
        in_zone(instant, zone, source)
    }

    /// Reads a bare wall clock in the chosen zone (metadata.md §2.2).
    fn at_wall(&self, local: DateTime, gps: Option<&Gps>) -> Resolved {
        let (zone, source) = self.choose(gps);
        // Compatible: a gap moves forward by its length, a repeated hour
        // takes the earlier instant, exactly as metadata.md §2.2 asks.
        let instant = zone
            .tz
            .to_ambiguous_timestamp(local)
            .compatible()
            .unwrap_or_else(|_| clamp(local));
        in_zone(instant, zone, source)
    }

    /// Picks the zone of rules 2-4: GPS position, `--timezone`, machine.
    fn choose(&self, gps: Option<&Gps>) -> (Named, ZoneSource) {
        if let Some(gps) = gps.filter(|g| g.is_valid()) {
            let (name, tz) = lookup(gps);
            return (Named { name, tz }, ZoneSource::Gps);
        }
        match &self.flag {
            Some(flag) => (flag.clone(), ZoneSource::Timezone),
            None => (self.machine.clone(), ZoneSource::Local),
        }
    }
}

/// Returns the resolution for an instant shown in `zone` at that instant
/// (daylight saving included).
fn in_zone(instant: Timestamp, zone: Named, source: ZoneSource) -> Resolved {
    let stamp = Stamp::from_instant(instant, zone.tz.to_offset(instant));
    Resolved { stamp, zone: zone.name, source, instant: stamp.instant() }
}

/// Returns the resolution for an instant with a known fixed offset.
fn fixed(instant: Timestamp, offset: Offset, source: ZoneSource) -> Resolved {
    let stamp = Stamp::from_instant(instant, offset);
    Resolved { stamp, zone: String::new(), source, instant: stamp.instant() }
}

/// Returns the nearest representable instant for a wall clock at the very
/// edge of the supported range (years ±9999), where no offset can be
/// applied. Real exports never get here; it only avoids a panic.
fn clamp(local: DateTime) -> Timestamp {
    if local.year() > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    }
}

/// Returns the name reported for the machine zone: its IANA name, else the
/// `TZ` value (a POSIX rule), else "localtime" (an unnamed TZif file).
fn machine_name(tz: &TimeZone) -> String {
    if let Some(name) = tz.iana_name() {
        return name.to_string();
    }
    match std::env::var("TZ") {
        Ok(value) if !value.is_empty() => value,
        _ => "localtime".to_string(),
    }
}

/// Returns the zone boundary finder. It queries the bundled boundary
/// data in place: opening it only checks the data, where expanding the
/// polygons up front would cost more CPU time than a whole small run.
/// A lookup takes microseconds, once per item with a position.
fn finder() -> &'static tzf_rs::EmbeddedFinder {
    static FINDER: OnceLock<tzf_rs::EmbeddedFinder> = OnceLock::new();
    FINDER.get_or_init(tzf_rs::EmbeddedFinder::new)
}

/// Opens the zone finder ahead of its first use; the engine calls it on
/// a spare thread at start-up so that the first item with a position
/// does not wait for the data check.
pub(crate) fn warm_up() {
    finder();
}

/// Returns the IANA zone name and rules at a position, looked up offline.
///
/// Positions in no land zone, and names the bundled tz database does not
/// know, get the nautical zone of their longitude (metadata.md §2.3).
fn lookup(gps: &Gps) -> (String, TimeZone) {
    let name = finder().get_tz_name(gps.longitude, gps.latitude);
    if !name.is_empty() {
        if let Ok(tz) = TimeZone::get(name) {
            return (name.to_string(), tz);
        }
    }
    let name = nautical(gps.longitude);
    match TimeZone::get(&name) {
        Ok(tz) => (name, tz),
        // Every Etc/GMT±0..12 zone is in the bundled database; fixed
        // offset rules are the same zone should a build lack them.
        Err(_) => (name, nautical_fixed(gps.longitude)),
    }
}

/// Returns the nautical zone name of a longitude: `Etc/GMT±N` with
/// N = round(|lon| / 15), the sign inverted as POSIX requires (east of
/// Greenwich is `Etc/GMT-N`).
fn nautical(longitude: f64) -> String {
    let hours = nautical_hours(longitude);
    match hours {
        0 => "Etc/GMT".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    }
}

/// Returns the nautical UTC offset in whole hours, east positive.
fn nautical_hours(longitude: f64) -> i8 {
    let hours = (longitude.abs() / 15.0).round().min(12.0) as i8;
    if longitude < 0.0 {
        -hours
    } else {
        hours
    }
}

/// Returns the nautical zone of a longitude as a fixed offset.
fn nautical_fixed(longitude: f64) -> TimeZone {
    let offset = Offset::from_hours(nautical_hours(longitude));
    TimeZone::fixed(offset.unwrap_or(Offset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).expect("zone in the bundled database")
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("valid timestamp literal")
    }

    fn dt(text: &str) -> DateTime {
        text.parse().expect("valid datetime literal")
    }

    fn gps(latitude: f64, longitude: f64) -> Gps {
        Gps { latitude, longitude, altitude: None }
    }

    /// Zones with `--timezone` Europe/Berlin and machine Asia/Tokyo.
    fn with_flag() -> Zones {
        let flag = ("Europe/Berlin".to_string(), tz("Europe/Berlin"));
        Zones::with_machine(Some(flag), tz("Asia/Tokyo"))
    }

    /// Zones without `--timezone`, machine America/New_York.
    fn machine_ny() -> Zones {
        Zones::with_machine(None, tz("America/New_York"))
    }

    /// Asserts wall clock, offset, zone and source of a resolution.
    fn check(r: &Resolved, local: &str, offset: &str, zone: &str, src: &str) {
        assert_eq!(r.stamp.local, dt(local), "local of {r:?}");
        assert_eq!(r.stamp.offset.to_string(), offset, "offset of {r:?}");
        assert_eq!(r.zone, zone, "zone of {r:?}");
        assert_eq!(r.source.as_str(), src, "source of {r:?}");
        assert_eq!(r.instant, r.stamp.instant(), "instant of {r:?}");
    }

    #[test]
    fn gps_zones_with_daylight_saving() {
        let zones = with_flag();
        let rome = gps(41.9028, 12.4964);
        let cases = [
            (
                rome,
                "2021-01-15T12:00:00Z",
                "2021-01-15T13:00",
                "+01",
                "Europe/Rome",
            ),
            (
                rome,
                "2021-07-15T12:00:00Z",
                "2021-07-15T14:00",
                "+02",
                "Europe/Rome",
            ),
            (
                gps(40.7128, -74.0060),
                "2021-01-04T23:08:30Z",
                "2021-01-04T18:08:30",
                "-05",
                "America/New_York",
            ),
            (
                gps(35.6762, 139.6503),
                "2021-07-15T12:00:00Z",
                "2021-07-15T21:00",
                "+09",
                "Asia/Tokyo",
            ),
        ];
        for (pos, instant, local, offset, zone) in cases {
            let r = zones.resolve(&When::Instant(ts(instant)), Some(&pos));
            check(&r, local, offset, zone, "gps");
            assert_eq!(r.instant, ts(instant));
            assert_eq!(lookup(&pos).0, zone);
        }
    }

    #[test]
    fn ocean_uses_nautical_zone() {
        let atlantic = gps(0.5, -30.0);
        assert_eq!(lookup(&atlantic).0, "Etc/GMT+2");
        let r = with_flag().resolve(
            &When::Instant(ts("2021-01-01T12:00:00Z")),
            Some(&atlantic),
        );
        check(&r, "2021-01-01T10:00", "-02", "Etc/GMT+2", "gps");
    }

    #[test]
    fn nautical_names_invert_the_sign() {
        let cases = [
            (0.0, "Etc/GMT"),
            (7.4, "Etc/GMT"),
            (7.6, "Etc/GMT-1"),
            (-30.0, "Etc/GMT+2"),
            (135.0, "Etc/GMT-9"),
            (-172.6, "Etc/GMT+12"),
            (180.0, "Etc/GMT-12"),
            (-180.0, "Etc/GMT+12"),
        ];
        for (lon, name) in cases {
            assert_eq!(nautical(lon), name, "longitude {lon}");
            assert!(TimeZone::get(name).is_ok(), "{name} in the database");
            let fixed = nautical_fixed(lon).to_offset(Timestamp::UNIX_EPOCH);
            let named = tz(name).to_offset(Timestamp::UNIX_EPOCH);
            assert_eq!(fixed, named, "longitude {lon}");
        }
    }

    #[test]
    fn falls_back_to_flag_then_machine() {
        let instant = When::Instant(ts("2021-01-04T23:08:30Z"));
        let r = with_flag().resolve(&instant, None);
        check(&r, "2021-01-05T00:08:30", "+01", "Europe/Berlin", "timezone");
        assert_eq!(with_flag().fallback(), ("Europe/Berlin", "flag"));

        let r = machine_ny().resolve(&instant, None);
        check(&r, "2021-01-04T18:08:30", "-05", "America/New_York", "local");
        assert_eq!(machine_ny().fallback(), ("America/New_York", "machine"));
    }

    #[test]
    fn invalid_gps_is_ignored() {
        let r = with_flag().resolve(
            &When::Instant(ts("2021-07-01T00:00:00Z")),
            Some(&gps(0.0, 0.0)),
        );
        check(&r, "2021-07-01T02:00", "+02", "Europe/Berlin", "timezone");
    }

    #[test]
    fn platform_offset_is_kept_and_fractions_dropped() {
        let when = When::Offset(
            ts("2016-05-18T15:00:23.648Z"),
            Offset::from_hours(-4).expect("valid offset"),
        );
        // The platform offset wins over the GPS zone (metadata.md §2.3).
        let r = with_flag().resolve(&when, Some(&gps(35.6762, 139.6503)));
        check(&r, "2016-05-18T11:00:23", "-04", "", "platform");
        assert_eq!(r.instant, ts("2016-05-18T15:00:23Z"));
    }

    #[test]
    fn instant_fractions_are_dropped() {
        let r = machine_ny()
            .resolve(&When::Instant(ts("2021-01-04T23:08:30.999Z")), None);
        assert_eq!(r.instant, ts("2021-01-04T23:08:30Z"));
        assert_eq!(r.stamp.local, dt("2021-01-04T18:08:30"));
    }

    #[test]
    fn wall_clock_gap_and_repeated_hour() {
        let zones = machine_ny();
        let cases = [
            // Plain winter and summer times.
            (
                "2021-01-04T18:08:30",
                "2021-01-04T18:08:30",
                "-05",
                "2021-01-04T23:08:30Z",
            ),
            (
                "2021-07-04T12:00:00",
                "2021-07-04T12:00:00",
                "-04",
                "2021-07-04T16:00:00Z",
            ),
            // Gap on 2021-03-14: 02:30 does not exist, moves forward 1 h.
            (
                "2021-03-14T02:30:00",
                "2021-03-14T03:30:00",
                "-04",
                "2021-03-14T07:30:00Z",
            ),
            // Repeated hour on 2021-11-07: the earlier (EDT) instant.
            (
                "2021-11-07T01:30:00",
                "2021-11-07T01:30:00",
                "-04",
                "2021-11-07T05:30:00Z",
            ),
        ];
        for (wall, local, offset, instant) in cases {
            let r = zones.resolve(&When::Wall(dt(wall)), None);
            check(&r, local, offset, "America/New_York", "local");
            assert_eq!(r.instant, ts(instant), "instant of {wall}");
        }
    }

    #[test]
    fn wall_clock_prefers_gps_then_flag() {
        let wall = When::Wall(dt("2021-01-04T18:08:30"));
        let r = with_flag().resolve(&wall, Some(&gps(35.6762, 139.6503)));
        check(&r, "2021-01-04T18:08:30", "+09", "Asia/Tokyo", "gps");
        assert_eq!(r.instant, ts("2021-01-04T09:08:30Z"));
        let r = with_flag().resolve(&wall, None);
        check(&r, "2021-01-04T18:08:30", "+01", "Europe/Berlin", "timezone");
        assert_eq!(r.instant, ts("2021-01-04T17:08:30Z"));
    }

    #[test]
    fn wall_clock_at_range_edge_does_not_panic() {
        let r =
            with_flag().resolve(&When::Wall(dt("9999-12-31T23:59:59")), None);
        assert_eq!(r.instant.as_second(), Timestamp::MAX.as_second());
        let r = with_flag()
            .resolve(&When::Wall(dt("-009999-01-01T00:00:00")), None);
        assert_eq!(r.instant.as_second(), Timestamp::MIN.as_second());
    }

    #[test]
    fn existing_dates() {
        let zones = with_flag();
        let rome = gps(41.9028, 12.4964);
        let local = dt("2021-01-04T18:08:30");

        let own = ExistingDate::Local {
            local,
            offset: Some(Offset::from_hours(-5).expect("valid offset")),
        };
        let r = zones.resolve_existing(&own, Some(&rome));
        check(&r, "2021-01-04T18:08:30", "-05", "", "file");
        assert_eq!(r.instant, ts("2021-01-04T23:08:30Z"));

        let bare = ExistingDate::Local { local, offset: None };
        let r = zones.resolve_existing(&bare, Some(&rome));
        check(&r, "2021-01-04T18:08:30", "+01", "Europe/Rome", "gps");
        let r = zones.resolve_existing(&bare, None);
        check(&r, "2021-01-04T18:08:30", "+01", "Europe/Berlin", "timezone");

        let header = ExistingDate::Instant(ts("2021-01-04T23:08:30Z"));
        let r = machine_ny().resolve_existing(&header, None);
        check(&r, "2021-01-04T18:08:30", "-05", "America/New_York", "local");
        let r = machine_ny().resolve_existing(&header, Some(&rome));
        check(&r, "2021-01-05T00:08:30", "+01", "Europe/Rome", "gps");
    }

    #[test]
    fn zone_source_names() {
        let names: Vec<_> = [
            ZoneSource::Platform,
            ZoneSource::File,
            ZoneSource::Gps,
            ZoneSource::Timezone,
            ZoneSource::Local,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(names, ["platform", "file", "gps", "timezone", "local"]);
    }

    #[test]
    fn zones_are_shareable_and_built_from_the_host() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Zones>();
        // Host dependent: only checks that a machine zone with a name is
        // always found (UTC at worst).
        let zones = Zones::new(None);
        assert!(!zones.fallback().0.is_empty());
        assert_eq!(zones.fallback().1, "machine");
    }
}
