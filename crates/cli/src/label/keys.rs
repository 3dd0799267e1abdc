//! Keys for `label`: raw terminal bytes decoded into key presses (escape sequences such as
//! arrow keys swallowed, so `ESC [ A` never reads as the key `a`), and the key map that
//! gives each tier a digit and, where it is unambiguous, its first letter.

use tier_router_core::config::TierId;

/// One key press, as far as `label` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable ASCII character, lowercased.
    Char(char),
    Enter,
    /// Ctrl-C or Ctrl-D: quit, as `q` does (raw mode turns off the signals).
    Interrupt,
    /// Ctrl-L.
    Redraw,
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Label(TierId),
    Accept,
    Skip,
    Undo,
    Quit,
    Redraw,
}

/// Letters with a fixed meaning: no tier takes them.
const RESERVED: [char; 3] = ['s', 'u', 'q'];

/// The keys of each tier.
#[derive(Debug)]
pub struct KeyMap {
    /// Per tier, in config order: its digit (first nine tiers) and its letter.
    keys: Vec<(Option<char>, Option<char>)>,
}

impl KeyMap {
    /// Digits `1..9` for the first nine tiers; each tier's first letter too, unless another
    /// tier starts with the same letter or it is `s`, `u` or `q`. A tier left with no key is
    /// an error that names it.
    pub fn new(tiers: &[&str]) -> Result<KeyMap, String> {
        let first = |name: &str| name.chars().next().map(|c| c.to_ascii_lowercase());
        let mut keys = Vec::with_capacity(tiers.len());
        for (i, name) in tiers.iter().enumerate() {
            let digit = char::from_digit(i as u32 + 1, 10).filter(|_| i < 9);
            let letter = first(name).filter(|c| {
                c.is_ascii_lowercase()
                    && !RESERVED.contains(c)
                    && tiers.iter().filter(|t| first(t) == Some(*c)).count() == 1
            });
            if digit.is_none() && letter.is_none() {
                return Err(format!(
                    "tier `{name}` gets no key: only the first nine tiers have digits, and \
                     its first letter is taken; rename it to start with a free letter"
                ));
            }
            keys.push((digit, letter));
        }
        Ok(KeyMap { keys })
    }

    pub fn command(&self, key: Key) -> Option<Command> {
        match key {
            Key::Enter => Some(Command::Accept),
            Key::Interrupt | Key::Char('q') => Some(Command::Quit),
            Key::Char('s') => Some(Command::Skip),
            Key::Char('u') => Some(Command::Undo),
            Key::Redraw => Some(Command::Redraw),
            Key::Char(c) => self
                .keys
                .iter()
                .position(|(digit, letter)| *digit == Some(c) || *letter == Some(c))
                .map(|i| Command::Label(TierId(i))),
        }
    }

    /// How the keys of tier `i` are shown: `1 l`, `1`, or `l`.
    pub fn keys_of(&self, i: usize) -> String {
        let (digit, letter) = self.keys.get(i).copied().unwrap_or((None, None));
        [digit, letter]
            .iter()
            .flatten()
            .map(char::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// Inside `ESC [ ...` until its final byte.
    Csi,
    /// After `ESC O`: one more byte.
    Ss3,
}

/// Turns the bytes a raw terminal sends into keys.
#[derive(Debug, Default)]
pub struct Decoder {
    state: State,
}

impl Decoder {
    /// The keys in one read. A read that ends right after ESC was the Escape key alone
    /// (terminals send a whole sequence in one write), so it is dropped; a read that ends
    /// inside `ESC [` keeps the state for the next read.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let keys = bytes.iter().filter_map(|&b| self.byte(b)).collect();
        if self.state == State::Escape {
            self.state = State::Ground;
        }
        keys
    }

    fn byte(&mut self, b: u8) -> Option<Key> {
        match self.state {
            State::Ground => Self::ground(b, &mut self.state),
            State::Escape => {
                self.state = match b {
                    b'[' => State::Csi,
                    b'O' => State::Ss3,
                    // Alt+key, or a second ESC: nothing `label` uses.
                    _ => State::Ground,
                };
                None
            }
            State::Csi => {
                if !(0x20..=0x3f).contains(&b) {
                    self.state = State::Ground;
                }
                None
            }
            State::Ss3 => {
                self.state = State::Ground;
                None
            }
        }
    }

    fn ground(b: u8, state: &mut State) -> Option<Key> {
        match b {
            0x1b => {
                *state = State::Escape;
                None
            }
            0x03 | 0x04 => Some(Key::Interrupt),
            0x0c => Some(Key::Redraw),
            b'\r' | b'\n' => Some(Key::Enter),
            0x21..=0x7e => Some(Key::Char(b.to_ascii_lowercase() as char)),
            // Space, tab, backspace, other controls, and every byte of a non-ASCII character.
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        Decoder::default().feed(bytes)
    }

    #[test]
    fn arrow_and_function_keys_are_not_letters() {
        assert_eq!(keys(b"\x1b[A\x1b[1;5C\x1bOP\x1b[15~"), vec![]);
        assert_eq!(keys(b"a\x1b[Bc"), vec![Key::Char('a'), Key::Char('c')]);
    }

    #[test]
    fn an_escape_sequence_split_across_reads_stays_swallowed() {
        let mut decoder = Decoder::default();
        assert_eq!(decoder.feed(b"\x1b["), vec![]);
        assert_eq!(decoder.feed(b"A"), vec![]);
        assert_eq!(decoder.feed(b"a"), vec![Key::Char('a')]);
    }

    #[test]
    fn a_lone_escape_does_not_eat_the_next_key() {
        let mut decoder = Decoder::default();
        assert_eq!(decoder.feed(b"\x1b"), vec![]);
        assert_eq!(decoder.feed(b"c"), vec![Key::Char('c')]);
    }

    #[test]
    fn controls_enter_and_non_ascii() {
        assert_eq!(
            keys(b"\r\n\x03\x04\x0cQ \t\x7f\xc3\xa9"),
            vec![
                Key::Enter,
                Key::Enter,
                Key::Interrupt,
                Key::Interrupt,
                Key::Redraw,
                Key::Char('q'),
            ]
        );
    }

    #[test]
    fn tiers_get_digits_and_unambiguous_first_letters() {
        let map = KeyMap::new(&["label", "chat", "analysis"]).unwrap();
        assert_eq!(map.command(Key::Char('1')), Some(Command::Label(TierId(0))));
        assert_eq!(map.command(Key::Char('a')), Some(Command::Label(TierId(2))));
        assert_eq!(map.command(Key::Char('4')), None);
        assert_eq!(map.keys_of(1), "2 c");

        let map = KeyMap::new(&["code", "chat", "summary"]).unwrap();
        assert_eq!(map.command(Key::Char('c')), None, "two tiers start with c");
        assert_eq!(map.command(Key::Char('s')), Some(Command::Skip));
        assert_eq!(map.keys_of(2), "3");
    }

    #[test]
    fn a_tenth_tier_without_a_free_letter_is_an_error() {
        let mut names: Vec<String> = (0..9).map(|i| format!("x{i}")).collect();
        names.push("quick".into());
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let err = KeyMap::new(&names).unwrap_err();
        assert!(err.contains("tier `quick` gets no key"), "{err}");
    }
}
