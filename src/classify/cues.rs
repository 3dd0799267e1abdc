//! Cue phrases of every tier in one aho-corasick automaton, matched case-insensitively and
//! only on word boundaries ("tag" must not match "stage").

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{BuildError, Input, MatchKind};

#[derive(Debug)]
pub struct CueAutomaton {
    /// A DFA only (not the `AhoCorasick` wrapper, which links every automaton kind): the
    /// fastest search, and the smallest module.
    automaton: Option<DFA>,
    cue_count: usize,
}

impl CueAutomaton {
    /// Builds the automaton over `phrases` (already lowercase) plus the code-fence marker,
    /// which has id `phrases.len()` and is exempt from the word-boundary rule.
    pub fn new(phrases: &[&str]) -> Result<CueAutomaton, BuildError> {
        let mut patterns: Vec<&str> = phrases.to_vec();
        patterns.push("```");
        let automaton = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)?;
        Ok(CueAutomaton {
            automaton: Some(automaton),
            cue_count: phrases.len(),
        })
    }

    pub fn fence_id(&self) -> usize {
        self.cue_count
    }

    /// Calls `hit` with the pattern id of every cue found in `text` on word boundaries, and
    /// with [`Self::fence_id`] for code fences. Ids may repeat; callers dedupe.
    pub fn scan(&self, text: &[u8], mut hit: impl FnMut(usize)) {
        let Some(automaton) = &self.automaton else {
            return;
        };
        // Standard match semantics and an unanchored input: the overlapping search cannot fail.
        let Ok(matches) = automaton.try_find_overlapping_iter(Input::new(text)) else {
            return;
        };
        for m in matches {
            let id = m.pattern().as_usize();
            if id == self.cue_count || on_word_boundaries(text, m.start(), m.end()) {
                hit(id);
            }
        }
    }
}

/// True when the match is not glued to a letter or digit on either side. Bytes of non-ASCII
/// characters count as letters, so a cue never matches inside an accented word.
fn on_word_boundaries(text: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).and_then(|i| text.get(i));
    let after = text.get(end);
    !before.is_some_and(|b| is_word_byte(*b)) && !after.is_some_and(|b| is_word_byte(*b))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(phrases: &[&str], text: &str) -> Vec<usize> {
        let automaton = CueAutomaton::new(phrases).unwrap();
        let mut ids = Vec::new();
        automaton.scan(text.as_bytes(), |id| ids.push(id));
        ids
    }

    #[test]
    fn matches_case_insensitively_on_word_boundaries() {
        assert_eq!(hits(&["tag"], "Please TAG this."), vec![0]);
        assert_eq!(hits(&["tag"], "at this stage"), Vec::<usize>::new());
        assert_eq!(hits(&["tag"], "tags"), Vec::<usize>::new());
        assert_eq!(hits(&["one word"], "(one word)"), vec![0]);
    }

    #[test]
    fn non_ascii_neighbours_are_letters() {
        assert_eq!(hits(&["tag"], "étag"), Vec::<usize>::new());
    }

    #[test]
    fn overlapping_cues_all_match() {
        assert_eq!(
            hits(&["return only", "only the"], "return only the label"),
            vec![0, 1]
        );
    }

    #[test]
    fn code_fence_needs_no_boundary() {
        assert_eq!(hits(&["x"], "a```rust"), vec![1]);
    }
}
