//! A configuration error names the field (`tiers[1].models[0]`) and says how to fix it.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// Where in the JSON document, e.g. `tiers[1].models[0]` (empty for the whole document).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.field.is_empty() || self.field == "." {
            write!(f, "invalid tier-router config: {}", self.message)
        } else {
            write!(
                f,
                "invalid tier-router config at `{}`: {}",
                self.field, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}
