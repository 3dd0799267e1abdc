//! Request bodies of the LLM APIs the router understands: parsing (text and structure) and
//! the byte-preserving edits the router is allowed to make.

mod parse;
mod rewrite;
mod text;
mod windows;

pub use parse::{NotJsonObject, OwnedField, RequestBody, DEFAULT_SCAN_BYTES, MAX_OWNED_REPEATS};
pub use rewrite::{apply, raise_token_floor, request_stream_usage, set_model, Edit, Rewrite};
pub use text::Role;
pub use windows::Windows;
