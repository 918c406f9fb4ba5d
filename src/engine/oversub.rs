//! The oversubscription advice of cli.md §6: more busy threads than cores
//! slow every export down, so memoria warns before work starts.

/// The advice for a run, or `None` when the thread budget fits.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Advice {
    /// Exports running at once (P_eff).
    pub(crate) parallel: usize,
    /// Workers per export (W).
    pub(crate) workers: usize,
    /// Cores available.
    pub(crate) cpus: usize,
    /// Suggested workers when keeping `parallel`.
    pub(crate) suggested_workers: usize,
    /// Suggested parallel exports when keeping `workers`.
    pub(crate) suggested_parallel: usize,
}

/// Returns the advice when `parallel × (workers + 1)` exceeds 1.5 × `cpus`.
///
/// `parallel` is `--parallel-exports` and `exports` the number of exports
/// found; the check only applies when more than one export may run.
pub(crate) fn check(
    parallel: usize,
    exports: usize,
    workers: usize,
    cpus: usize,
) -> Option<Advice> {
    if parallel <= 1 {
        return None;
    }
    let p_eff = parallel.min(exports).max(1);
    let total = p_eff * (workers + 1);
    // Strict, real-valued comparison: total > 1.5 × CPUs.
    if 2 * total <= 3 * cpus {
        return None;
    }
    Some(Advice {
        parallel: p_eff,
        workers,
        cpus,
        suggested_workers: (cpus / p_eff).saturating_sub(1).max(1),
        suggested_parallel: (cpus / (workers + 1)).max(1),
    })
}

impl std::fmt::Display for Advice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.parallel * (self.workers + 1);
        writeln!(
            f,
            "WARNING: {} parallel exports × ({} workers + 1) = {total} threads \
             on {} CPU cores.",
            self.parallel, self.workers, self.cpus
        )?;
        writeln!(
            f,
            "         More busy threads than cores slows every export down \
             (over-subscription)."
        )?;
        write!(
            f,
            "SUGGESTION: use --parallel-exports {} --workers {}, or reduce \
             --parallel-exports to {}.",
            self.parallel, self.suggested_workers, self.suggested_parallel
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_of_cli_md() {
        assert_eq!(check(2, 10, 7, 16), None);
        assert_eq!(check(4, 10, 3, 16), None);
        let a = check(4, 10, 15, 16).unwrap();
        assert_eq!((a.suggested_workers, a.suggested_parallel), (3, 1));
        let a = check(2, 10, 15, 16).unwrap();
        assert_eq!((a.suggested_workers, a.suggested_parallel), (7, 1));
        let a = check(2, 10, 7, 8).unwrap();
        assert_eq!((a.suggested_workers, a.suggested_parallel), (3, 1));
    }

    #[test]
    fn effective_parallelism_is_capped_by_exports() {
        assert_eq!(check(4, 1, 15, 16), None);
        assert_eq!(check(1, 10, 64, 2), None);
        // 12 = 1.5 × 8 exactly is not a warning.
        assert_eq!(check(2, 2, 5, 8), None);
    }

    #[test]
    fn warning_text_matches_the_spec() {
        let text = check(4, 4, 15, 16).unwrap().to_string();
        assert_eq!(
            text,
            "WARNING: 4 parallel exports × (15 workers + 1) = 64 threads on \
             16 CPU cores.\n         More busy threads than cores slows every \
             export down (over-subscription).\nSUGGESTION: use \
             --parallel-exports 4 --workers 3, or reduce --parallel-exports \
             to 1."
        );
    }
}
