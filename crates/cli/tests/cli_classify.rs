//! `tier-router classify`: per-line decisions, the task-mix summary, `--labels` precision,
//! recall and confusion matrix, and the priced what-if.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use cli_util::{cues_only_config, run, s, TempDir};
use serde_json::{json, Value};

fn body(text: &str, label: Option<&str>) -> String {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": text}]});
    if let Some(label) = label {
        body["expected"] = json!(label);
    }
    body.to_string()
}

/// Two label prompts, one chat, one analysis, one analysis prompt the classifier misses,
/// one labelled by a task alias, one unlabelled, one with an unknown label.
fn sample() -> String {
    [
        body(
            "Classify the sentiment in one word: great product.",
            Some("label"),
        ),
        body("Extract the invoice number: INV-2231", Some("label")),
        body(
            "Help me write an email to my landlord, in a friendly tone.",
            Some("chat"),
        ),
        body(
            "Prove step by step that sqrt 2 is irrational.",
            Some("analysis"),
        ),
        body("What is the capital of France?", Some("analysis")),
        body("yes or no: is 7 prime?", Some("classify")),
        body("hello there", None),
        body("hi", Some("banana")),
    ]
    .join("\n")
}

#[test]
fn decisions_per_line_are_unchanged_and_the_summary_goes_to_stderr() {
    let out = run(&["classify"], sample().as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["tier"], "label");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[3]["tier"], "analysis");
    assert_eq!(lines[3]["model"], "reasoning-large");
    assert_eq!(lines[3]["source"], "classifier");
    assert!(lines[3]["cues"]
        .as_array()
        .unwrap()
        .contains(&json!("step by step")));
    assert!(
        out.stderr.contains("Task mix (8 requests)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Priced what-if"), "{}", out.stderr);
}

#[test]
fn summary_alone_goes_to_stdout() {
    let out = run(&["classify", "--summary"], sample().as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(
        out.stdout.starts_with("Task mix (8 requests)"),
        "{}",
        out.stdout
    );
    let label = out
        .stdout
        .lines()
        .find(|l| l.starts_with("label "))
        .unwrap();
    let cells: Vec<&str> = label.split_whitespace().collect();
    assert_eq!(&cells[..3], ["label", "3", "37.5%"], "{label}");
}

#[test]
fn labels_give_precision_recall_and_the_confusion_matrix() {
    let dir = TempDir::new("classify-labels");
    let config = cues_only_config(&dir);
    let out = run(
        &[
            "classify",
            "--summary",
            "--labels",
            "expected",
            "--config",
            s(&config),
        ],
        sample().as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    assert!(
        text.contains("accuracy 83.3% (5 of 6 labelled lines)"),
        "{text}"
    );
    // The analysis prompt without cues went to the fallback: recall 0.5, precision 1.
    let row = |name: &str, after: &str| -> Vec<String> {
        let section = &text[text.find(after).unwrap()..];
        let line = section.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(
        row("analysis", "precision"),
        ["analysis", "1.000", "0.500", "0.667", "2", "1"]
    );
    assert_eq!(
        row("label", "precision"),
        ["label", "1.000", "1.000", "1.000", "3", "3"]
    );
    assert_eq!(
        row("analysis", "Confusion matrix"),
        ["analysis", "0", "0", "1", "1"]
    );
    assert!(
        text.contains("not scored, no `expected` field: 1 line"),
        "{text}"
    );
    assert!(text.contains("line 8: `banana`"), "{text}");
}

#[test]
fn the_what_if_prices_prompt_bytes_and_expected_output() {
    // 40 bytes of prompt -> 10 input tokens; label: 20 output tokens.
    let prompt = "Classify this in one word: abcdefghijklm";
    assert_eq!(prompt.len(), 40);
    let out = run(
        &["classify", "--summary", "--expected-output", "label=20"],
        body(prompt, None).as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // small-instruct: 10 × 0.10 + 20 × 0.30 = 7 µ$; frontier-chat: 10 × 3 + 20 × 15 = 330 µ$.
    let total = out.stdout.lines().find(|l| l.starts_with("total")).unwrap();
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(
        cells,
        ["total", "1", "10", "20", "0.000007", "0.000330", "0.000323", "97.9%"],
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("everything on `frontier-chat`"));
}

#[test]
fn another_baseline_and_output_lengths_can_be_given() {
    let input = body("Prove it step by step.", None);
    let out = run(
        &[
            "classify",
            "--summary",
            "--baseline",
            "reasoning-large",
            "--expected-output",
            "analysis=100,fallback=5",
        ],
        input.as_bytes(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("everything on `reasoning-large`"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("analysis=100"), "{}", out.stdout);
    assert!(out.stdout.contains("fallback=5"), "{}", out.stdout);
}

#[test]
fn bad_options_are_errors() {
    let cases = [
        (
            vec!["classify", "--expected-output", "summary=20"],
            "no tier `summary`",
        ),
        (
            vec!["classify", "--expected-output", "label:20"],
            "`label:20` is not TIER=TOKENS",
        ),
        (
            vec!["classify", "--expected-output", "label=lots"],
            "must be a whole number",
        ),
        (vec!["classify", "--baseline", "gpt-9"], "no model `gpt-9`"),
        (
            vec!["classify", "--config", "/nonexistent.json"],
            "cannot read /nonexistent.json",
        ),
    ];
    for (args, message) in cases {
        let out = run(&args, b"");
        assert_eq!(out.code, 1, "{args:?}");
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn each_line_says_what_the_body_edits_would_be_and_when_the_model_does_not_serve_the_api() {
    let analysis = json!({"model": "m", "max_tokens": 10, "temperature": 0.2,
        "messages": [{"role": "user", "content": "Prove step by step that sqrt 2 is irrational."}]});
    let out = run(&["classify"], analysis.to_string().as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        line["edits"],
        "model,max_tokens->max_completion_tokens,drop:temperature,floor"
    );
    assert!(line.get("shape_fallback").is_none());
    let out = run(
        &["classify", "--path", "/v1/messages"],
        analysis.to_string().as_bytes(),
    );
    let line: Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (&line["tier"], &line["model"], &line["shape_fallback"]),
        (
            &json!("analysis"),
            &json!("general-mini"),
            &json!("fallback_model")
        )
    );
    assert_eq!(line["edits"], "model,floor");
}
