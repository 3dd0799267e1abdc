//! A labelling session: which prompt is shown, what each key does to it, and what the
//! screen says. Every change goes through the [`Store`] first, so the files are always the
//! truth and a rerun resumes where this run stopped.

use super::keys::{Command, Key, KeyMap};
use super::sample::Item;
use super::screen::View;
use super::store::{Done, Store, Undone};

/// Characters of a prompt quoted in the status line.
const QUOTE_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// What this run did, for the closing summary.
#[derive(Debug, Default)]
pub struct Tally {
    pub labelled: u64,
    pub skipped: u64,
    pub undone: u64,
}

pub struct Session {
    items: Vec<Item>,
    store: Store,
    keys: KeyMap,
    tiers: Vec<String>,
    /// An item just undone: shown next, wherever it is in the order.
    revisit: Option<usize>,
    status: String,
    pub tally: Tally,
}

impl Session {
    pub fn new(items: Vec<Item>, store: Store, tiers: Vec<String>) -> Result<Session, String> {
        let names: Vec<&str> = tiers.iter().map(String::as_str).collect();
        Ok(Session {
            keys: KeyMap::new(&names)?,
            items,
            store,
            tiers,
            revisit: None,
            status: String::new(),
            tally: Tally::default(),
        })
    }

    /// The index of the item shown: an undone one, else the first not yet done.
    fn current(&self) -> Option<usize> {
        let open = |i: &usize| {
            self.items
                .get(*i)
                .is_some_and(|item| self.store.done(&item.id).is_none())
        };
        self.revisit
            .filter(open)
            .or_else(|| (0..self.items.len()).find(open))
    }

    pub fn press(&mut self, key: Key) -> Result<Flow, String> {
        let Some(command) = self.keys.command(key) else {
            self.status = match key {
                Key::Char(c) => format!("`{c}` is not a key here"),
                _ => String::new(),
            };
            return Ok(Flow::Continue);
        };
        match command {
            Command::Quit => return Ok(Flow::Quit),
            Command::Redraw => {}
            Command::Label(tier) => self.label(tier.0)?,
            Command::Accept => self.accept()?,
            Command::Skip => self.skip()?,
            Command::Undo => self.undo()?,
        }
        Ok(Flow::Continue)
    }

    fn label(&mut self, tier: usize) -> Result<(), String> {
        let (Some(i), Some(name)) = (self.current(), self.tiers.get(tier)) else {
            return Ok(());
        };
        let Some(item) = self.items.get(i) else {
            return Ok(());
        };
        self.store.label(&item.id, &item.prompt(), name)?;
        self.status = format!("labelled {} as {name}", quote(item));
        self.tally.labelled += 1;
        Ok(())
    }

    fn accept(&mut self) -> Result<(), String> {
        let suggested = self
            .current()
            .and_then(|i| self.items.get(i))
            .map(|item| item.suggestion.tier);
        match suggested {
            Some(Some(tier)) => self.label(tier.0),
            Some(None) => {
                self.status =
                    "no suggestion to accept: press a tier's key, or s to skip".to_string();
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn skip(&mut self) -> Result<(), String> {
        let Some(item) = self.current().and_then(|i| self.items.get(i)) else {
            return Ok(());
        };
        self.store.skip(&item.id, &item.prompt())?;
        self.status = format!("skipped {}", quote(item));
        self.tally.skipped += 1;
        Ok(())
    }

    fn undo(&mut self) -> Result<(), String> {
        let Some(Undone { id, done }) = self.store.undo()? else {
            self.status = "nothing to undo".to_string();
            return Ok(());
        };
        self.tally.undone += 1;
        let index = self.items.iter().position(|item| item.id == id);
        let what = match &done {
            Done::Labelled(tier) => format!("the label {tier} of"),
            Done::Skipped => "the skip of".to_string(),
        };
        self.status = match index.and_then(|i| self.items.get(i)) {
            Some(item) => format!("undid {what} {}", quote(item)),
            None => format!("undid {what} prompt {id} (not in this sample)"),
        };
        self.revisit = index;
        Ok(())
    }

    /// The sample's prompts labelled and skipped (in the files, earlier runs included).
    pub fn done_counts(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for item in &self.items {
            match self.store.done(&item.id) {
                Some(Done::Labelled(_)) => counts.0 += 1,
                Some(Done::Skipped) => counts.1 += 1,
                None => {}
            }
        }
        counts
    }

    pub fn set_status(&mut self, status: String) {
        self.status = status;
    }

    pub fn total(&self) -> usize {
        self.items.len()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn view<'a>(&'a self, title: &'a str) -> View<'a> {
        let (labelled, skipped) = self.done_counts();
        let item = self.current().and_then(|i| self.items.get(i));
        View {
            title,
            position: labelled + skipped + 1,
            total: self.items.len(),
            labelled,
            skipped,
            item,
            tiers: (0..self.tiers.len())
                .filter_map(|i| Some((self.keys.keys_of(i), self.tiers.get(i)?.as_str())))
                .collect(),
            suggested: item
                .and_then(|item| item.suggestion.tier)
                .and_then(|t| self.tiers.get(t.0))
                .map(String::as_str),
            status: &self.status,
        }
    }
}

/// The prompt's first words, quoted, on one line.
fn quote(item: &Item) -> String {
    let text = if item.user.trim().is_empty() {
        &item.system
    } else {
        &item.user
    };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut quoted: String = flat.chars().take(QUOTE_CHARS).collect();
    if flat.chars().count() > QUOTE_CHARS {
        quoted.push('…');
    }
    format!("\"{quoted}\"")
}
