//! The properties the fuzz targets check, shared by the targets (fuzz_targets/*.rs) so each
//! target only turns fuzzer bytes into inputs. A property that fails panics with the input
//! described, which libFuzzer reports as a crash and saves under fuzz/artifacts/.

pub mod json;
pub mod route;
pub mod usage;

pub mod bounds;
pub mod config;
