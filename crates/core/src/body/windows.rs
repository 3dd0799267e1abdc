//! The bytes of prompt text the classifier scans, kept as they stream out of the parser: the
//! head of the system prompt, and the head and tail of a message. Each text part stays its
//! own window (a cue never matches across two parts). Empty parts are not kept: they hold
//! nothing to scan. Memory is the kept bytes plus four bytes per kept part, whatever the number
//! of parts or messages in the body.

use std::collections::VecDeque;

/// Text windows: the bytes of every kept part, back to back, and where each part ends.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Windows {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Windows {
    /// Each kept part, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|e| *e as usize));
        starts
            .zip(self.ends.iter().map(|e| *e as usize))
            .map(|(start, end)| self.bytes.get(start..end).unwrap_or_default())
    }

    /// Bytes kept, over all parts.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Appends the first bytes of `part` while fewer than `budget` bytes are kept.
    fn push_head(&mut self, part: &[u8], budget: usize) {
        let take = part.len().min(budget.saturating_sub(self.bytes.len()));
        if let Some(head) = part.get(..take).filter(|h| !h.is_empty()) {
            self.bytes.extend_from_slice(head);
            self.ends.push(self.bytes.len() as u32);
        }
    }

    /// Keeps only the first `budget` bytes.
    fn truncate(&mut self, budget: usize) {
        if self.bytes.len() <= budget {
            return;
        }
        self.bytes.truncate(budget);
        let kept = self
            .ends
            .iter()
            .take_while(|e| (**e as usize) < budget)
            .count();
        self.ends.truncate(kept);
        if budget > self.ends.last().map_or(0, |e| *e as usize) {
            self.ends.push(budget as u32);
        }
    }
}

/// The last `budget` bytes seen, part by part.
#[derive(Debug, Default)]
struct Tail {
    bytes: VecDeque<u8>,
    lens: VecDeque<u32>,
}

impl Tail {
    fn clear(&mut self) {
        self.bytes.clear();
        self.lens.clear();
    }

    fn push(&mut self, part: &[u8], budget: usize) {
        let take = part.len().min(budget);
        let Some(last) = part.get(part.len() - take..).filter(|t| !t.is_empty()) else {
            return;
        };
        self.bytes.extend(last);
        self.lens.push_back(last.len() as u32);
        // Drop whole parts, then the front of the oldest one, down to `budget` bytes.
        while self.bytes.len() > budget {
            let excess = self.bytes.len() - budget;
            let Some(front) = self.lens.front_mut() else {
                break;
            };
            let drop = excess.min(*front as usize);
            self.bytes.drain(..drop);
            *front -= drop as u32;
            if *front == 0 {
                self.lens.pop_front();
            }
        }
    }

    fn append_to(&self, out: &mut Windows) {
        let (a, b) = self.bytes.as_slices();
        let start = out.bytes.len();
        out.bytes.extend_from_slice(a);
        out.bytes.extend_from_slice(b);
        let mut end = start;
        for len in &self.lens {
            end += *len as usize;
            out.ends.push(end as u32);
        }
    }
}

/// The text of one message as it streams in: its first `budget` bytes, its last `budget / 2`
/// bytes, and its length. The classifier reads the whole message when it fits in `budget`,
/// else its head and tail halves ("...summarise the above in one word").
#[derive(Debug, Default)]
pub(crate) struct MessageText {
    head: Windows,
    tail: Tail,
    len: usize,
    budget: usize,
}

impl MessageText {
    pub(crate) fn new(budget: usize) -> Self {
        MessageText {
            budget,
            ..MessageText::default()
        }
    }

    pub(crate) fn clear(&mut self) {
        self.head.clear();
        self.tail.clear();
        self.len = 0;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, part: &[u8]) {
        self.len += part.len();
        self.head.push_head(part, self.budget);
        self.tail.push(part, self.budget / 2);
    }

    /// The windows the classifier scans, written into `out` (whose buffers are reused).
    pub(crate) fn windows_into(&self, out: &mut Windows) {
        out.clear();
        out.bytes.extend_from_slice(&self.head.bytes);
        out.ends.extend_from_slice(&self.head.ends);
        if self.len > self.budget {
            out.truncate(self.budget / 2);
            self.tail.append_to(out);
        }
    }

    /// The message's first parts, as a system prompt's text, into `system` (up to `budget`).
    pub(crate) fn head_into(&self, system: &mut Windows, budget: usize) {
        for part in self.head.iter() {
            system.push_head(part, budget);
        }
    }
}

/// The head of the system prompt, up to `budget` bytes.
#[derive(Debug, Default)]
pub(crate) struct SystemText {
    pub(crate) windows: Windows,
    pub(crate) budget: usize,
}

impl SystemText {
    pub(crate) fn push(&mut self, part: &[u8]) {
        self.windows.push_head(part, self.budget);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(w: &Windows) -> Vec<&str> {
        w.iter()
            .map(|p| std::str::from_utf8(p).unwrap_or("?"))
            .collect()
    }

    #[test]
    fn a_message_within_budget_is_kept_whole() {
        let mut m = MessageText::new(8);
        for p in ["ab", "", "cd", "efgh"] {
            m.push(p.as_bytes());
        }
        let mut w = Windows::default();
        m.windows_into(&mut w);
        assert_eq!(parts(&w), ["ab", "cd", "efgh"]);
    }

    #[test]
    fn a_long_message_keeps_head_and_tail_halves_part_by_part() {
        let mut m = MessageText::new(8);
        for p in ["abc", "defg", "hi", "jklmn", "o"] {
            m.push(p.as_bytes());
        }
        let mut w = Windows::default();
        m.windows_into(&mut w);
        // Head: 4 bytes ("abc", "d"); tail: the last 4 bytes ("lmn", "o").
        assert_eq!(parts(&w), ["abc", "d", "lmn", "o"]);
        assert_eq!(m.len(), 15);
    }
}
