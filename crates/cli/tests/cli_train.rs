//! `tier-router train`: deterministic model files, held-out and cross-validated scores, label
//! errors; `classify --model` and `check --model` over the model it wrote. The prompts are
//! made up here from the tier definitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use cli_util::{repo_file, run, s, TempDir};
use serde_json::json;

/// 3 tiers x 2 sources x 12 prompts, each tier worded its own way.
fn dataset() -> String {
    let tiers = [
        (
            "label",
            [
                "Which category fits: {}? Answer with one word.",
                "Tag this ticket: {}",
            ],
        ),
        (
            "chat",
            [
                "Write a friendly note to my neighbour about {}.",
                "Tell me a story about {}",
            ],
        ),
        (
            "analysis",
            [
                "Write a Python function that sorts {} and explain its complexity",
                "Solve for x given {} and show each step",
            ],
        ),
    ];
    let topics = [
        "the weather",
        "a lost cat",
        "invoices",
        "the garden",
        "a late train",
        "my router",
        "the budget",
        "a birthday",
        "the roof",
        "an old car",
        "the harbour",
        "a new job",
    ];
    let mut lines = Vec::new();
    for (tier, templates) in tiers {
        for (k, template) in templates.iter().enumerate() {
            for topic in topics {
                let prompt = template.replace("{}", topic);
                let source = format!("made-up/{tier}-{k}:templates");
                lines.push(json!({"tier": tier, "prompt": prompt, "source": source}).to_string());
            }
        }
    }
    lines.join("\n")
}

fn train(dir: &TempDir, data: &str, out: &str, extra: &[&str]) -> cli_util::Run {
    let data = dir.write("data.jsonl", data.as_bytes());
    let out = dir.path(out);
    let mut args = vec![
        "train",
        "--data",
        s(&data),
        "--out",
        s(&out),
        "--epochs",
        "4",
    ];
    args.extend_from_slice(extra);
    run(&args, b"")
}

#[test]
fn the_same_data_and_flags_give_the_same_bytes_and_a_scored_split() {
    let dir = TempDir::new("train-determinism");
    let first = train(&dir, &dataset(), "a.trm", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = train(&dir, &dataset(), "b.trm", &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let a = std::fs::read(dir.path("a.trm")).unwrap();
    assert_eq!(a, std::fs::read(dir.path("b.trm")).unwrap());
    assert!(a.starts_with(b"TRMODEL\0"));
    let scores = |stdout: &str| stdout[..stdout.find("\nwrote ").unwrap()].to_string();
    assert_eq!(scores(&first.stdout), scores(&second.stdout));
    let text = &first.stdout;
    assert!(
        text.starts_with("72 labelled prompts: label 24, chat 24, analysis 24"),
        "{text}"
    );
    assert!(text.contains("Held-out split: 15 prompts"), "{text}");
    assert!(text.contains("tier      precision  recall"), "{text}");
    assert!(
        text.contains("Confusion matrix (rows: label, columns: decision)"),
        "{text}"
    );
    assert!(
        text.contains("Model alone (top tier, no threshold): macro recall 1.000"),
        "{text}"
    );
    assert!(text.contains("min_confidence  macro recall"), "{text}");
    assert!(
        text.contains(&format!("({} bytes; tiers label, chat, analysis", a.len())),
        "{text}"
    );
    // No terminal: no progress on stderr.
    assert!(first.stderr.is_empty(), "{}", first.stderr);
    // Another seed, other bytes.
    train(&dir, &dataset(), "c.trm", &["--seed", "9"]);
    assert_ne!(a, std::fs::read(dir.path("c.trm")).unwrap());
}

#[test]
fn cv_by_source_leaves_each_group_out() {
    let dir = TempDir::new("train-cv");
    let out = train(
        &dir,
        &dataset(),
        "m.trm",
        &["--holdout", "0", "--cv-by", "source"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    assert!(!text.contains("Held-out split"), "{text}");
    assert!(
        text.contains("Leave-one-group-out cross-validation: 6 groups"),
        "{text}"
    );
    assert!(
        text.contains("made-up/chat-1 (12 prompts): macro recall"),
        "{text}"
    );
    assert!(
        text.contains("All groups, each scored by the model trained without it:"),
        "{text}"
    );
}

#[test]
fn request_bodies_with_a_label_field_train_too() {
    let dir = TempDir::new("train-bodies");
    let lines: Vec<String> = dataset()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            json!({"model": "m", "messages": [{"role": "user", "content": v["prompt"]}],
                   "expected": v["tier"]})
            .to_string()
        })
        .collect();
    let out = train(
        &dir,
        &lines.join("\n"),
        "m.trm",
        &["--label-field", "expected"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("72 labelled prompts"), "{}", out.stdout);
}

#[test]
fn a_bad_line_names_its_file_and_line() {
    let dir = TempDir::new("train-bad");
    let data = format!(
        "{}\n{}",
        dataset(),
        json!({"tier": "poetry", "prompt": "x"})
    );
    let out = train(&dir, &data, "m.trm", &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("data.jsonl:73: the label \"poetry\" names no tier"),
        "{}",
        out.stderr
    );
    let out = train(&dir, "{\"prompt\": \"no label\"}", "m.trm", &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("data.jsonl:1: no string field `tier`"),
        "{}",
        out.stderr
    );
    assert!(!dir.path("m.trm").exists());
}

#[test]
fn classify_and_check_use_a_trained_model() {
    let dir = TempDir::new("train-use");
    assert_eq!(train(&dir, &dataset(), "m.trm", &[]).code, 0);
    let model = dir.path("m.trm");
    let prompts = [
        ("Tag this ticket: a broken window", "label"),
        ("Tell me a story about a dragon", "chat"),
        (
            "Write a Python function that sorts names and explain its complexity",
            "analysis",
        ),
    ];
    let input: Vec<String> = prompts
        .iter()
        .map(|(p, t)| {
            json!({"model": "m", "messages": [{"role": "user", "content": p}], "tier": t})
                .to_string()
        })
        .collect();
    let out = run(
        &[
            "classify",
            "--model",
            s(&model),
            "--labels",
            "tier",
            "--summary",
        ],
        input.join("\n").as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("accuracy 100.0% (3 of 3 labelled lines)"),
        "{}",
        out.stdout
    );
    let out = run(&["classify", "--model", s(&model)], input[1].as_bytes());
    let line: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(line["source"], "model", "{line}");
    assert!(
        line["matched_cues"]
            .as_str()
            .unwrap()
            .starts_with("model:chat p="),
        "{line}"
    );

    let out = run(&["check", "--model", s(&model)], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("configured model, "), "{}", out.stdout);

    // A model over other tiers does not fit the shipped config.
    let shipped = std::fs::read_to_string(repo_file("envoy/tier-router.json")).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&shipped.replace("\"chat\"", "\"poetry\"")).unwrap();
    config["classifier"]["model"] = json!({"enabled": false});
    let config_path = dir.write("poetry.json", config.to_string().as_bytes());
    let poetry = dataset().replace("\"chat\"", "\"poetry\"");
    let out = train(&dir, &poetry, "poetry.trm", &["--config", s(&config_path)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(&["check", "--model", s(&dir.path("poetry.trm"))], b"");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("the model's tier \"poetry\" is not one of the config's tiers"),
        "{}",
        out.stderr
    );
    std::fs::write(dir.path("broken.trm"), b"TRMODEL\0").unwrap();
    let out = run(&["classify", "--model", s(&dir.path("broken.trm"))], b"");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not a usable model"), "{}", out.stderr);
}
