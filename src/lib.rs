//! tier-router: route each LLM call to the cheapest model tier that can do the job.
//!
//! The core (`config`, `body`, `classify`, `decide`) is pure Rust with no proxy-wasm in it: it
//! takes headers and bytes in and returns decisions out, and is tested natively. The
//! `filter` module is the thin proxy-wasm adapter, compiled only for wasm32.

pub mod account;
pub mod body;
pub mod classify;
pub mod config;
pub mod cost;
pub mod decide;
pub mod names;
pub mod policy;
pub mod session;
pub mod store;
pub mod usage;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod filter;

pub use config::{Config, ConfigError};
pub use decide::{BodyStatus, Decision, Env, RequestHead, Routed, Side, Source};
