//! Trust lint: an `explicit_tasks.trusted` allow-list with a `/0` network trusts every
//! caller, so it limits nothing (the config is valid: the filter runs with it).

use tier_router_core::Config;

use super::Finding;

pub fn lint(config: &Config, findings: &mut Vec<Finding>) {
    let Some(trusted) = &config.trusted_callers else {
        return;
    };
    for (index, cidr) in trusted.source_cidrs.iter().enumerate() {
        if cidr.prefix_len() == 0 {
            findings.push(Finding::new(
                "trust-everyone",
                format!(
                    "explicit_tasks.trusted.source_cidrs[{index}] `{cidr}` holds every address: \
                     every caller may name a task, as without an allow-list; list the networks \
                     of the callers you trust"
                ),
            ));
        }
    }
}
