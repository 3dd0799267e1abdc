//! `tier-router check`: validate a configuration as the filter's `on_configure` would.

use std::path::Path;

pub fn run(path: Option<&Path>) -> Result<(), String> {
    let config = super::load_config(path)?;
    let name = path.map_or_else(
        || "built-in config".to_string(),
        |p| p.display().to_string(),
    );
    println!(
        "{name}: ok ({} tiers, {} models, {} cues, fallback {})",
        config.tiers.len(),
        config.models.len(),
        config.classifier.cues().len(),
        config.model(config.fallback_model).name
    );
    Ok(())
}
