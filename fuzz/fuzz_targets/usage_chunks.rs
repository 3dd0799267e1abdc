//! The usage scanner fed arbitrary chunkings of arbitrary response bodies.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tier_router_fuzz::usage::check(data));
