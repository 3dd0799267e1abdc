//! Lines grouped by tier, by model and by (period, tier). Memory grows with the number of
//! groups, not of lines, and the number of groups is capped: past [`MAX_NAMES`] distinct tier
//! or model names, new names are counted under [`OTHER`]; past [`MAX_PERIODS`] periods, lines
//! of new periods are left out of the series (and counted in `series_dropped`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::entry::Entry;
use super::stats::Stats;
use super::time::Period;

pub const MAX_NAMES: usize = 1_000;
/// 13 months by hour.
pub const MAX_PERIODS: usize = 10_000;
pub const OTHER: &str = "(other)";

/// Stats keyed by a tier or model name.
#[derive(Debug, Default)]
pub struct Named {
    groups: HashMap<String, Stats>,
}

impl Named {
    /// Adds the line to the group `name` (or [`OTHER`] once the cap is reached), hashing
    /// the name and allocating only for a new group.
    pub fn add(&mut self, name: &str, entry: &Entry<'_>) {
        let key = capped(&self.groups, name);
        if let Some(stats) = self.groups.get_mut(key) {
            stats.add(entry);
            return;
        }
        let mut stats = Stats::default();
        stats.add(entry);
        self.groups.insert(key.to_string(), stats);
    }

    /// By name, for stable output.
    pub fn sorted(&self) -> Vec<(&str, &Stats)> {
        let mut groups: Vec<(&str, &Stats)> =
            self.groups.iter().map(|(k, v)| (k.as_str(), v)).collect();
        groups.sort_by(|a, b| a.0.cmp(b.0));
        groups
    }
}

/// `name`, or [`OTHER`] when `map` is full and does not have it.
fn capped<'n, V>(map: &HashMap<String, V>, name: &'n str) -> &'n str {
    if map.len() < MAX_NAMES || map.contains_key(name) {
        name
    } else {
        OTHER
    }
}

/// Small integer ids for names, so a series cell key is two integers.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u16>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u16 {
        let name = capped(&self.ids, name);
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u16;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    fn name(&self, id: u16) -> &str {
        self.names
            .get(usize::from(id))
            .map_or(OTHER, String::as_str)
    }
}

/// One row of the time series.
pub struct Cell<'a> {
    /// Period start; `None` for lines without a readable `start_time`.
    pub start: Option<i64>,
    pub tier: &'a str,
    pub stats: &'a Stats,
}

/// The lines of one kind (served or shadow).
#[derive(Debug, Default)]
pub struct Breakdown {
    pub total: Stats,
    pub by_tier: Named,
    pub by_model: Named,
    series: BTreeMap<(Option<i64>, u16), Stats>,
    periods: BTreeSet<Option<i64>>,
    tiers: Interner,
    pub series_dropped: u64,
}

impl Breakdown {
    pub fn add(&mut self, entry: &Entry<'_>, period: Option<Period>) {
        self.total.add(entry);
        self.by_tier.add(entry.tier, entry);
        self.by_model.add(entry.model, entry);
        if let Some(period) = period {
            self.add_to_series(entry, period);
        }
    }

    fn add_to_series(&mut self, entry: &Entry<'_>, period: Period) {
        let start = entry.time.map(|t| period.start(t));
        if !self.periods.contains(&start) {
            if self.periods.len() >= MAX_PERIODS {
                self.series_dropped += 1;
                return;
            }
            self.periods.insert(start);
        }
        let tier = self.tiers.id(entry.tier);
        self.series.entry((start, tier)).or_default().add(entry);
    }

    /// The series by period, then tier name.
    pub fn series(&self) -> Vec<Cell<'_>> {
        let mut cells: Vec<Cell<'_>> = self
            .series
            .iter()
            .map(|((start, tier), stats)| Cell {
                start: *start,
                tier: self.tiers.name(*tier),
                stats,
            })
            .collect();
        // Already by period; a stable sort orders each period's tiers by name.
        cells.sort_by(|a, b| a.start.cmp(&b.start).then(a.tier.cmp(b.tier)));
        cells
    }

    pub fn is_empty(&self) -> bool {
        self.total.requests == 0
    }
}
