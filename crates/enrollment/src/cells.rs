//! Cell text as people type it into spreadsheets: full-width letters and digits, non-breaking
//! and ideographic spaces, stray spaces around values. Normalising folds those to their plain
//! forms and nothing else: every other character, rare CJK ones included (䶮, 𠮷, 㒲), passes
//! through byte for byte.

/// Folds full-width ASCII to ASCII, every space-like character to a plain space, collapses runs
/// of spaces, and trims.
pub fn normalise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        let c = match c {
            '\u{3000}' | '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\t' => ' ',
            '\u{feff}' | '\u{200b}' => continue,
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            other => other,
        };
        if c == ' ' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// A student number is text: leading zeros stay, nothing is reformatted. Only surrounding
/// spaces and full-width digits are folded. A value that a spreadsheet turned into a float
/// (`2411001.0`, `2.411E+06`) is refused, because the original digits cannot be recovered.
pub fn student_no(raw: &str) -> Result<String, StudentNoProblem> {
    let s = normalise(raw);
    if s.is_empty() {
        return Err(StudentNoProblem::Empty);
    }
    if (s.contains(['E', 'e']) && s.contains('+')) || s.ends_with(".0") {
        return Err(StudentNoProblem::Numeric);
    }
    if s.chars().count() > 40 || s.chars().any(|c| c.is_control() || c == ' ') {
        return Err(StudentNoProblem::Characters);
    }
    Ok(s)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StudentNoProblem {
    Empty,
    Numeric,
    Characters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_odd_spaces_fold_and_rare_characters_survive() {
        assert_eq!(normalise("\u{3000}张\u{a0}\u{a0}三 "), "张 三");
        assert_eq!(normalise("２０２３ＡＢ"), "2023AB");
        for rare in ["䶮", "𠮷", "㒲", "龑"] {
            assert_eq!(normalise(rare).as_bytes(), rare.as_bytes());
        }
    }

    #[test]
    fn student_numbers_keep_leading_zeros_and_refuse_spreadsheet_floats() {
        assert_eq!(student_no(" 02411001 ").unwrap(), "02411001");
        assert_eq!(student_no("０２４１１００１").unwrap(), "02411001");
        assert_eq!(student_no("2411001.0"), Err(StudentNoProblem::Numeric));
        assert_eq!(student_no("2.411E+06"), Err(StudentNoProblem::Numeric));
        assert_eq!(student_no(""), Err(StudentNoProblem::Empty));
        assert_eq!(student_no("024 11001"), Err(StudentNoProblem::Characters));
    }
}
