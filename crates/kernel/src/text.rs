//! Checks on free text from users and files.

/// True if `text` holds characters that have no place in a name or a form field: C0/C1 control
/// characters (NUL among them, which PostgreSQL rejects), bidirectional overrides and invisible
/// formatting characters (zero-width spaces and joiners, direction marks), which can disguise
/// text on screens and terminals or make two names look identical. Line breaks and tabs are allowed when
/// `multiline` is set (text areas).
pub fn has_control_characters(text: &str, multiline: bool) -> bool {
    text.chars().any(|c| {
        let allowed_space = multiline && matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !allowed_space)
            || ('\u{200b}'..='\u{200f}').contains(&c)
            || ('\u{2028}'..='\u{202e}').contains(&c)
            || ('\u{2060}'..='\u{2069}').contains(&c)
            || c == '\u{feff}'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_caught_and_plain_chinese_is_not() {
        assert!(!has_control_characters("城东高级中学 (1)班", false));
        assert!(has_control_characters("a\0b", true));
        assert!(has_control_characters("red\u{1b}[31m", false));
        assert!(has_control_characters("abc\u{202e}def", false));
        assert!(has_control_characters("line\nbreak", false));
        assert!(!has_control_characters("line\nbreak", true));
        assert!(has_control_characters("高一(1)班\u{200f}", false));
        assert!(has_control_characters("G2026-01\u{200b}", false));
    }
}
