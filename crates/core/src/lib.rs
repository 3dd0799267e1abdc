//! tier-router's core: route each LLM call to the cheapest model tier that can do the job.
//!
//! Pure Rust with no proxy-wasm and no CLI in it: headers, bytes and the time go in, decisions
//! and edits come out, and all of it is tested natively. The Envoy filter
//! (`crates/filter`) and the command-line tool (`crates/cli`) are thin layers over it.

pub mod account;
pub mod adapt;
pub mod api;
pub mod body;
pub mod bypass;
pub mod cascade;
pub mod classify;
pub mod config;
pub mod cost;
pub mod decide;
pub mod failover;
pub mod hash;
pub mod health;
pub mod learn;
pub mod names;
pub mod policy;
pub mod session;
pub mod store;
pub mod trust;
pub mod usage;
pub mod wire;

pub use bypass::{Admit, BodyHead, PassReason, Rejection};
pub use config::{Config, ConfigError};
pub use decide::{BodyStatus, Decision, Env, RequestHead, Routed, Side, Source, UntrustedTask};
