//! Callback timing, a measurement aid for `docs/benchmarks.md` ("Inside the VM"), never
//! shipped: with `--features callback-timing` each callback of a request context, and the
//! parts of them passed to `timed`, are timed with the host clock, and every 10,000 requests
//! the mean per request of each is logged at warn level (`PROF n=10000 ...`). Without the
//! feature `timed` only calls its function.
//! `bench/profile_callbacks.sh` builds such a module and runs it inside Envoy.

/// What is timed. Callbacks are timed whole by `Timed`; the rest are parts of them.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "callback-timing"), allow(dead_code))]
pub enum Part {
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
    Log,
    /// The request body copied into the VM.
    BodyRead,
    /// The core: parse, classify, decide, rewrite.
    Route,
    /// The decision applied: cluster header, route cache, body, content-length.
    Apply,
    /// The request body kept for a failover attempt.
    KeepForRetry,
    /// A response chunk copied into the VM and scanned for usage.
    ResponseChunk,
    /// The record written as filter state.
    FilterState,
    /// Counters and histograms.
    Metrics,
    /// Health marks read or written in shared data.
    Health,
}

#[cfg(feature = "callback-timing")]
pub use on::{timed, Timed};

/// Runs `f`; a measurement build adds its time to `part`.
#[cfg(not(feature = "callback-timing"))]
#[inline(always)]
pub fn timed<T>(_part: Part, f: impl FnOnce() -> T) -> T {
    f()
}

#[cfg(feature = "callback-timing")]
mod on {
    use std::cell::RefCell;

    use proxy_wasm::traits::{Context, HttpContext};
    use proxy_wasm::types::Action;

    use super::Part;
    use crate::host;

    const NAMES: [&str; 13] = [
        "on_request_headers",
        "on_request_body",
        "on_response_headers",
        "on_response_body",
        "on_log",
        "body_read",
        "route",
        "apply",
        "keep_for_retry",
        "response_chunk",
        "filter_state",
        "metrics",
        "health",
    ];
    const EVERY: u64 = 10_000;

    thread_local! {
        static TOTAL_NS: RefCell<([u64; NAMES.len()], u64)> =
            const { RefCell::new(([0; NAMES.len()], 0)) };
    }

    fn now() -> u64 {
        host::now_ns().unwrap_or(0)
    }

    /// Adds the time from its creation to its drop to its part.
    pub struct Span {
        part: Part,
        from: u64,
    }

    fn span(part: Part) -> Span {
        Span { part, from: now() }
    }

    pub fn timed<T>(part: Part, f: impl FnOnce() -> T) -> T {
        let _t = span(part);
        f()
    }

    impl Drop for Span {
        fn drop(&mut self) {
            let spent = now().saturating_sub(self.from);
            TOTAL_NS.with(|t| t.borrow_mut().0[self.part as usize] += spent);
        }
    }

    /// One request done: every `EVERY` requests, the means so far go to Envoy's log.
    fn request_done() {
        TOTAL_NS.with(|t| {
            let mut t = t.borrow_mut();
            t.1 += 1;
            if t.1 % EVERY != 0 {
                return;
            }
            let n = t.1 as f64;
            let means: Vec<String> = NAMES
                .iter()
                .zip(t.0)
                .map(|(name, ns)| format!("{name}={:.2}us", ns as f64 / n / 1000.0))
                .collect();
            log::warn!("PROF n={} {}", t.1, means.join(" "));
        });
    }

    /// A request context with each callback timed.
    pub struct Timed<C>(pub C);

    impl<C: Context> Context for Timed<C> {
        fn on_http_call_response(
            &mut self,
            token: u32,
            headers: usize,
            body: usize,
            trailers: usize,
        ) {
            self.0.on_http_call_response(token, headers, body, trailers);
        }
    }

    impl<C: HttpContext> HttpContext for Timed<C> {
        fn on_http_request_headers(&mut self, headers: usize, end: bool) -> Action {
            let _t = span(Part::RequestHeaders);
            self.0.on_http_request_headers(headers, end)
        }

        fn on_http_request_body(&mut self, size: usize, end: bool) -> Action {
            let _t = span(Part::RequestBody);
            self.0.on_http_request_body(size, end)
        }

        fn on_http_request_trailers(&mut self, trailers: usize) -> Action {
            self.0.on_http_request_trailers(trailers)
        }

        fn on_http_response_headers(&mut self, headers: usize, end: bool) -> Action {
            let _t = span(Part::ResponseHeaders);
            self.0.on_http_response_headers(headers, end)
        }

        fn on_http_response_body(&mut self, size: usize, end: bool) -> Action {
            let _t = span(Part::ResponseBody);
            self.0.on_http_response_body(size, end)
        }

        fn on_http_response_trailers(&mut self, trailers: usize) -> Action {
            self.0.on_http_response_trailers(trailers)
        }

        fn on_log(&mut self) {
            {
                let _t = span(Part::Log);
                self.0.on_log();
            }
            request_done();
        }
    }
}
