//! The progress bar on stderr, drawn only when stderr is a terminal: bytes read of the total
//! (compressed bytes for gzip files), lines per second; erased when done.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::input::Counter;
use crate::fmt;

const REDRAW_EVERY: Duration = Duration::from_millis(200);
const BAR_WIDTH: usize = 30;

pub struct Progress {
    enabled: bool,
    /// Total bytes of all inputs; `None` when stdin is one of them.
    total: Option<u64>,
    read: Counter,
    started: Instant,
    last_draw: Instant,
    drawn: bool,
}

impl Progress {
    pub fn new(wanted: bool, total: Option<u64>, read: Counter) -> Progress {
        let now = Instant::now();
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            total,
            read,
            started: now,
            last_draw: now,
            drawn: false,
        }
    }

    /// Redraws if it is time; cheap enough to call every few thousand lines.
    pub fn tick(&mut self, lines: u64) {
        if !self.enabled || self.last_draw.elapsed() < REDRAW_EVERY {
            return;
        }
        self.last_draw = Instant::now();
        self.drawn = true;
        let read = self.read.get();
        let rate = lines as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let position = match self.total {
            Some(total) if total > 0 => {
                let done = (read as f64 / total as f64).min(1.0);
                let filled = (done * BAR_WIDTH as f64) as usize;
                format!(
                    "[{}{}] {:3.0}% {} / {}",
                    "#".repeat(filled),
                    "-".repeat(BAR_WIDTH - filled),
                    done * 100.0,
                    fmt::bytes(read),
                    fmt::bytes(total)
                )
            }
            _ => fmt::bytes(read),
        };
        let mut err = std::io::stderr().lock();
        // A failed progress write must not stop the report.
        let _ = write!(
            err,
            "\r\x1b[2K{position}  {} lines  {} lines/s",
            fmt::count(lines),
            fmt::count(rate as u64)
        );
        let _ = err.flush();
    }

    /// Erases the bar.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
