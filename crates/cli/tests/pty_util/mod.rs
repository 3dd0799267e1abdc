//! A pseudo-terminal for driving the interactive `tier-router label` as a person would:
//! the binary runs with a pty's slave as stdin, stdout and stderr; the test writes key
//! presses to the master and reads back what the screen shows.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a wait for the screen or the exit lasts before the test fails.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Where each `label` frame starts.
const CLEAR: &str = "\x1b[H\x1b[2J";

pub struct Pty {
    master: File,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    /// The terminal's mode before the programme started.
    pub initial: libc::termios,
}

impl Pty {
    /// Starts `bin ARGS` on a new `cols` x `rows` pseudo-terminal.
    pub fn spawn(bin: &str, args: &[&str], cols: u16, rows: u16) -> Pty {
        let (mut master_fd, mut slave_fd) = (-1, -1);
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: valid out-pointers; a null name and termios are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut master_fd,
                &mut slave_fd,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two open descriptors that nothing else owns.
        let (master, slave) =
            unsafe { (File::from_raw_fd(master_fd), File::from_raw_fd(slave_fd)) };
        let initial = termios(&master);
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("start tier-router");
        // Every slave handle of ours is gone: reads of the master end when the child exits.
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let mut reading = master.try_clone().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reading.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            child,
            output,
            reader: Some(reader),
            initial,
        }
    }

    /// Presses keys: writes their bytes to the terminal.
    pub fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Everything the programme wrote, as it was written.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// What the screen shows now: the text of the last frame, escape sequences removed.
    pub fn screen(&self) -> String {
        let raw = self.raw();
        let last = raw.rfind(CLEAR).map_or(0, |i| i + CLEAR.len());
        strip_escapes(&raw[last..])
    }

    /// Waits until the screen shows every one of `texts`, and returns it.
    pub fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "the screen never showed {texts:?}; it shows:\n{screen}\n--- all output:\n{}",
                    strip_escapes(&self.raw())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the programme to exit; its exit code and all it wrote (escapes removed).
    pub fn wait_exit(&mut self) -> (i32, String) {
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tier-router did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status.code().unwrap_or(-1), strip_escapes(&self.raw()))
    }

    /// The terminal's mode now (the master reports the slave's).
    pub fn termios(&self) -> libc::termios {
        termios(&self.master)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn termios(file: &File) -> libc::termios {
    use std::os::fd::AsRawFd;
    // SAFETY: zeroed termios is a valid out-parameter; the descriptor is open.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::tcgetattr(file.as_raw_fd(), &mut mode) };
    assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    mode
}

/// Removes CSI (`ESC [ ... final`) and two-byte escape sequences.
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            _ => continue,
        }
    }
    out.replace('\r', "")
}
