//! Config::route on arbitrary bytes: the first byte picks the request head (API path,
//! explicit task, session), the rest is the body.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use tier_router_fuzz::route;
    if let Some((selector, body)) = data.split_first() {
        route::check(route::default_config(), &route::head(*selector), body);
    }
});
