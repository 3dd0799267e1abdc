//! The priced what-if of a sample: what it would cost with every request on the baseline
//! model, and with each request on the model its tier picks. Tokens are estimated as the
//! filter estimates them: input = prompt text bytes / 4 ([`BYTES_PER_TOKEN`]); output = the
//! expected completion length of the tier (`--expected-output`), the same on either model.

use std::io::{self, Write};

use tier_router_core::config::{ModelId, Price};
use tier_router_core::cost;
use tier_router_core::usage::{Usage, BYTES_PER_TOKEN};
use tier_router_core::{Config, Decision};

use super::class_names;
use crate::{fmt, table::Table};

const COLUMNS: &[&str] = &[
    "tier",
    "requests",
    "input tok",
    "output tok",
    "tiered $",
    "baseline $",
    "saved $",
    "saved",
];

/// Expected completion tokens of the default tiers.
const DEFAULT_EXPECTED: &[(&str, u64)] = &[("label", 20), ("chat", 300), ("analysis", 1500)];
/// Other tiers with a token floor (reasoning tiers) expect this many.
const REASONING_EXPECTED: u64 = 1500;
/// The fallback model: a general model answering anything.
const FALLBACK_EXPECTED: u64 = 256;

pub struct WhatIf {
    baseline: Option<ModelId>,
    /// Expected completion tokens per class.
    expected: Vec<u64>,
    rows: Vec<Row>,
}

#[derive(Default, Clone)]
struct Row {
    requests: u64,
    input_tokens: u64,
    output_tokens: u64,
    /// Summed over requests whose model has a price.
    tiered_micro: u64,
    baseline_micro: u64,
    /// Requests whose model has no price (left out of both cost columns).
    unpriced: u64,
}

impl WhatIf {
    pub fn new(
        config: &Config,
        expected_output: Option<&str>,
        baseline: Option<&str>,
    ) -> Result<WhatIf, String> {
        let baseline = match baseline {
            Some(name) => Some(config.model_id(name).ok_or_else(|| {
                format!(
                    "--baseline: no model `{name}` in the config; models: {}",
                    model_names(config)
                )
            })?),
            None => config.baseline_model,
        };
        Ok(WhatIf {
            baseline,
            expected: expected_outputs(config, expected_output)?,
            rows: vec![Row::default(); config.tiers.len() + 1],
        })
    }

    pub fn add(&mut self, config: &Config, class: usize, decision: &Decision) {
        let usage = Usage {
            input_tokens: decision.prompt_bytes.div_ceil(BYTES_PER_TOKEN),
            output_tokens: self.expected.get(class).copied().unwrap_or(0),
            ..Usage::default()
        };
        let tiered = price_of(config, Some(decision.model), &usage);
        let baseline = price_of(config, self.baseline, &usage);
        let Some(row) = self.rows.get_mut(class) else {
            return;
        };
        row.requests += 1;
        row.input_tokens += usage.input_tokens;
        row.output_tokens += usage.output_tokens;
        match (tiered, baseline) {
            (Some(t), Some(b)) => {
                row.tiered_micro += t;
                row.baseline_micro += b;
            }
            _ => row.unpriced += 1,
        }
    }

    pub fn write(&self, config: &Config, out: &mut dyn Write) -> io::Result<()> {
        let Some(baseline) = self.baseline else {
            return writeln!(
                out,
                "Priced what-if: no baseline_model in the config; pass --baseline MODEL"
            );
        };
        let names = class_names(config);
        let expected: Vec<String> = names
            .iter()
            .zip(&self.expected)
            .map(|(n, e)| format!("{n}={e}"))
            .collect();
        writeln!(
            out,
            "Priced what-if: everything on `{}` vs. tiered (input = prompt bytes / \
             {BYTES_PER_TOKEN}; output tokens {})",
            config.model(baseline).name,
            expected.join(",")
        )?;
        let mut table = Table::new(COLUMNS, 1);
        let mut total = Row::default();
        for (name, row) in names.iter().zip(&self.rows) {
            table.row(cells(name, row));
            total.add(row);
        }
        table.row(cells("total", &total));
        table.write(out)?;
        if total.unpriced > 0 {
            writeln!(
                out,
                "left out of the cost columns, on a model without a price (or the baseline \
                 has none): {}",
                fmt::plural(total.unpriced, "request")
            )?;
        }
        Ok(())
    }
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.tiered_micro += other.tiered_micro;
        self.baseline_micro += other.baseline_micro;
        self.unpriced += other.unpriced;
    }
}

fn cells(name: &str, row: &Row) -> Vec<String> {
    let saved = row.baseline_micro as i64 - row.tiered_micro as i64;
    vec![
        name.to_string(),
        fmt::count(row.requests),
        fmt::count(row.input_tokens),
        fmt::count(row.output_tokens),
        fmt::usd(row.tiered_micro as i64),
        fmt::usd(row.baseline_micro as i64),
        fmt::usd(saved),
        fmt::percent(saved as f64, row.baseline_micro as f64),
    ]
}

fn price_of(config: &Config, model: Option<ModelId>, usage: &Usage) -> Option<u64> {
    let price: Price = config.model(model?).price?;
    Some(cost::micro_usd(&price, usage))
}

/// Per class: `--expected-output` values, else the defaults described on the option.
fn expected_outputs(config: &Config, spec: Option<&str>) -> Result<Vec<u64>, String> {
    let mut expected: Vec<u64> = config
        .tiers
        .iter()
        .map(|tier| {
            let known = DEFAULT_EXPECTED.iter().find(|(n, _)| *n == tier.name);
            match (known, tier.token_floor) {
                (Some((_, tokens)), _) => *tokens,
                (None, Some(_)) => REASONING_EXPECTED,
                (None, None) => tier.expected_output_tokens,
            }
        })
        .collect();
    expected.push(FALLBACK_EXPECTED);
    let names = class_names(config);
    for item in spec
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
    {
        let (name, tokens) = item.split_once('=').ok_or_else(|| {
            format!("--expected-output: `{item}` is not TIER=TOKENS (e.g. label=20)")
        })?;
        let index = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!(
                    "--expected-output: no tier `{}`; tiers: {}",
                    name.trim(),
                    names.join(", ")
                )
            })?;
        let tokens: u64 = tokens.trim().parse().map_err(|_| {
            format!("--expected-output: `{item}`: the token count must be a whole number")
        })?;
        if let Some(slot) = expected.get_mut(index) {
            *slot = tokens;
        }
    }
    Ok(expected)
}

fn model_names(config: &Config) -> String {
    let names: Vec<&str> = config.models.iter().map(|m| m.name.as_str()).collect();
    names.join(", ")
}
