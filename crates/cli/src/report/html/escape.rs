//! Text from the logs (model and tier names, input paths) as HTML text or attribute values:
//! every markup character escaped, control characters replaced, so no log line can add an
//! element, an attribute or a URL to the page.

/// `text` safe inside an element or a double- or single-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // HTML forbids the C0/C1 controls (NUL included) in text; tab and newline are fine.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, with an ellipsis when cut (for chart labels; the full
/// name stays in the tooltip and the data attributes).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_cannot_escape_text_or_attributes() {
        assert_eq!(
            escape(r#"<img src=x onerror='a()'>&"</svg>"#),
            "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;&lt;/svg&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\td"), "a\u{FFFD}b\u{FFFD}c\td");
        assert_eq!(escape("gpt-4o-mini ünïcode"), "gpt-4o-mini ünïcode");
    }

    #[test]
    fn shorten_keeps_short_names() {
        assert_eq!(shorten("small", 5), "small");
        assert_eq!(shorten("smaller", 5), "smal…");
    }
}
