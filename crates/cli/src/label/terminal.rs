//! The terminal `label` runs in: raw mode for single keys, the alternate screen, and their
//! undoing when [`Terminal`] is dropped (on `q`, Ctrl-C, and every error path).
//!
//! Written on `libc`'s termios, poll and read (a few calls, already in Cargo.lock) rather
//! than a terminal crate: `label` needs single bytes in and ANSI text out, nothing more.
//! Raw mode clears ISIG, so Ctrl-C arrives as a byte and quits through the same path as `q`.

use std::io::{IsTerminal, Write};

use super::keys::{Decoder, Key};

const ENTER_SCREEN: &str = "\x1b[?1049h\x1b[?25l";
const LEAVE_SCREEN: &str = "\x1b[?25h\x1b[?1049l";

/// stdin and stdout both a terminal: `label` is interactive only.
pub fn check_interactive() -> Result<(), String> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(
            "label is interactive: run it with stdin and stdout on a terminal \
             (it reads single key presses; labels go to the --out file)"
                .to_string(),
        )
    }
}

pub struct Terminal {
    saved: libc::termios,
    decoder: Decoder,
}

impl Terminal {
    /// Switches stdin to raw mode and stdout to the alternate screen.
    pub fn open() -> Result<Terminal, String> {
        check_interactive()?;
        // SAFETY: a zeroed termios is a valid out-parameter for tcgetattr, which fills it.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is open (checked a terminal above); `saved` is a valid pointer.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } != 0 {
            return Err(format!(
                "cannot read the terminal's mode: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_iflag &= !(libc::IXON | libc::ICRNL);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: as above; `raw` is a valid termios.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &raw) } != 0 {
            return Err(format!(
                "cannot switch the terminal to raw mode: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut terminal = Terminal {
            saved,
            decoder: Decoder::default(),
        };
        terminal.write(ENTER_SCREEN)?;
        Ok(terminal)
    }

    /// Columns and rows (80 x 24 when the terminal does not say).
    pub fn size(&self) -> (usize, usize) {
        // SAFETY: winsize is plain data; TIOCGWINSZ fills it on success.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: fd 1 is a terminal (checked in open); `size` is a valid pointer.
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col > 0 && size.ws_row > 0 {
            (size.ws_col as usize, size.ws_row as usize)
        } else {
            (80, 24)
        }
    }

    pub fn write(&mut self, text: &str) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to the terminal: {e}"))
    }

    /// The keys pressed within `timeout_ms`: `None` when none came. End of input reads as
    /// [`Key::Interrupt`].
    pub fn keys(&mut self, timeout_ms: i32) -> Result<Option<Vec<Key>>, String> {
        let mut poll = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
        if ready <= 0 {
            // A timeout, or a signal (a resize) interrupting the wait.
            return Ok(None);
        }
        let mut buf = [0u8; 256];
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => Ok(Some(vec![Key::Interrupt])),
            n if n < 0 => {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    Ok(None)
                } else {
                    Err(format!("cannot read the terminal: {e}"))
                }
            }
            n => Ok(Some(
                self.decoder.feed(buf.get(..n as usize).unwrap_or(&[])),
            )),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.write(LEAVE_SCREEN);
        // SAFETY: restores the mode read in `open` on the same fd.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}
