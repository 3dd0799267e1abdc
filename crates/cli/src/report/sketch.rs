//! Streaming quantiles in bounded memory: a log-bucket histogram (the DDSketch idea).
//!
//! A value `v` falls in bucket `i = ceil(ln v / ln γ)` with `γ = (1 + α) / (1 − α)`; every
//! value in bucket `i` lies in `(γ^(i−1), γ^i]`, and the bucket's representative
//! `2γ^i / (γ + 1)` is within relative error `α` of each of them. A quantile is answered by
//! walking the bucket counts to its rank, so it is within [`RELATIVE_ERROR`] (1%) of the
//! true sample at that rank (nearest rank: the `ceil(q·n)`-th smallest), and clamped to the
//! exact min and max (which are returned exactly).
//!
//! Memory does not grow with the number of samples: a sketch holds 4 bytes per bucket in
//! use while that is smaller (a few hundred samples), then 4 bytes per bucket between the
//! smallest and largest bucket seen (a bucket saturates at 4,294,967,295 samples). Values are
//! clamped to [[`MIN_VALUE`], [`MAX_VALUE`]] (smaller ones count as zero), so a sketch never
//! exceeds `ln(MAX/MIN) / ln γ` ≈ 1,370 buckets (5.5 KB); latencies from 10 ms to 1 h take
//! at most 640 (2.5 KB).

/// α: the relative error of every quantile.
pub const RELATIVE_ERROR: f64 = 0.01;
/// Smaller values (in ms: under a microsecond) are counted as zero.
pub const MIN_VALUE: f64 = 1e-3;
/// Larger values (in ms: about 11.5 days) are clamped.
pub const MAX_VALUE: f64 = 1e9;
/// A sparse store turns dense only with at least this many buckets in use.
const MIN_DENSE_BUCKETS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct Sketch {
    store: Store,
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
}

/// Bucket counts: sparse (index, count) pairs while few buckets are used (a small group:
/// one tier in one hour), dense from the first to the last used bucket once that is smaller.
#[derive(Debug, Clone)]
enum Store {
    /// Sorted by index; a count reaching `u16::MAX` turns the store dense.
    Sparse(Vec<(i16, u16)>),
    /// Counts of buckets `offset ..= offset + counts.len() - 1`.
    Dense { offset: i32, counts: Vec<u32> },
}

impl Default for Store {
    fn default() -> Store {
        Store::Sparse(Vec::new())
    }
}

impl Sketch {
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        let value = value.min(MAX_VALUE);
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self.count += 1;
        if value < MIN_VALUE {
            self.zeros += 1;
        } else {
            self.store.add(index_of(value));
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (0..=1), or `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        // Nearest rank: the ceil(q * n)-th smallest sample, as a 0-based index.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count) - 1;
        // The extremes are known exactly.
        if rank == 0 {
            return Some(self.min);
        }
        if rank == self.count - 1 {
            return Some(self.max);
        }
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        let bucket = self.store.buckets().find(|(_, n)| {
            seen += u64::from(*n);
            rank < seen
        });
        let estimate = bucket.map_or(self.max, |(index, _)| value_of(index));
        Some(estimate.clamp(self.min, self.max))
    }
}

impl Store {
    fn add(&mut self, index: i32) {
        match self {
            Store::Sparse(pairs) => {
                // Indices are within ±1,400 (the clamped value range), so i16 holds them.
                let index = index as i16;
                let mut full = false;
                match pairs.binary_search_by_key(&index, |(i, _)| *i) {
                    Ok(at) => {
                        if let Some((_, n)) = pairs.get_mut(at) {
                            *n += 1;
                            full = *n == u16::MAX;
                        }
                    }
                    Err(at) => {
                        // Grow by a quarter, not double: many small sketches stay small.
                        if pairs.len() == pairs.capacity() {
                            pairs.reserve_exact(pairs.len() / 4 + 4);
                        }
                        pairs.insert(at, (index, 1));
                    }
                }
                self.densify_if_smaller(full);
            }
            Store::Dense { offset, counts } => {
                let slot = grow_to(offset, counts, index);
                if let Some(n) = counts.get_mut(slot) {
                    *n = n.saturating_add(1);
                }
            }
        }
    }

    /// Sparse pairs take 4 bytes a used bucket, dense counts 4 bytes a bucket in range:
    /// switch when dense is no bigger (or a sparse count is `full`).
    fn densify_if_smaller(&mut self, full: bool) {
        let Store::Sparse(pairs) = self else { return };
        let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
            return;
        };
        let range = (i32::from(last.0) - i32::from(first.0) + 1) as usize;
        // Wait for a few buckets: one far-off later value would make an early dense store big.
        if !full && (pairs.len() < MIN_DENSE_BUCKETS || pairs.len() < range) {
            return;
        }
        let offset = i32::from(first.0);
        let mut counts = vec![0u32; range];
        for (index, n) in pairs.iter() {
            if let Some(slot) = counts.get_mut((i32::from(*index) - offset) as usize) {
                *slot = u32::from(*n);
            }
        }
        *self = Store::Dense { offset, counts };
    }

    /// (bucket index, count) in increasing index order.
    fn buckets(&self) -> Box<dyn Iterator<Item = (i32, u32)> + '_> {
        match self {
            Store::Sparse(pairs) => {
                Box::new(pairs.iter().map(|(i, n)| (i32::from(*i), u32::from(*n))))
            }
            Store::Dense { offset, counts } => Box::new(
                counts
                    .iter()
                    .enumerate()
                    .map(move |(i, n)| (*offset + i as i32, *n)),
            ),
        }
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        match self {
            Store::Sparse(pairs) => pairs.len() * 4,
            Store::Dense { counts, .. } => counts.len() * 4,
        }
    }
}

/// The position of bucket `index` in a dense store, growing it on either side as needed.
fn grow_to(offset: &mut i32, counts: &mut Vec<u32>, index: i32) -> usize {
    if counts.is_empty() {
        *offset = index;
        counts.push(0);
        return 0;
    }
    if index < *offset {
        let grow = (*offset - index) as usize;
        counts.splice(0..0, std::iter::repeat_n(0, grow));
        *offset = index;
    }
    let slot = (index - *offset) as usize;
    if slot >= counts.len() {
        counts.resize(slot + 1, 0);
    }
    slot
}

fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

fn index_of(value: f64) -> i32 {
    (value.ln() / gamma().ln()).ceil() as i32
}

fn value_of(index: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(index) / (g + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_samples_stay_sparse() {
        let mut sketch = Sketch::default();
        for v in [10.0, 250.0, 3000.0, 40_000.0] {
            sketch.add(v);
        }
        assert!(matches!(sketch.store, Store::Sparse(_)));
        assert_eq!(sketch.store.bytes(), 16);
        let p50 = sketch.quantile(0.5).unwrap();
        assert!((p50 - 250.0).abs() <= 2.5, "{p50}");
    }

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn quantiles_are_within_the_relative_error() {
        let mut sketch = Sketch::default();
        // A skewed spread from 0.5 ms to about 60 s, in a scrambled order.
        let mut values: Vec<f64> = (0..100_000u64)
            .map(|i| 0.5 * 1.0001_f64.powf(((i * 7919) % 100_000) as f64 * 1.17))
            .collect();
        for v in &values {
            sketch.add(*v);
        }
        values.sort_by(f64::total_cmp);
        for q in [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let (got, want) = (sketch.quantile(q).unwrap(), exact(&values, q));
            assert!(
                (got - want).abs() <= RELATIVE_ERROR * want + 1e-12,
                "q={q}: got {got}, want {want}"
            );
        }
        assert!(sketch.store.bytes() < 1_400 * 4);
        assert!(matches!(sketch.store, Store::Dense { .. }));
    }

    #[test]
    fn a_busy_sparse_bucket_turns_dense() {
        let mut sketch = Sketch::default();
        for _ in 0..70_000 {
            sketch.add(100.0);
        }
        sketch.add(5.0);
        assert!(matches!(sketch.store, Store::Dense { .. }));
        assert_eq!(sketch.quantile(0.5).map(f64::round), Some(100.0));
        assert_eq!(sketch.quantile(0.0), Some(5.0));
    }

    #[test]
    fn zeros_and_single_values() {
        let mut sketch = Sketch::default();
        assert_eq!(sketch.quantile(0.5), None);
        sketch.add(0.0);
        sketch.add(0.0);
        sketch.add(20.0);
        assert_eq!(sketch.quantile(0.5), Some(0.0));
        assert_eq!(sketch.quantile(1.0), Some(20.0));
        sketch.add(f64::NAN);
        sketch.add(-1.0);
        assert_eq!(sketch.count(), 3);
    }

    #[test]
    fn memory_is_bounded_by_the_value_range() {
        let mut sketch = Sketch::default();
        for i in 0..100_000 {
            sketch.add(MIN_VALUE * 1.0001_f64.powi(i));
        }
        sketch.add(f64::MAX);
        assert!(
            sketch.store.bytes() <= 1_400 * 4,
            "{}",
            sketch.store.bytes()
        );
    }
}
