//! `label` off Unix: the terminal layer is written on termios, so the command says so.

use super::keys::Key;

pub fn check_interactive() -> Result<(), String> {
    Err("label needs a Unix terminal (termios); it is not available on this platform".into())
}

pub struct Terminal;

impl Terminal {
    pub fn open() -> Result<Terminal, String> {
        check_interactive().map(|()| Terminal)
    }

    pub fn size(&self) -> (usize, usize) {
        (80, 24)
    }

    pub fn write(&mut self, _text: &str) -> Result<(), String> {
        check_interactive()
    }

    pub fn keys(&mut self, _timeout_ms: i32) -> Result<Option<Vec<Key>>, String> {
        check_interactive().map(|()| None)
    }
}
