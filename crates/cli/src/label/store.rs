//! Where `label`'s work is kept, so a kill loses nothing and a rerun resumes: labels in the
//! `--out` file, one `train` line each (`{"tier","prompt","source","id","seq"}`), and skipped
//! prompts beside it in `<out>.skipped`, so the labels file holds training data only.
//!
//! Every key appends one line to one of the two files and syncs it. `seq` numbers the lines
//! of both files in the order written, so undo (on this run or after a resume) removes
//! whichever of the two last lines is newer: the file is truncated before that line, no
//! tombstone is left for `train` to understand.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

/// What was done to a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Labelled(String),
    Skipped,
}

/// What one undo removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub id: String,
    pub done: Done,
}

#[derive(Serialize)]
struct LabelLine<'a> {
    tier: &'a str,
    prompt: &'a str,
    source: &'a str,
    id: &'a str,
    seq: u64,
}

#[derive(Serialize)]
struct SkipLine<'a> {
    skipped: bool,
    prompt: &'a str,
    source: &'a str,
    id: &'a str,
    seq: u64,
}

pub struct Store {
    labels: Log,
    skips: Log,
    done: HashMap<String, Done>,
    next_seq: u64,
    /// `label:<sample file name>`.
    source: String,
}

impl Store {
    /// Opens (or creates) `out` and reads `out` and `<out>.skipped` back.
    pub fn open(out: &Path, source: String) -> Result<Store, String> {
        let mut skipped = out.as_os_str().to_owned();
        skipped.push(".skipped");
        let mut store = Store {
            labels: Log::new(out.to_path_buf()),
            skips: Log::new(PathBuf::from(skipped)),
            done: HashMap::new(),
            next_seq: 1,
            source,
        };
        for line in store.skips.read()? {
            store.remember(line, Done::Skipped);
        }
        for line in store.labels.read()? {
            let tier = line.tier.clone().unwrap_or_default();
            store.remember(line, Done::Labelled(tier));
        }
        // Created now, so an unwritable --out fails before the first key.
        store.labels.file()?;
        Ok(store)
    }

    fn remember(&mut self, line: Line, done: Done) {
        if let Some(seq) = line.seq {
            self.next_seq = self.next_seq.max(seq + 1);
        }
        if let Some(id) = line.id {
            self.done.insert(id, done);
        }
    }

    pub fn done(&self, id: &str) -> Option<&Done> {
        self.done.get(id)
    }

    pub fn skipped_path(&self) -> &Path {
        &self.skips.path
    }

    pub fn label(&mut self, id: &str, prompt: &str, tier: &str) -> Result<(), String> {
        let line = LabelLine {
            tier,
            prompt,
            source: &self.source,
            id,
            seq: self.next_seq,
        };
        self.labels.append(&line)?;
        self.wrote(id, Done::Labelled(tier.to_string()));
        Ok(())
    }

    pub fn skip(&mut self, id: &str, prompt: &str) -> Result<(), String> {
        let line = SkipLine {
            skipped: true,
            prompt,
            source: &self.source,
            id,
            seq: self.next_seq,
        };
        self.skips.append(&line)?;
        self.wrote(id, Done::Skipped);
        Ok(())
    }

    fn wrote(&mut self, id: &str, done: Done) {
        self.next_seq += 1;
        self.done.insert(id.to_string(), done);
    }

    /// Removes the newest line `label` wrote to either file. `None` when neither file ends
    /// with one (nothing written yet, or a last line from elsewhere, which is left alone).
    pub fn undo(&mut self) -> Result<Option<Undone>, String> {
        let newest = [(self.labels.last()?, true), (self.skips.last()?, false)]
            .into_iter()
            .filter_map(|(last, is_label)| {
                let (at, line) = last?;
                Some((line.seq?, at, line.id?, line.tier, is_label))
            })
            .max_by_key(|(seq, ..)| *seq);
        let Some((_, at, id, tier, is_label)) = newest else {
            return Ok(None);
        };
        let done = if is_label {
            self.labels.truncate(at)?;
            Done::Labelled(tier.unwrap_or_default())
        } else {
            self.skips.truncate(at)?;
            Done::Skipped
        };
        self.done.remove(&id);
        Ok(Some(Undone { id, done }))
    }
}

/// The fields `label` reads back from a line of either file.
#[derive(Debug, Clone)]
struct Line {
    id: Option<String>,
    seq: Option<u64>,
    tier: Option<String>,
}

impl Line {
    fn parse(text: &str, path: &Path, number: usize) -> Result<Line, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "{} line {number} is not JSON ({e}); fix or remove that line",
                path.display()
            )
        })?;
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(Line {
            id: field("id"),
            seq: value.get("seq").and_then(Value::as_u64),
            tier: field("tier"),
        })
    }
}

/// One append-only JSONL file, opened on first write.
struct Log {
    path: PathBuf,
    file: Option<File>,
    /// The file ends inside a line (edited by hand): the next line starts with a newline.
    open_line: bool,
}

impl Log {
    fn new(path: PathBuf) -> Log {
        Log {
            path,
            file: None,
            open_line: false,
        }
    }

    fn contents(&self) -> Result<String, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|e| format!("{} is not UTF-8: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    fn read(&mut self) -> Result<Vec<Line>, String> {
        let text = self.contents()?;
        self.open_line = !text.is_empty() && !text.ends_with('\n');
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                lines.push(Line::parse(line, &self.path, i + 1)?);
            }
        }
        Ok(lines)
    }

    /// The last non-blank line and the byte offset it starts at.
    fn last(&self) -> Result<Option<(u64, Line)>, String> {
        let text = self.contents()?;
        let kept = text.trim_end();
        if kept.is_empty() {
            return Ok(None);
        }
        let start = kept.rfind('\n').map_or(0, |i| i + 1);
        let number = kept.matches('\n').count() + 1;
        let line = Line::parse(&kept[start..], &self.path, number)?;
        Ok(Some((start as u64, line)))
    }

    fn file(&mut self) -> Result<&mut File, String> {
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| format!("cannot open {}", self.path.display()))
    }

    /// Writes `record` as one line, in one write, and syncs it to disk.
    fn append(&mut self, record: &impl Serialize) -> Result<(), String> {
        let mut line = if self.open_line { "\n" } else { "" }.to_string();
        line.push_str(&serde_json::to_string(record).map_err(|e| e.to_string())?);
        line.push('\n');
        let path = self.path.display().to_string();
        let file = self.file()?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        self.open_line = false;
        Ok(())
    }

    fn truncate(&mut self, at: u64) -> Result<(), String> {
        let path = self.path.display().to_string();
        let file = self.file()?;
        file.set_len(at)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot truncate {path}: {e}"))?;
        // `at` starts a line: what is left ends with a newline, or is empty.
        self.open_line = false;
        Ok(())
    }
}
