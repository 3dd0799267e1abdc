//! Config::route on generated JSON object bodies (tier_router_fuzz::json), for every API
//! path and explicit task: the rewrite is valid JSON with only the owned fields changed.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use tier_router_fuzz::{json::ObjectBody, route};
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = ObjectBody::from_bytes(rest) else {
        return;
    };
    let bytes = body.to_json();
    assert!(
        route::is_json(&bytes),
        "the generator wrote invalid JSON: {}",
        String::from_utf8_lossy(&bytes)
    );
    route::check(route::default_config(), &route::head(*selector), &bytes);
});
