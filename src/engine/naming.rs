//! Output names: `<prefix>-<date>[<suffix>].<ext>`, unique per output
//! folder (platforms.md §2.5, §3.6).
//!
//! Names are allocated in memory in planning order, before anything is
//! written; files already on disk do not count, so a rerun produces the
//! same names and replaces its own earlier output.

use std::collections::{BTreeMap, HashSet};

/// One name to allocate.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// `<prefix>-<date>`.
    pub(crate) base: String,
    /// Final lower-case extension without the dot.
    pub(crate) ext: String,
    /// Capture instant in seconds, for day ordering.
    pub(crate) instant: Option<i64>,
    /// Day-numbering group (sidecar title stem).
    pub(crate) group: String,
    /// Input file stem and extension, then album: the tie-breakers.
    pub(crate) stem: String,
    /// Input file extension as found.
    pub(crate) src_ext: String,
    /// Album of the input.
    pub(crate) album: String,
}

/// The names taken in one output folder, compared case-insensitively.
#[derive(Debug, Default)]
pub(crate) struct Allocator {
    taken: HashSet<String>,
}

impl Allocator {
    /// Takes `name` if free and returns whether it was.
    fn take(&mut self, name: &str) -> bool {
        self.taken.insert(name.to_lowercase())
    }

    /// Allocates with counter suffixes: `base`, then `base_<first>`,
    /// `base_<first + 1>`, … (styles A and B).
    pub(crate) fn counter(
        &mut self,
        base: &str,
        ext: &str,
        first: u32,
    ) -> String {
        let plain = format!("{base}.{ext}");
        if self.take(&plain) {
            return plain;
        }
        (first..)
            .map(|n| format!("{base}_{n}.{ext}"))
            .find(|name| self.take(name))
            .expect("an unbounded counter finds a free name")
    }

    /// Allocates Google Photos day numbering for every request, returning
    /// names in request order (platforms.md §3.6).
    pub(crate) fn day_numbering(&mut self, reqs: &[Request]) -> Vec<String> {
        let mut by_base: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, req) in reqs.iter().enumerate() {
            by_base.entry(req.base.as_str()).or_default().push(i);
        }
        let mut names = vec![String::new(); reqs.len()];
        for (base, mut members) in by_base {
            members.sort_by(|&a, &b| {
                order_key(&reqs[a]).cmp(&order_key(&reqs[b]))
            });
            let numbers = number_day(reqs, &members);
            let single = numbers.iter().all(|&n| n == numbers[0]);
            for (&i, &n) in members.iter().zip(&numbers) {
                let ext = &reqs[i].ext;
                let wanted = if single {
                    format!("{base}.{ext}")
                } else {
                    format!("{base}_{n}.{ext}")
                };
                names[i] = if self.take(&wanted) {
                    wanted
                } else {
                    // Another processor already holds this name in the
                    // shared folder; fall back to a counter.
                    self.counter(
                        &wanted[..wanted.len() - ext.len() - 1],
                        ext,
                        1,
                    )
                };
            }
        }
        names
    }
}

/// Sort key of §3.6: instant, title stem, input stem, input extension,
/// album.
fn order_key(req: &Request) -> (Option<i64>, &str, &str, &str, &str) {
    (req.instant, &req.group, &req.stem, &req.src_ext, &req.album)
}

/// Returns the number of each member (already in day order). A member
/// takes the first number of its group whose files lack its extension,
/// else the next free number of the day.
fn number_day(reqs: &[Request], members: &[usize]) -> Vec<u32> {
    // Per group (instant, title stem): the numbers given, each with the
    // extensions it already holds.
    type Slots<'a> = Vec<(u32, Vec<&'a str>)>;
    let mut groups: BTreeMap<(Option<i64>, &str), Slots> = BTreeMap::new();
    let mut next = 1;
    let mut numbers = Vec::with_capacity(members.len());
    for &i in members {
        let req = &reqs[i];
        let slots =
            groups.entry((req.instant, req.group.as_str())).or_default();
        let ext = req.ext.as_str();
        let number =
            match slots.iter_mut().find(|(_, exts)| !exts.contains(&ext)) {
                Some((n, exts)) => {
                    exts.push(ext);
                    *n
                }
                None => {
                    slots.push((next, vec![ext]));
                    next += 1;
                    next - 1
                }
            };
        numbers.push(number);
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(base: &str, ext: &str, at: i64, group: &str, stem: &str) -> Request {
        Request {
            base: base.to_string(),
            ext: ext.to_string(),
            instant: Some(at),
            group: group.to_string(),
            stem: stem.to_string(),
            src_ext: ext.to_string(),
            album: "A".to_string(),
        }
    }

    #[test]
    fn counters_in_both_styles() {
        let mut a = Allocator::default();
        assert_eq!(a.counter("x-20210101", "jpg", 1), "x-20210101.jpg");
        assert_eq!(a.counter("x-20210101", "mp4", 1), "x-20210101.mp4");
        assert_eq!(a.counter("x-20210101", "JPG", 1), "x-20210101_1.JPG");
        assert_eq!(a.counter("x-20210101", "jpg", 1), "x-20210101_2.jpg");
        let mut b = Allocator::default();
        assert_eq!(b.counter("y", "jpg", 2), "y.jpg");
        assert_eq!(b.counter("y", "jpg", 2), "y_2.jpg");
        assert_eq!(b.counter("y", "jpg", 2), "y_3.jpg");
    }

    #[test]
    fn lone_items_and_live_pairs_have_no_suffix() {
        let base = "gphotos-john.doe-20210101";
        let reqs = [
            req(base, "heic", 100, "IMG_1", "IMG_1"),
            req(base, "mov", 100, "IMG_1", "IMG_1"),
            req("gphotos-john.doe-20100101", "jpg", 5, "P", "P"),
        ];
        let names = Allocator::default().day_numbering(&reqs);
        assert_eq!(
            names,
            [
                "gphotos-john.doe-20210101.heic",
                "gphotos-john.doe-20210101.mov",
                "gphotos-john.doe-20100101.jpg"
            ]
        );
    }

    #[test]
    fn five_items_example_of_the_spec() {
        let base = "gphotos-john.doe-20210101";
        // Given out of order on purpose: ordering is by instant first.
        let reqs = [
            req(base, "jpg", 300, "B", "B"),
            req(base, "heic", 100, "IMG_1", "IMG_1"),
            req(base, "mov", 100, "IMG_1", "IMG_1"),
            req(base, "heic", 100, "IMG_1", "IMG_1-edited"),
            req(base, "jpg", 200, "A", "A"),
        ];
        let names = Allocator::default().day_numbering(&reqs);
        let suffixes: Vec<&str> =
            names.iter().map(|n| &n[base.len()..]).collect();
        assert_eq!(
            suffixes,
            ["_4.jpg", "_1.heic", "_1.mov", "_2.heic", "_3.jpg"]
        );
    }

    #[test]
    fn same_time_different_titles_are_separate_groups() {
        let base = "b";
        let reqs =
            [req(base, "jpg", 1, "X", "X"), req(base, "jpg", 1, "Y", "Y")];
        let names = Allocator::default().day_numbering(&reqs);
        assert_eq!(names, ["b_1.jpg", "b_2.jpg"]);
    }
}
