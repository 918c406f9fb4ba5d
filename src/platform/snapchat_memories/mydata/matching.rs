//! Pairing bundled mains with list entries (platforms.md §9b.4): by id,
//! then by modification time up to a zone shift, then by day.
//!
//! Each rule runs over all mains and entries the earlier rules left; a
//! main takes at most one entry and an entry at most one main. The zone
//! shift that ranks best also dates the mains left over (orphans).

use std::cmp::Reverse;
use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::bundled::Main;
use super::list::Entry;

/// Zone shifts are whole quarter hours (in seconds).
const QUARTER: i64 = 15 * 60;
/// The largest zone shift, ±14 h (in seconds).
const MAX_SHIFT: i64 = 14 * 3600;
/// ZIP times have 2-second resolution (in seconds).
const SLACK: i64 = 2;

/// Which main each entry got, and what the `time` rule saw.
#[derive(Debug, Default)]
pub(super) struct Matching {
    /// Per entry: the index of its main and the `match.rule`.
    pub(super) of_entry: Vec<Option<(usize, &'static str)>>,
    /// Per main: whether an entry took it.
    pub(super) taken: Vec<bool>,
    /// The best-ranked zone shift of the `time` rule, in seconds.
    pub(super) best_shift: Option<i64>,
    /// Mains the `time` rule looked at.
    pub(super) considered: usize,
    /// Those of them that had a `time` candidate.
    pub(super) timed: usize,
}

/// A possible `time` pairing.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    /// Index of the entry.
    entry: usize,
    /// The zone shift s, in seconds.
    shift: i64,
    /// |d − s|, in seconds.
    off: i64,
}

/// Returns the pairing of `entries` (file order) with `mains`.
pub(super) fn run(entries: &[Entry], mains: &[Main]) -> Matching {
    let mut matching = Matching {
        of_entry: vec![None; entries.len()],
        taken: vec![false; mains.len()],
        ..Matching::default()
    };
    matching.by_id(entries, mains);
    matching.by_time(entries, mains);
    matching.by_day(entries, mains);
    matching
}

/// Returns the zone shift s of d = mtime − `Date` (seconds): a whole
/// number of quarter hours within ±14 h with |d − s| ≤ 2 s.
pub(super) fn shift_of(d: i64) -> Option<i64> {
    let shift = (d + QUARTER / 2).div_euclid(QUARTER) * QUARTER;
    (shift.abs() <= MAX_SHIFT && (d - shift).abs() <= SLACK).then_some(shift)
}

/// Returns the UTC calendar day of `at`.
pub(super) fn utc_day(at: Timestamp) -> Date {
    TimeZone::UTC.to_datetime(at).date()
}

impl Matching {
    /// Records that entry `entry` took main `main` by `rule`.
    fn pair(&mut self, entry: usize, main: usize, rule: &'static str) {
        if let Some(slot) = self.of_entry.get_mut(entry) {
            *slot = Some((main, rule));
        }
        if let Some(taken) = self.taken.get_mut(main) {
            *taken = true;
        }
    }

    /// Returns whether entry `entry` still has no main.
    fn is_open(&self, entry: usize) -> bool {
        self.of_entry.get(entry).is_some_and(Option::is_none)
    }

    /// Returns whether main `main` is still free.
    fn is_free(&self, main: usize) -> bool {
        self.taken.get(main).is_some_and(|taken| !taken)
    }

    /// Rule `id`: the first free main with the entry's id.
    fn by_id(&mut self, entries: &[Entry], mains: &[Main]) {
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, main) in mains.iter().enumerate() {
            if let Some(id) = &main.id {
                by_id.entry(id).or_default().push(index);
            }
        }
        for (e, entry) in entries.iter().enumerate() {
            let Some(list) = entry.id.as_deref().and_then(|id| by_id.get(id))
            else {
                continue;
            };
            if let Some(&m) = list.iter().find(|&&m| self.is_free(m)) {
                self.pair(e, m, "id");
            }
        }
    }

    /// Rule `time`: mains in order of modification time take the
    /// candidate with the best-ranked shift, then the smallest |d − s|,
    /// then the first in file order.
    fn by_time(&mut self, entries: &[Entry], mains: &[Main]) {
        let open = self.dated_open_entries(entries);
        let mut order: Vec<usize> =
            (0..mains.len()).filter(|&m| self.is_free(m)).collect();
        order.sort_by_key(|&m| mains.get(m).map(|x| (x.mtime, &x.input)));
        let candidates: Vec<Vec<Candidate>> = order
            .iter()
            .map(|&m| {
                mains
                    .get(m)
                    .map_or(Vec::new(), |main| candidates(main, entries, &open))
            })
            .collect();
        // Without dated entries left there is nothing to find, which says
        // nothing about the files' times.
        self.considered = if open.is_empty() { 0 } else { order.len() };
        self.timed = candidates.iter().filter(|c| !c.is_empty()).count();
        let rank = rank_shifts(&candidates);
        self.best_shift = rank.first().copied();
        for (&m, list) in order.iter().zip(&candidates) {
            let best = list
                .iter()
                .filter(|c| self.is_open(c.entry))
                .min_by_key(|c| (position(&rank, c.shift), c.off, c.entry));
            if let Some(best) = best {
                self.pair(best.entry, m, "time");
            }
        }
    }

    /// Returns the entries without a main that have a date, as
    /// (epoch seconds, index), sorted.
    fn dated_open_entries(&self, entries: &[Entry]) -> Vec<(i64, usize)> {
        let mut open: Vec<(i64, usize)> = entries
            .iter()
            .enumerate()
            .filter(|(e, _)| self.is_open(*e))
            .filter_map(|(e, entry)| Some((entry.capture?.as_second(), e)))
            .collect();
        open.sort_unstable();
        open
    }

    /// Rule `day`: a main that is the only free main of its class with
    /// day prefix D, and an entry that is the only open entry of that
    /// class dated D. An open class agrees with both classes, so each
    /// side must see exactly one partner.
    fn by_day(&mut self, entries: &[Entry], mains: &[Main]) {
        let mut entries_of: HashMap<Date, Vec<usize>> = HashMap::new();
        for (e, entry) in entries.iter().enumerate() {
            if let (true, Some(at)) = (self.is_open(e), entry.capture) {
                entries_of.entry(utc_day(at)).or_default().push(e);
            }
        }
        let mut mains_of: HashMap<Date, Vec<usize>> = HashMap::new();
        for (m, main) in mains.iter().enumerate() {
            if let (true, Some(day)) = (self.is_free(m), main.day) {
                mains_of.entry(day).or_default().push(m);
            }
        }
        let mut pairs = Vec::new();
        for (day, list) in &mains_of {
            let others = entries_of.get(day).map_or(&[][..], Vec::as_slice);
            for &m in list {
                let Some(e) = only(others, |e| agrees(entries, mains, e, m))
                else {
                    continue;
                };
                if only(list, |m| agrees(entries, mains, e, m)).is_some() {
                    pairs.push((e, m));
                }
            }
        }
        for (e, m) in pairs {
            self.pair(e, m, "day");
        }
    }
}

/// Returns the `time` candidates of `main` among `open` entries (sorted
/// by date): classes agree, the day prefix is within one day of the
/// entry's UTC date, and the times differ by a zone shift.
fn candidates(
    main: &Main,
    entries: &[Entry],
    open: &[(i64, usize)],
) -> Vec<Candidate> {
    let Some(mtime) = main.mtime.map(Timestamp::as_second) else {
        return Vec::new();
    };
    let reach = MAX_SHIFT + SLACK;
    let start = open.partition_point(|&(at, _)| at < mtime - reach);
    let end = open.partition_point(|&(at, _)| at <= mtime + reach);
    let window = open.get(start..end).unwrap_or_default();
    window
        .iter()
        .filter_map(|&(at, e)| {
            let entry = entries.get(e)?;
            let near_day = main.day.is_none_or(|day| {
                entry
                    .capture
                    .is_some_and(|c| (day - utc_day(c)).get_days().abs() <= 1)
            });
            let class = entry.class.is_none_or(|c| c == main.class);
            let shift = shift_of(mtime - at).filter(|_| near_day && class)?;
            Some(Candidate { entry: e, shift, off: (mtime - at - shift).abs() })
        })
        .collect()
}

/// Returns the shifts ranked by how many mains have a candidate with
/// them (most first), then by |s|, then by s.
fn rank_shifts(candidates: &[Vec<Candidate>]) -> Vec<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for list in candidates {
        let mut shifts: Vec<i64> = list.iter().map(|c| c.shift).collect();
        shifts.sort_unstable();
        shifts.dedup();
        for shift in shifts {
            *counts.entry(shift).or_default() += 1;
        }
    }
    let mut ranked: Vec<(usize, i64)> =
        counts.into_iter().map(|(s, n)| (n, s)).collect();
    ranked.sort_by_key(|&(n, s)| (Reverse(n), s.abs(), s));
    ranked.into_iter().map(|(_, s)| s).collect()
}

/// Returns the position of `shift` in `rank`.
fn position(rank: &[i64], shift: i64) -> usize {
    rank.iter().position(|&s| s == shift).unwrap_or(usize::MAX)
}

/// Returns whether entry `e` and main `m` agree in class (an open class
/// agrees with both).
fn agrees(entries: &[Entry], mains: &[Main], e: usize, m: usize) -> bool {
    match (entries.get(e), mains.get(m)) {
        (Some(entry), Some(main)) => {
            entry.class.is_none_or(|class| class == main.class)
        }
        _ => false,
    }
}

/// Returns the one element of `list` that passes `test`, or `None` when
/// none or several do.
fn only(list: &[usize], test: impl Fn(usize) -> bool) -> Option<usize> {
    let mut passing = list.iter().copied().filter(|&i| test(i));
    let first = passing.next()?;
    passing.next().is_none().then_some(first)
}
