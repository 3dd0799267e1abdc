//! Request bodies of the LLM APIs the router understands: parsing (text and structure) and
//! the byte-preserving edits the router is allowed to make.

mod parse;
mod rewrite;
mod text;

pub use parse::{NotJsonObject, OwnedField, RequestBody};
pub use rewrite::set_model;
pub use text::{Message, Role, Texts};
