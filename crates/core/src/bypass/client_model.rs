//! The top-level `model` of a JSON body the router passes through without parsing, read as
//! the bytes go by: chunk by chunk, in constant memory, skipping string contents with memchr.
//! It only has to be right for the bodies an upstream would accept; for anything else
//! (not an object, an escaped or overlong name) it reports no model, which the log shows as
//! unknown and prices at nothing. A repeated `model` key counts last, as most JSON parsers
//! upstream read it.

/// Longest model name kept; a longer one is reported as unknown.
const MAX_MODEL_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the top-level `{` (a BOM and whitespace are skipped).
    Start,
    ExpectKey,
    /// Inside a top-level key; `true` while it still reads `model`.
    InKey,
    AfterKey,
    ExpectValue,
    /// Inside the string value of `model`.
    InModel,
    /// Inside another top-level string value.
    InString,
    /// Inside a number, `true`, `false` or `null`.
    InScalar,
    /// Inside a nested object or array (`depth` deep, from 1).
    Nested,
    ExpectComma,
    /// The object ended, or the bytes are not a JSON object: nothing more to read.
    Done,
}

#[derive(Debug, Clone)]
pub struct ClientModelScanner {
    state: State,
    /// Nesting depth inside a top-level value (`Nested`).
    depth: u32,
    /// Inside a string of a nested value.
    nested_string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// Bytes of the key being read, while they may still spell `model`.
    key: Vec<u8>,
    key_is_model: bool,
    value: Vec<u8>,
    value_usable: bool,
    model: Option<String>,
}

impl Default for ClientModelScanner {
    fn default() -> Self {
        ClientModelScanner::new()
    }
}

impl ClientModelScanner {
    pub fn new() -> Self {
        ClientModelScanner {
            state: State::Start,
            depth: 0,
            nested_string: false,
            escaped: false,
            key: Vec::new(),
            key_is_model: false,
            value: Vec::new(),
            value_usable: false,
            model: None,
        }
    }

    /// The `model` of a whole body already in memory.
    pub fn model_of(body: &[u8]) -> Option<String> {
        let mut scanner = ClientModelScanner::new();
        scanner.feed(body);
        scanner.model().map(str::to_string)
    }

    /// The `model` seen so far (the last one, if repeated).
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// No later byte can change the answer.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() && self.state != State::Done {
            i = self.step(chunk, i);
        }
    }

    /// Consumes from `chunk[i]` on, returns where to go on.
    fn step(&mut self, chunk: &[u8], i: usize) -> usize {
        let b = chunk[i];
        match self.state {
            State::InKey | State::InModel | State::InString => return self.in_string(chunk, i),
            State::Nested => return self.nested(chunk, i),
            _ if b.is_ascii_whitespace() && self.state != State::InScalar => return i + 1,
            // A BOM's bytes may arrive in separate chunks.
            State::Start if matches!(b, 0xEF | 0xBB | 0xBF) => {}
            State::Start => {
                self.state = if b == b'{' {
                    State::ExpectKey
                } else {
                    State::Done
                }
            }
            State::ExpectKey => {
                self.state = match b {
                    b'"' => {
                        self.key.clear();
                        self.key_is_model = true;
                        State::InKey
                    }
                    // `}` ends an empty object; anything else is not JSON.
                    _ => State::Done,
                }
            }
            State::AfterKey => {
                self.state = if b == b':' {
                    State::ExpectValue
                } else {
                    State::Done
                }
            }
            State::ExpectValue => self.start_value(b),
            State::InScalar => {
                if b == b',' || b == b'}' || b.is_ascii_whitespace() {
                    self.state = State::ExpectComma;
                    return i;
                }
            }
            State::ExpectComma => {
                self.state = if b == b',' {
                    State::ExpectKey
                } else {
                    State::Done
                };
            }
            State::Done => {}
        }
        i + 1
    }

    fn start_value(&mut self, b: u8) {
        let is_model = self.key_is_model;
        self.state = match b {
            b'"' if is_model => {
                self.value.clear();
                self.value_usable = true;
                State::InModel
            }
            b'"' => State::InString,
            b'{' | b'[' => {
                self.depth = 1;
                State::Nested
            }
            _ => State::InScalar,
        };
        // A non-string `model` replaces an earlier one as far as the upstream goes.
        if is_model && b != b'"' {
            self.model = None;
        }
    }

    /// Inside a top-level key or string value: skip to the next quote or backslash.
    fn in_string(&mut self, chunk: &[u8], i: usize) -> usize {
        if self.escaped {
            self.escaped = false;
            self.take(&chunk[i..=i], true);
            return i + 1;
        }
        let rest = &chunk[i..];
        let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
            self.take(rest, false);
            return chunk.len();
        };
        self.take(&rest[..at], false);
        if rest[at] == b'\\' {
            self.escaped = true;
            return i + at + 1;
        }
        self.end_string();
        i + at + 1
    }

    /// Keeps string bytes while they can still be the key `model` or a usable model name.
    fn take(&mut self, bytes: &[u8], escaped: bool) {
        match self.state {
            State::InKey if self.key_is_model => {
                self.key.extend_from_slice(bytes);
                self.key_is_model = !escaped && b"model".starts_with(&self.key);
            }
            State::InModel if self.value_usable => {
                self.value.extend_from_slice(bytes);
                self.value_usable = !escaped && self.value.len() <= MAX_MODEL_LEN;
            }
            _ => {}
        }
    }

    fn end_string(&mut self) {
        self.state = match self.state {
            State::InKey => {
                self.key_is_model &= self.key == b"model";
                State::AfterKey
            }
            State::InModel => {
                self.model = if self.value_usable {
                    String::from_utf8(std::mem::take(&mut self.value)).ok()
                } else {
                    None
                };
                State::ExpectComma
            }
            _ => State::ExpectComma,
        };
    }

    /// Inside a nested value: track strings and brackets until it closes.
    fn nested(&mut self, chunk: &[u8], i: usize) -> usize {
        if self.nested_string {
            if self.escaped {
                self.escaped = false;
                return i + 1;
            }
            let rest = &chunk[i..];
            return match memchr::memchr2(b'"', b'\\', rest) {
                None => chunk.len(),
                Some(at) => {
                    if rest[at] == b'\\' {
                        self.escaped = true;
                    } else {
                        self.nested_string = false;
                    }
                    i + at + 1
                }
            };
        }
        match chunk[i] {
            b'"' => self.nested_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.state = State::ExpectComma;
                }
            }
            _ => {}
        }
        i + 1
    }
}
