//! `tier-router label`, driven on a pseudo-terminal the way a person uses it: keys in, the
//! screen (progress, prompt, suggestion) and the labels file checked after each key.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_util;
mod pty_util;

use cli_util::{s, TempDir, BIN};
use pty_util::Pty;
use serde_json::{json, Value};

/// A prompt of the test sample: its request body, the text `label` shows and writes, and
/// the built-in classifier's suggestion.
struct Prompt {
    body: Value,
    /// A phrase that tells this prompt apart on screen.
    marker: &'static str,
    /// What the labels file's `prompt` holds: system prompt, blank line, user message.
    text: &'static str,
    suggests: Option<&'static str>,
}

fn chat_body(content: &str) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": content}]})
}

/// Four prompts the built-in classifier has a suggestion for, in four body shapes.
fn suggested() -> Vec<Prompt> {
    vec![
        Prompt {
            body: chat_body("Help me write an email to my landlord in a friendly tone."),
            marker: "my landlord",
            text: "Help me write an email to my landlord in a friendly tone.",
            suggests: Some("chat"),
        },
        Prompt {
            body: json!({"model": "m", "input": "Prove step by step that sqrt 2 is irrational."}),
            marker: "sqrt 2",
            text: "Prove step by step that sqrt 2 is irrational.",
            suggests: Some("analysis"),
        },
        Prompt {
            body: json!({
                "model": "claude", "max_tokens": 5, "system": "You are a terse classifier.",
                "messages": [{"role": "user", "content": "The sentiment in one word: great product."}]
            }),
            marker: "great product",
            text: "You are a terse classifier.\n\nThe sentiment in one word: great product.",
            suggests: Some("label"),
        },
        Prompt {
            body: json!({"prompt": "Tell me about the history of the harbour town."}),
            marker: "harbour town",
            text: "Tell me about the history of the harbour town.",
            suggests: Some("chat"),
        },
    ]
}

fn write_sample(dir: &TempDir, prompts: &[Prompt]) -> String {
    let lines: Vec<String> = prompts.iter().map(|p| p.body.to_string()).collect();
    s(&dir.write("sample.jsonl", lines.join("\n").as_bytes())).to_string()
}

fn start(sample: &str, out: &str, extra: &[&str]) -> Pty {
    let mut args = vec!["label", "--sample", sample, "--out", out];
    args.extend_from_slice(extra);
    Pty::spawn(BIN, &args, 120, 30)
}

/// The sample prompt on screen now (between the two rules; the status line below may quote
/// the previous one).
fn shown<'a>(pty: &Pty, prompts: &'a [Prompt]) -> &'a Prompt {
    // The keys line follows the prompt: the frame is complete up to there.
    let screen = pty.wait_for(&["[q] quit"]);
    let prompt_area: String = screen
        .split('─')
        .filter(|part| !part.trim().is_empty())
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut on_screen = prompts.iter().filter(|p| prompt_area.contains(p.marker));
    let found = on_screen
        .next()
        .unwrap_or_else(|| panic!("no sample prompt on screen:\n{screen}"));
    assert!(
        on_screen.next().is_none(),
        "two prompts on screen:\n{screen}"
    );
    found
}

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_raw_mode_undone(pty: &Pty) {
    let now = pty.termios();
    assert_eq!(
        now.c_lflag, pty.initial.c_lflag,
        "echo/canonical mode not restored"
    );
    assert_eq!(now.c_iflag, pty.initial.c_iflag);
    assert!(
        pty.raw().contains("\x1b[?25h\x1b[?1049l"),
        "alternate screen not left"
    );
}

#[test]
fn keys_label_accept_skip_undo_and_quit() {
    let dir = TempDir::new("label-keys");
    let prompts = suggested();
    let sample = write_sample(&dir, &prompts);
    let out = s(&dir.path("labels.jsonl")).to_string();
    let mut pty = start(&sample, &out, &[]);

    // The suggestion and the keys are on screen with the first prompt.
    let screen = pty.wait_for(&[
        "prompt 1 of 4",
        "0 labelled",
        "[1 l] label",
        "[3 a] analysis",
    ]);
    let first = shown(&pty, &prompts);
    let suggests = first.suggests.unwrap();
    assert!(
        screen.contains(&format!("suggestion: {suggests} (score ")),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("[Enter] accept {suggests}")),
        "{screen}"
    );

    // A digit labels.
    pty.send("2");
    pty.wait_for(&["prompt 2 of 4", "1 labelled"]);
    let written = lines(&out);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["tier"], "chat");
    assert_eq!(written[0]["prompt"], first.text);
    assert_eq!(written[0]["source"], "label:sample.jsonl");
    let id = written[0]["id"].as_str().unwrap();
    assert!(
        id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );

    // A first letter labels.
    let second = shown(&pty, &prompts);
    assert_ne!(second.marker, first.marker);
    pty.send("a");
    pty.wait_for(&["prompt 3 of 4", "2 labelled"]);
    assert_eq!(lines(&out)[1]["tier"], "analysis");
    assert_eq!(lines(&out)[1]["prompt"], second.text);

    // Enter accepts the suggestion.
    let third = shown(&pty, &prompts);
    pty.send("\r");
    pty.wait_for(&["prompt 4 of 4", "3 labelled"]);
    assert_eq!(lines(&out)[2]["tier"], third.suggests.unwrap());
    assert_eq!(lines(&out)[2]["prompt"], third.text);

    // s skips: the labels file keeps training lines only.
    let fourth = shown(&pty, &prompts);
    pty.send("s");
    pty.wait_for(&["Nothing left to label in this sample (3 labelled, 1 skipped)"]);
    let skipped_path = format!("{out}.skipped");
    assert_eq!(lines(&skipped_path).len(), 1);
    assert_eq!(lines(&skipped_path)[0]["prompt"], fourth.text);
    assert_eq!(lines(&out).len(), 3);

    // u undoes the skip, then the label before it, and shows each prompt again.
    pty.send("u");
    pty.wait_for(&["undid the skip of", "prompt 4 of 4", "0 skipped"]);
    assert_eq!(shown(&pty, &prompts).marker, fourth.marker);
    assert!(lines(&skipped_path).is_empty());
    pty.send("u");
    let undone = format!("undid the label {} of", third.suggests.unwrap());
    pty.wait_for(&[&undone, "prompt 3 of 4", "2 labelled"]);
    assert_eq!(shown(&pty, &prompts).marker, third.marker);
    assert_eq!(lines(&out).len(), 2, "undo removes the line from the file");

    // A key that means nothing says so and writes nothing.
    pty.send("z");
    pty.wait_for(&["`z` is not a key here"]);

    pty.send("q");
    let (code, all) = pty.wait_exit();
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("this run 3 labelled, 1 skipped, 2 undone; the sample: 2 of 4 done"),
        "{all}"
    );
    assert_raw_mode_undone(&pty);
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn a_rerun_resumes_and_undoes_across_runs() {
    let dir = TempDir::new("label-resume");
    let prompts = suggested();
    let sample = write_sample(&dir, &prompts);
    let out = s(&dir.path("labels.jsonl")).to_string();

    // Run 1: two labels, then quit.
    let mut pty = start(&sample, &out, &[]);
    pty.wait_for(&["prompt 1 of 4"]);
    let first = shown(&pty, &prompts).marker;
    pty.send("1");
    pty.wait_for(&["prompt 2 of 4"]);
    let second = shown(&pty, &prompts);
    pty.send("2");
    pty.wait_for(&["prompt 3 of 4"]);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
    let run1 = lines(&out);
    assert_eq!(run1.len(), 2);

    // Run 2: the labelled prompts are not shown again; undo reaches run 1's last label.
    let mut pty = start(&sample, &out, &[]);
    pty.wait_for(&["prompt 3 of 4", "2 labelled", "resumed: 2 already done"]);
    let third = shown(&pty, &prompts);
    assert!(third.marker != first && third.marker != second.marker);
    pty.send("u");
    pty.wait_for(&["undid the label chat of", "prompt 2 of 4"]);
    assert_eq!(shown(&pty, &prompts).marker, second.marker);
    assert_eq!(lines(&out), run1[..1].to_vec());
    pty.send("3");
    pty.wait_for(&["prompt 3 of 4", "2 labelled"]);
    assert_eq!(shown(&pty, &prompts).marker, third.marker);
    pty.send("s");
    pty.wait_for(&["prompt 4 of 4", "1 skipped"]);
    // Ctrl-C quits like q, and restores the terminal.
    pty.send("\x03");
    let (code, all) = pty.wait_exit();
    assert_eq!(code, 0, "{all}");
    assert_raw_mode_undone(&pty);
    let run2 = lines(&out);
    assert_eq!(run2.len(), 2);
    assert_eq!(run2[1]["tier"], "analysis");
    assert_eq!(run2[1]["prompt"], second.text);
    assert_eq!(run2[0], run1[0]);

    // Run 3: the skip from run 2 is remembered, and undo brings its prompt back.
    let mut pty = start(&sample, &out, &[]);
    pty.wait_for(&["prompt 4 of 4", "2 labelled", "1 skipped"]);
    assert!(!pty.screen().contains(third.marker));
    pty.send("u");
    pty.wait_for(&["undid the skip of", "prompt 3 of 4"]);
    assert_eq!(shown(&pty, &prompts).marker, third.marker);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
    assert!(lines(&format!("{out}.skipped")).is_empty());
    assert_eq!(lines(&out), run2);
}

/// The ids of the prompts a run with `extra` flags shows, labelling each with `1`; the
/// first screen must show `opening` (the status line).
fn label_all(sample: &str, out: &str, extra: &[&str], count: usize, opening: &str) -> Vec<String> {
    let mut pty = start(sample, out, extra);
    pty.wait_for(&[&format!("prompt 1 of {count} "), opening]);
    for n in 1..=count {
        pty.wait_for(&[&format!("prompt {n} of {count}")]);
        pty.send("1");
    }
    pty.wait_for(&["Nothing left to label"]);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
    lines(out)
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn limit_takes_a_seeded_sample_that_a_larger_limit_extends() {
    let dir = TempDir::new("label-sample");
    let prompts = suggested();
    let sample = write_sample(&dir, &prompts);
    let a = s(&dir.path("a.jsonl")).to_string();
    let b = s(&dir.path("b.jsonl")).to_string();

    let flags = ["--limit", "2", "--seed", "5"];
    let ids_a = label_all(&sample, &a, &flags, 2, "a sample of 2 of 4 prompts");
    let ids_b = label_all(&sample, &b, &flags, 2, "a sample of 2 of 4 prompts");
    assert_eq!(
        ids_a, ids_b,
        "the same seed shows the same prompts in the same order"
    );

    // A larger limit with the same seed and --out resumes: one new prompt, the same two done.
    let mut pty = start(&sample, &a, &["--limit", "3", "--seed", "5"]);
    pty.wait_for(&["prompt 3 of 3", "2 labelled"]);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
}

#[test]
fn enter_without_a_suggestion_labels_nothing() {
    let dir = TempDir::new("label-none");
    let sample = dir.write(
        "sample.jsonl",
        // One word: no cue matches, and the learned model abstains on so little.
        br#"{"prompt": "Paris"}
not json
"#,
    );
    let out = s(&dir.path("labels.jsonl")).to_string();
    let mut pty = start(s(&sample), &out, &[]);
    let screen = pty.wait_for(&["prompt 1 of 1", "ignored 1 line not a JSON object"]);
    assert!(
        screen.contains("suggestion: none: no cue or signal matched"),
        "{screen}"
    );
    assert!(!screen.contains("[Enter]"), "{screen}");
    pty.send("\r");
    pty.wait_for(&["no suggestion to accept"]);
    assert!(lines(&out).is_empty());
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
}

#[test]
fn a_long_prompt_is_cut_to_the_screen_and_cannot_drive_the_terminal() {
    let dir = TempDir::new("label-long");
    let mut text: Vec<String> = (1..=200).map(|i| format!("line {i} of the log")).collect();
    // A prompt carrying a clear-screen sequence and a bidi override.
    text[0] = "first line \u{1b}[2J\u{202e} of the log".into();
    text[199] = "Which service failed first?".into();
    let body = chat_body(&text.join("\n"));
    let sample = dir.write("sample.jsonl", body.to_string().as_bytes());
    let out = s(&dir.path("labels.jsonl")).to_string();
    let mut pty = Pty::spawn(
        BIN,
        &["label", "--sample", s(&sample), "--out", &out],
        80,
        20,
    );
    let screen = pty.wait_for(&[
        "prompt 1 of 1",
        "more lines …",
        "Which service failed first?",
    ]);
    assert!(screen.contains("first line ·[2J· of the log"), "{screen}");
    assert!(screen.lines().count() <= 20, "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    pty.send("3");
    pty.wait_for(&["Nothing left to label"]);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
    // The file keeps the text the classifier read, escape and all.
    assert!(lines(&out)[0]["prompt"]
        .as_str()
        .unwrap()
        .starts_with("first line \u{1b}[2J"));
}

#[test]
fn without_a_terminal_it_refuses_and_writes_nothing() {
    let dir = TempDir::new("label-notty");
    let sample = dir.write("sample.jsonl", br#"{"prompt": "hello"}"#);
    let out = dir.path("labels.jsonl");
    let run = cli_util::run(&["label", "--sample", s(&sample), "--out", s(&out)], b"1\n");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("label is interactive"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());

    let same = cli_util::run(&["label", "--sample", s(&sample), "--out", s(&sample)], b"");
    assert_eq!(same.code, 1);
    assert!(
        same.stderr.contains("is the sample file"),
        "{}",
        same.stderr
    );
}

#[test]
fn the_learned_model_suggests_a_tier_no_cue_names() {
    let dir = TempDir::new("label-model");
    let sample = dir.write(
        "sample.jsonl",
        br#"{"prompt": "I just moved to a new city and feel lonely. Any advice on meeting people?"}
"#,
    );
    let out = s(&dir.path("labels.jsonl")).to_string();
    let mut pty = start(s(&sample), &out, &[]);
    let screen = pty.wait_for(&["prompt 1 of 1", "[q] quit"]);
    assert!(screen.contains("suggestion: chat (model p=0."), "{screen}");
    pty.send("\r");
    pty.wait_for(&["1 labelled"]);
    pty.send("q");
    assert_eq!(pty.wait_exit().0, 0);
    assert_eq!(lines(&out)[0]["tier"], "chat");
}
