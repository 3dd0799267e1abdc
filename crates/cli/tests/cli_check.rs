//! `tier-router check`: validation exactly as the filter, the lints, and the exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use cli_util::{repo_file, run, s, TempDir};
use serde_json::{json, Value};

/// Every lint fires once on this config.
fn linty() -> Value {
    json!({
        "fallback_model": "mini",
        "models": [
            {"name": "small", "cluster": "c_small", "price_per_1m": {"input": 0.1, "output": 0.3}},
            {"name": "big", "cluster": "c_big"},
            {"name": "mini", "cluster": "c_mini", "price_per_1m": {"input": 0.15, "output": 0.6}},
            {"name": "spare", "cluster": "c_spare", "price_per_1m": {"input": 1, "output": 2}}
        ],
        "tiers": [
            {"name": "label", "models": ["small"], "cues": {"one word": 3, "only the": 1, "billing": 1}},
            {"name": "support", "models": ["mini"],
             "cues": {"billing": 2, "invoice": 2, "refund": 2, "help with the product": 1}},
            {"name": "analysis", "models": ["big"], "cues": {"return only the answer": 1},
             "token_floor": {"min": 1024}},
            {"name": "archive", "models": ["mini"]}
        ]
    })
}

fn write_config(dir: &TempDir, value: &Value) -> String {
    s(&dir.write("config.json", value.to_string().as_bytes())).to_string()
}

#[test]
fn the_default_config_is_valid_and_lint_free() {
    let default = repo_file("envoy/tier-router.json");
    for args in [vec!["check"], vec!["check", "--strict", s(&default)]] {
        let out = run(&args, b"");
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("ok (3 tiers, 4 models"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("0 warnings"), "{}", out.stdout);
        assert!(!out.stdout.contains("warning["), "{}", out.stdout);
    }
}

#[test]
fn every_lint_names_what_it_found() {
    let dir = TempDir::new("check-lints");
    let path = write_config(&dir, &linty());
    let out = run(&["check", &path], b"");
    assert_eq!(out.code, 0, "warnings alone exit 0: {}", out.stderr);
    let expected = [
        "warning[cue-in-two-tiers]: cue `billing` is in tiers `label` and `support`",
        "warning[cue-overlap]: tier `label` cue `only the` is contained in tier `analysis` cue \
         `return only the answer`",
        "warning[topic-cues]: tier `support` cues look like topics",
        "warning[reasoning-floor]: tier `analysis` is a reasoning tier (its name) with \
         token_floor.min 1024, under 4096",
        "warning[cues-cannot-win]: tier `analysis`",
        "warning[unreachable-tier]: tier `archive` has no cues, no signal, no task alias and no path",
        "warning[unpriced-model]: model `big` (tier analysis) has no price_per_1m",
        "warning[unused-model]: model `spare`",
        "warning[no-baseline]: no baseline_model",
        "warning[model-off]: the built-in model picks among label, chat and analysis, and this \
         config has no tier chat; so the model is off",
    ];
    for line in expected {
        assert!(
            out.stdout.contains(line),
            "missing `{line}` in:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("10 warnings"), "{}", out.stdout);
    // Tiers that are fine are not reported.
    assert!(!out.stdout.contains("tier `label` cues look like topics"));
}

#[test]
fn an_allow_list_that_holds_every_address_is_flagged() {
    let dir = TempDir::new("check-trust");
    let mut config = json!({
        "fallback_model": "mini",
        "baseline_model": "mini",
        "models": [{"name": "mini", "cluster": "c_mini", "price_per_1m": {"input": 0.15, "output": 0.6}}],
        "tiers": [{"name": "label", "models": ["mini"], "cues": {"one word": 3}}],
        "explicit_tasks": {"trusted": {"source_cidrs": ["10.0.0.0/8", "::/0"]}},
        "classifier": {"model": {"enabled": false}}
    });
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(
        out.stdout.contains(
            "warning[trust-everyone]: explicit_tasks.trusted.source_cidrs[1] `::/0` holds every address"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 warning"), "{}", out.stdout);
    config["explicit_tasks"]["trusted"]["source_cidrs"] = json!(["10.0.0.0/8"]);
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(!out.stdout.contains("trust-everyone"), "{}", out.stdout);
}

#[test]
fn strict_makes_warnings_fail() {
    let dir = TempDir::new("check-strict");
    let path = write_config(&dir, &linty());
    let out = run(&["check", "--strict", &path], b"");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("10 warnings (--strict)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_tier_reached_by_a_task_alias_path_or_signal_is_reachable() {
    let dir = TempDir::new("check-reach");
    let mut config = linty();
    config["tasks"] = json!({"old": "archive"});
    let path = write_config(&dir, &config);
    assert!(!run(&["check", &path], b"")
        .stdout
        .contains("unreachable-tier"));

    config["tasks"] = json!({});
    config["classifier"] = json!({"signals": {"multi_turn": {"tier": "archive", "weight": 3}}});
    let path = write_config(&dir, &config);
    assert!(!run(&["check", &path], b"")
        .stdout
        .contains("unreachable-tier"));
}

#[test]
fn a_reasoning_tier_without_a_floor_is_reported() {
    let dir = TempDir::new("check-floor");
    let mut config = linty();
    config["tiers"][2]
        .as_object_mut()
        .unwrap()
        .remove("token_floor");
    config["tiers"][2]["name"] = json!("reasoning");
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(
        out.stdout
            .contains("tier `reasoning` is a reasoning tier (its name) with no token_floor"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_anthropic_model_without_a_cache_write_price_is_reported() {
    let dir = TempDir::new("check-cache-write");
    let mut config = linty();
    config["profiles"] = json!({"both": {"apis": ["chat_completions", "anthropic_messages"]}});
    config["models"][2]["profile"] = json!("both");
    let lint = "warning[cache-writes-at-input]: model `mini` serves anthropic_messages but \
                bills prompt-cache writes at its input price (0.15 USD per 1M)";
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(out.stdout.contains(lint), "{}", out.stdout);
    // Priced as Anthropic bills it, the model is fine; an OpenAI-only model never needs it.
    config["models"][2]["price_per_1m"]["cache_write"] = json!(0.1875);
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(
        !out.stdout.contains("cache-writes-at-input"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_invalid_config_is_an_error_naming_the_field() {
    let dir = TempDir::new("check-invalid");
    let mut config = linty();
    config["tasks"] = json!({"summarize": "summary"});
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("tasks.summarize"), "{}", out.stderr);
    assert!(
        out.stderr.contains("tier `summary` is not defined"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_config_file_is_an_error() {
    let out = run(&["check", "/nonexistent/tier-router.json"], b"");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot read /nonexistent/tier-router.json:"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    for command in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["classify", "--help"],
        vec!["report", "--help"],
    ] {
        let out = run(&command, b"");
        assert_eq!(out.code, 0, "{command:?}");
        assert!(
            out.stdout.contains("Usage: tier-router"),
            "{command:?}: {}",
            out.stdout
        );
    }
    assert!(run(&["check", "--help"], b"").stdout.contains("Exit codes"));
    assert_eq!(run(&["report"], b"").code, 2, "report needs a LOG");
    assert_eq!(run(&["frobnicate"], b"").code, 2);
}

/// The shipped config against the shipped bootstrap: every model's cluster exists.
#[test]
fn envoy_bootstrap_defines_every_model_cluster() {
    let envoy = repo_file("envoy/envoy.yaml");
    let config = repo_file("envoy/tier-router.json");
    let out = run(&["check", "--envoy", s(&envoy), s(&config)], b"");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("ok (3 tiers, 4 models"),
        "{}",
        out.stdout
    );
}

/// A model whose cluster Envoy lacks is an error naming the model, the cluster, the field
/// and the clusters that exist; YAML and JSON bootstraps alike.
#[test]
fn a_model_cluster_missing_from_envoy_is_an_error() {
    let dir = TempDir::new("check-envoy");
    let config = write_config(&dir, &linty());
    let yaml = dir.write(
        "envoy.yaml",
        b"static_resources:\n  listeners: []\n  clusters:\n  - name: c_small\n    type: STATIC\n  - name: c_mini\n",
    );
    let json = dir.write(
        "envoy.json",
        br#"{"static_resources": {"clusters": [{"name": "c_small"}, {"name": "c_mini"}]}}"#,
    );
    for bootstrap in [yaml, json] {
        let out = run(&["check", "--envoy", s(&bootstrap), &config], b"");
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("2 model clusters missing"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("models[1].cluster: model `big` routes to cluster `c_big`, which"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("(static_resources.clusters: c_small, c_mini)"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("model `spare` routes to cluster `c_spare`"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("model `small`"), "{}", out.stderr);
    }
}

/// With CDS the cluster may arrive at run time: warnings (exit 1 only with --strict).
#[test]
fn with_cds_a_missing_cluster_is_a_warning() {
    let dir = TempDir::new("check-envoy-cds");
    let config = write_config(
        &dir,
        &json!({
            "fallback_model": "m",
            "models": [{"name": "m", "cluster": "from_cds", "price_per_1m": {"input": 1, "output": 1}}],
            "baseline_model": "m",
            "tiers": [{"name": "t", "models": ["m"], "cues": {"alpha": 3}}]
        }),
    );
    let bootstrap = dir.write(
        "envoy.yaml",
        b"dynamic_resources:\n  cds_config: {ads: {}}\nstatic_resources:\n  clusters: []\n",
    );
    let out = run(&["check", "--envoy", s(&bootstrap), &config], b"");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "warning[missing-cluster]: models[0].cluster: model `m` routes to cluster `from_cds`"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("may arrive at run time"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_bootstrap_that_is_not_one_is_named() {
    let dir = TempDir::new("check-envoy-bad");
    let config = repo_file("envoy/tier-router.json");
    let not_yaml = dir.write("bad.yaml", b"static_resources: [unclosed\n");
    let out = run(&["check", "--envoy", s(&not_yaml), s(&config)], b"");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not YAML or JSON"), "{}", out.stderr);
    let no_clusters = dir.write("none.yaml", b"admin: {}\n");
    let out = run(&["check", "--envoy", s(&no_clusters), s(&config)], b"");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no static_resources.clusters"),
        "{}",
        out.stderr
    );
}

/// A canary without a configured hash key splits differently on each replica: a warning
/// that names the fix; with `hash_key` set, none.
#[test]
fn a_canary_without_a_hash_key_is_a_warning() {
    let dir = TempDir::new("check-canary-key");
    let mut config = serde_json::from_slice::<Value>(
        &std::fs::read(repo_file("envoy/tier-router.json")).unwrap(),
    )
    .unwrap();
    config["rollout"] = json!({"mode": "route", "canary_percent": 20});
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "warning[canary-without-key]: rollout.canary_percent is 20 but no hash_key is set"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 warning"), "{}", out.stdout);
    config["hash_key"] = json!("00112233445566778899aabbccddeeff");
    let out = run(&["check", &write_config(&dir, &config)], b"");
    assert!(!out.stdout.contains("canary-without-key"), "{}", out.stdout);
    assert!(out.stdout.contains("0 warnings"), "{}", out.stdout);
}

/// A `passthrough.cluster` Envoy lacks is reported like a model's.
#[test]
fn a_passthrough_cluster_missing_from_envoy_is_an_error() {
    let dir = TempDir::new("check-envoy-passthrough");
    let mut value = linty();
    value["passthrough"] = json!({"cluster": "catch_all"});
    let config = write_config(&dir, &value);
    let clusters: Vec<_> = ["c_small", "c_big", "c_mini", "c_spare"]
        .iter()
        .map(|c| json!({"name": c}))
        .collect();
    let bootstrap = json!({"static_resources": {"clusters": clusters}});
    let path = dir.write("envoy.json", bootstrap.to_string().as_bytes());
    let out = run(&["check", "--envoy", s(&path), &config], b"");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "passthrough.cluster: requests the router does not rewrite go to cluster `catch_all`"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("models["), "{}", out.stderr);
}
