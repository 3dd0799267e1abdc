//! `check --envoy`: every model's `cluster` must be a cluster of the Envoy bootstrap, else
//! its requests get Envoy's empty 503 `cluster_not_found` (and are logged as routed).

use std::path::Path;

use tier_router_core::Config;
use yaml_rust2::{Yaml, YamlLoader};

/// The clusters a bootstrap defines, and whether it may add more at run time (CDS).
#[derive(Debug)]
pub struct Bootstrap {
    pub clusters: Vec<String>,
    pub dynamic: bool,
}

/// Reads `static_resources.clusters[].name` from an Envoy bootstrap in YAML or JSON.
pub fn read(path: &Path) -> Result<Bootstrap, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let docs =
        YamlLoader::load_from_str(&text).map_err(|e| format!("{name}: not YAML or JSON: {e}"))?;
    let doc = docs
        .first()
        .ok_or_else(|| format!("{name}: empty; pass an Envoy bootstrap (e.g. envoy/envoy.yaml)"))?;
    let clusters = &doc["static_resources"]["clusters"];
    let dynamic = !doc["dynamic_resources"]["cds_config"].is_badvalue();
    let clusters = match clusters {
        Yaml::Array(items) => items
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect(),
        Yaml::BadValue if dynamic => Vec::new(),
        _ => {
            return Err(format!(
            "{name}: no static_resources.clusters; pass an Envoy bootstrap (e.g. envoy/envoy.yaml)"
        ))
        }
    };
    Ok(Bootstrap { clusters, dynamic })
}

/// One line per model (and the `passthrough.cluster`) whose cluster the bootstrap lacks.
pub fn missing(config: &Config, bootstrap: &Bootstrap, bootstrap_name: &str) -> Vec<String> {
    let defined = if bootstrap.clusters.is_empty() {
        "none".to_string()
    } else {
        bootstrap.clusters.join(", ")
    };
    config
        .models
        .iter()
        .enumerate()
        .filter(|(_, m)| !bootstrap.clusters.contains(&m.cluster))
        .map(|(i, m)| {
            format!(
                "models[{i}].cluster: model `{}` routes to cluster `{}`, which {bootstrap_name} does not define (static_resources.clusters: {defined}); add the cluster to Envoy or name one of these",
                m.name, m.cluster
            )
        })
        .chain(
            config
                .bypass
                .cluster
                .iter()
                .filter(|c| !bootstrap.clusters.contains(c))
                .map(|c| {
                    format!(
                        "passthrough.cluster: requests the router does not rewrite go to cluster `{c}`, which {bootstrap_name} does not define (static_resources.clusters: {defined}); add the cluster to Envoy or remove the field"
                    )
                }),
        )
        .collect()
}
