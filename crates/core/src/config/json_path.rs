//! The JSON path (`tiers[1].cues`) of the value at a byte offset of a document, so a config
//! error from serde (which knows only line and column) can name the field. A small scanner
//! instead of a path-tracking deserializer keeps the wasm module small.

enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The path of the innermost value open at `offset`; `.` for the document itself.
pub fn path_at(json: &[u8], offset: usize) -> String {
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    let end = offset.min(json.len());
    while i < end {
        let Some(&b) = json.get(i) else { break };
        match b {
            b'"' => {
                let (text, next) = read_string(json, i + 1);
                if let Some(Frame::Object {
                    key,
                    expect_key: expect @ true,
                }) = frames.last_mut()
                {
                    *key = Some(text);
                    *expect = false;
                }
                i = next;
                continue;
            }
            b'{' => frames.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => frames.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Object { key, expect_key }) => {
                    *key = None;
                    *expect_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    render(&frames)
}

/// The string starting after its opening quote, unescaped only as far as a path needs
/// (escapes are kept verbatim), and the offset after its closing quote.
fn read_string(json: &[u8], start: usize) -> (String, usize) {
    let mut i = start;
    while let Some(&b) = json.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => {
                return (
                    String::from_utf8_lossy(json.get(start..i).unwrap_or_default()).into_owned(),
                    i + 1,
                )
            }
            _ => i += 1,
        }
    }
    (
        String::from_utf8_lossy(json.get(start..).unwrap_or_default()).into_owned(),
        json.len(),
    )
}

fn render(frames: &[Frame]) -> String {
    let mut path = String::new();
    for frame in frames {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

/// Byte offset of a 1-based line and column, as serde_json reports them.
pub fn offset_of(json: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        json.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(json.len(), |(i, _)| i + 1)
    };
    line_start + column
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(json: &str, marker: &str) -> String {
        path_at(json.as_bytes(), json.find(marker).unwrap())
    }

    #[test]
    fn paths_of_nested_values() {
        let json = r#"{"a": 1, "tiers": [{"name": "x"}, {"name": "y", "cues": {"one": 3}}]}"#;
        assert_eq!(at(json, "3}"), "tiers[1].cues.one");
        assert_eq!(at(json, r#""y""#), "tiers[1].name");
        assert_eq!(at(json, "1,"), "a");
        assert_eq!(path_at(json.as_bytes(), 0), ".");
    }

    #[test]
    fn escaped_quotes_do_not_end_keys() {
        let json = r#"{"k\"ey": [true, {"z": null}]}"#;
        assert_eq!(at(json, "null"), r#"k\"ey[1].z"#);
    }

    #[test]
    fn line_and_column_to_offset() {
        let json = b"{\n  \"a\": 1\n}";
        assert_eq!(offset_of(json, 2, 3), 5);
    }
}
