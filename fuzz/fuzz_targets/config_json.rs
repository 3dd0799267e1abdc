//! Config::from_json on arbitrary documents and on edits of the shipped config.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tier_router_fuzz::config::check(data));
