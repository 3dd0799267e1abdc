//! Access-log inputs: files or `-` (stdin), plain or gzip-compressed (detected by the gzip
//! magic bytes, so `access.log.1.gz`, `access.log-2026-11-28` and a compressed stdin all
//! work; concatenated gzip members are read in turn), read line by line in bounded memory.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

/// Longer lines are not buffered: they are skipped and reported as unparseable.
pub const MAX_LINE_BYTES: usize = 1 << 20;
const BUFFER_BYTES: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub struct Input {
    /// The path as given, or `-`.
    pub name: String,
    reader: Box<dyn BufRead>,
}

/// What [`Input::read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without its newline) is in the buffer.
    Read,
    /// A line over [`MAX_LINE_BYTES`] was skipped.
    TooLong,
    Eof,
}

/// Bytes read from disk or stdin (before decompression), for the progress bar.
pub type Counter = Rc<Cell<u64>>;

/// The size on disk of a file input; `None` for stdin.
pub fn size_of(path: &Path) -> Result<Option<u64>, String> {
    if is_stdin(path) {
        return Ok(None);
    }
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.is_dir() {
        return Err(format!("cannot read {}: it is a directory", path.display()));
    }
    Ok(Some(metadata.len()))
}

pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

impl Input {
    pub fn open(path: &Path, counter: &Counter) -> Result<Input, String> {
        let name = path.display().to_string();
        let raw: Box<dyn Read> = if is_stdin(path) {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?)
        };
        let counted = Counting {
            inner: raw,
            counter: counter.clone(),
        };
        let mut buffered = BufReader::with_capacity(BUFFER_BYTES, counted);
        let head = buffered
            .fill_buf()
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        let reader: Box<dyn BufRead> = if head.starts_with(&GZIP_MAGIC) {
            let decoder = MultiGzDecoder::new(buffered);
            Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder))
        } else {
            Box::new(buffered)
        };
        Ok(Input { name, reader })
    }

    /// Reads the next line into `buf` (cleared first), without its `\n`.
    pub fn read_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Line> {
        buf.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let n = (&mut self.reader).take(limit).read_until(b'\n', buf)?;
        if n == 0 {
            return Ok(Line::Eof);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            return Ok(Line::Read);
        }
        if buf.len() <= MAX_LINE_BYTES {
            return Ok(Line::Read); // The last line, without a newline.
        }
        buf.clear();
        self.skip_line()?;
        Ok(Line::TooLong)
    }

    /// Consumes up to and including the next `\n`, without buffering the line.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|b| *b == b'\n') {
                Some(at) => {
                    self.reader.consume(at + 1);
                    return Ok(());
                }
                None => {
                    let len = available.len();
                    self.reader.consume(len);
                }
            }
        }
    }
}

/// Counts the bytes read through it.
struct Counting {
    inner: Box<dyn Read>,
    counter: Counter,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.set(self.counter.get() + n as u64);
        Ok(n)
    }
}
