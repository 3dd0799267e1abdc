//! The parser's memory is bounded by the bytes it scans, not by the body: a 1 MiB body of
//! empty content parts, or of many small messages, costs the parse a small multiple of
//! `scan_bytes`. Measured with a counting global allocator (this binary's only test, so no
//! other thread allocates while it measures).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tier_router_core::body::RequestBody;
use tier_router_core::RequestHead;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `f`, above what was allocated before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (PEAK.load(Ordering::SeqCst) - base, out)
}

const MIB: usize = 1024 * 1024;

/// `{"messages":[{"role":"user","content":[<part>,<part>,...]}]}` of about 1 MiB.
fn empty_parts() -> Vec<u8> {
    let part = r#"{"type":"text","text":""},"#;
    let mut body = String::from(r#"{"model":"m","messages":[{"role":"user","content":["#);
    body.push_str(&part.repeat(MIB / part.len()));
    body.push_str(r#"{"type":"text","text":"Answer with only one word."}]}]}"#);
    body.into_bytes()
}

/// About 1 MiB of short user and assistant messages.
fn many_messages() -> Vec<u8> {
    let pair = r#"{"role":"user","content":"hi \u00e9"},{"role":"assistant","content":[{"type":"text","text":"hello"}]},"#;
    let mut body = String::from(r#"{"model":"m","system":"Be terse.","messages":["#);
    body.push_str(&pair.repeat(MIB / pair.len()));
    body.push_str(r#"{"role":"user","content":"Prove it step by step."}]}"#);
    body.into_bytes()
}

/// One message of 1 MiB in many one-byte parts: every kept part is at its smallest.
fn tiny_parts() -> Vec<u8> {
    let part = r#""a","#;
    let mut body = String::from(r#"{"messages":[{"role":"user","content":["#);
    body.push_str(&part.repeat(MIB / part.len()));
    body.push_str(r#""b"]}]}"#);
    body.into_bytes()
}

#[test]
fn parser_memory_is_a_small_multiple_of_the_scanned_bytes() {
    let config = common::default_config();
    let head = RequestHead {
        path: "/v1/chat/completions",
        ..RequestHead::default()
    };
    for scan_bytes in [64, 8192, 65536] {
        // The system prompt's and the last user message's windows, `scan_bytes` each.
        let scanned = 2 * scan_bytes;
        for (name, body) in [
            ("empty content parts", empty_parts()),
            ("many small messages", many_messages()),
            ("one-byte parts", tiny_parts()),
        ] {
            let (peak, parsed) = peak_during(|| RequestBody::parse_scanning(&body, scan_bytes));
            let parsed = parsed.unwrap();
            assert!(parsed.prompt_len() > 0 || name == "empty content parts");
            // Kept bytes, 4 bytes per kept part, the last message's reused buffers, and
            // serde_json's scratch: a small multiple, plus a few KiB of fixed cost.
            let bound = 8 * scanned + 4096;
            eprintln!("{name}, scan_bytes {scan_bytes}: peak {peak} bytes (bound {bound})");
            assert!(
                peak <= bound,
                "{name}: {} byte body, scan_bytes {scan_bytes}: parse peaked at {peak} bytes, over {bound}",
                body.len()
            );
        }
    }
    // The whole route (parse, classify, rewrite) of the 1 MiB body of empty parts: the new body
    // is one copy of the old one, nothing grows with the number of parts.
    let body = empty_parts();
    let (peak, routed) = peak_during(|| config.route(&head, Some(&body)));
    assert_eq!(config.tier_name(&routed.decision), "label");
    let new_body = routed.new_body.map_or(0, |b| b.capacity());
    assert!(
        peak <= new_body + 64 * 1024,
        "route peaked at {peak} bytes for a {} byte body",
        body.len()
    );
}
