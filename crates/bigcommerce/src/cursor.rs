//! Listing positions (opaque [`Cursor`] text) and the delta de-duplication memory.

use std::sync::atomic::{AtomicU64, Ordering};

use cartograph_connector::{Cursor, Error, ErrorKind, Result, Stream};
use cartograph_model::Timestamp;

use crate::bounded::Bounded;

/// Where a listing continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pos {
    /// v3 customers: the `after` cursor.
    After(String),
    /// Page number (v2 and v3 offset paging).
    Page(u32),
}

/// A position within one listing run (the run id ties pages of one delta together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) run: u64,
    pub(crate) pos: Pos,
}

static RUNS: AtomicU64 = AtomicU64::new(1);

impl Position {
    /// The first page of a new run.
    pub(crate) fn start(pos: Pos) -> Self {
        let seed = u64::try_from(Timestamp::now().unix_millis()).unwrap_or(0) << 16;
        Self {
            run: seed ^ RUNS.fetch_add(1, Ordering::Relaxed),
            pos,
        }
    }

    /// Decodes a cursor, or starts a new run at `first`.
    pub(crate) fn from_cursor(cursor: Option<&Cursor>, first: Pos) -> Result<Self> {
        let Some(cursor) = cursor else {
            return Ok(Self::start(first));
        };
        let bad = || {
            Error::new(ErrorKind::Invalid, "not a BigCommerce listing cursor")
                .with_connector("bigcommerce")
                .with_field("cursor")
        };
        let mut parts = cursor.as_str().splitn(3, ':');
        let run = u64::from_str_radix(parts.next().ok_or_else(bad)?, 16).map_err(|_| bad())?;
        let pos = match (parts.next(), parts.next()) {
            (Some("a"), Some(after)) if !after.is_empty() => Pos::After(after.to_owned()),
            (Some("p"), Some(page)) => Pos::Page(page.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        Ok(Self { run, pos })
    }

    /// The same run at `pos`, as a cursor.
    pub(crate) fn next(&self, pos: Pos) -> Cursor {
        let text = match pos {
            Pos::After(a) => format!("{:x}:a:{a}", self.run),
            Pos::Page(p) => format!("{:x}:p:{p}", self.run),
        };
        Cursor::new(text)
    }

    /// The page number (1 when the position is a cursor).
    pub(crate) fn page(&self) -> u32 {
        match self.pos {
            Pos::Page(p) => p.max(1),
            Pos::After(_) => 1,
        }
    }
}

/// De-duplicates delta listings.
///
/// A delta asks BigCommerce for a window that reaches back `delta_overlap_secs` before
/// `since` (vendor filters truncate to seconds, and a date-only filter gets the current time
/// of day appended), then keeps exactly the records modified at or after `since`, each
/// version (`id`, `updated_at`) once per listing run even when pages shift under it. A new
/// run with the same `since` gets the same answer.
#[derive(Debug)]
pub(crate) struct Dedupe {
    /// (stream, id) -> (version in ms, listing run).
    seen: Bounded<(Stream, String), (i64, u64)>,
}

impl Dedupe {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            seen: Bounded::new(capacity),
        }
    }

    /// Whether to deliver this record version; remembers it.
    pub(crate) fn keep(
        &mut self,
        stream: Stream,
        id: &str,
        updated: Option<Timestamp>,
        since: Timestamp,
        run: u64,
    ) -> bool {
        let Some(updated) = updated else {
            return true;
        };
        if updated < since {
            return false;
        }
        let key = (stream, id.to_owned());
        let version = updated.unix_millis();
        if self.seen.get(&key) == Some(&(version, run)) {
            return false;
        }
        self.seen.insert(key, (version, run));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let start = Position::start(Pos::Page(1));
        let c = start.next(Pos::After("abc:def".into()));
        let back = Position::from_cursor(Some(&c), Pos::Page(1)).unwrap();
        assert_eq!(back.run, start.run);
        assert_eq!(back.pos, Pos::After("abc:def".into()));
        let c = start.next(Pos::Page(3));
        assert_eq!(
            Position::from_cursor(Some(&c), Pos::Page(1))
                .unwrap()
                .page(),
            3
        );
        for bad in ["", "zz", "1:q:2", "1:p:x", "1:a:"] {
            assert!(
                Position::from_cursor(Some(&Cursor::new(bad)), Pos::Page(1)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn overlap_is_cut_at_since_and_versions_come_once_per_run() {
        let t = |s| Timestamp::from_unix_seconds(s).unwrap();
        let mut d = Dedupe::new(10);
        let since = t(1000);
        // The vendor window reached back before `since`: those records are not delivered.
        assert!(!d.keep(Stream::Orders, "1", Some(t(990)), since, 1));
        assert!(d.keep(Stream::Orders, "2", Some(t(1005)), since, 1));
        // Same run, same version again (page shift): dropped.
        assert!(!d.keep(Stream::Orders, "2", Some(t(1005)), since, 1));
        // A new run asking the same question gets the same answer.
        assert!(d.keep(Stream::Orders, "2", Some(t(1005)), since, 2));
        // A newer version in the same run passes.
        assert!(d.keep(Stream::Orders, "2", Some(t(1010)), since, 2));
        // Records without a modification time are never dropped.
        assert!(d.keep(Stream::Orders, "3", None, since, 2));
        // Capacity bounds memory.
        let mut small = Dedupe::new(1);
        assert!(small.keep(Stream::Orders, "a", Some(t(1001)), since, 1));
        assert!(small.keep(Stream::Orders, "b", Some(t(1001)), since, 1));
        assert!(small.keep(Stream::Orders, "a", Some(t(1001)), since, 1));
    }
}
