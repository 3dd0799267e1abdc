//! The usage scanner: the same answer however Envoy splits the response body, and never
//! more held between chunks than its cap.

use tier_router_core::usage::{UsageScanner, MAX_USAGE_BYTES};

/// What a scanner concluded, for comparing runs.
fn outcome(scanner: &UsageScanner) -> String {
    format!(
        "usage {:?} events {} done {} bytes {}",
        scanner.usage(),
        scanner.events,
        scanner.done,
        scanner.bytes
    )
}

/// Feeds `chunks` in turn, checking the held state after each.
fn scan<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> String {
    let mut scanner = UsageScanner::new();
    for chunk in chunks {
        scanner.feed(chunk);
        assert!(
            scanner.held_bytes() <= MAX_USAGE_BYTES,
            "the scanner holds {} bytes, over its cap of {MAX_USAGE_BYTES}",
            scanner.held_bytes()
        );
    }
    outcome(&scanner)
}

/// Cut points of a pseudo-random chunking of `len` bytes, from `seed` (xorshift): chunk
/// lengths from 1 to `max_chunk`, empty chunks included now and then.
fn chunk_lengths(seed: u64, len: usize, max_chunk: usize) -> Vec<usize> {
    let mut state = seed | 1;
    let mut lengths = Vec::new();
    let mut total = 0;
    while total < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state as usize) % (max_chunk + 1);
        lengths.push(n.min(len - total));
        total += n.min(len - total);
    }
    lengths
}

/// `data`: an 8-byte chunking seed, then the body.
pub fn check(data: &[u8]) {
    let Some((seed, body)) = data.split_first_chunk::<8>() else {
        return;
    };
    let seed = u64::from_le_bytes(*seed);
    let whole = scan(std::iter::once(body));
    let bytewise = scan(body.chunks(1));
    assert_eq!(whole, bytewise, "one chunk vs one byte at a time");
    for max_chunk in [7, 64, 4096] {
        let mut rest = body;
        let chunks = chunk_lengths(seed, body.len(), max_chunk)
            .into_iter()
            .map(|n| {
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                chunk
            });
        let chunked = scan(chunks);
        assert_eq!(
            whole, chunked,
            "one chunk vs chunks of up to {max_chunk} bytes (seed {seed})"
        );
    }
}
