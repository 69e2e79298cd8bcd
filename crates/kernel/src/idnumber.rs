//! Resident identity numbers (GB 11643): 17 digits and a check character. Parsing normalises
//! what people and spreadsheets do to them (surrounding and odd spaces, full-width digits, a
//! lower-case `x`) and refuses everything else with a reason: a number a spreadsheet turned into
//! scientific notation or truncated, a wrong length, a wrong check character, a date that does
//! not exist. Region codes are not checked against a list, because codes that no longer exist
//! still appear on valid cards. A legacy 15-digit number is refused with its 18-digit form
//! suggested, never upgraded silently.

use time::{Date, Month};

use crate::i18n::Catalog;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdProblem {
    Empty,
    /// `1.10105E+17` and the like: a spreadsheet stored the number as a float.
    Scientific,
    /// Only digits and a final X are allowed.
    Characters,
    /// A legacy 15-digit number, with its 18-digit form for the user to confirm.
    Legacy {
        upgraded: String,
    },
    Length(usize),
    /// The check character does not match; `truncated` if the tail is zeros (spreadsheets do
    /// that to long numbers).
    CheckDigit {
        truncated: bool,
    },
    /// The birth date inside the number does not exist.
    Date,
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// Full-width digits and letters to ASCII; every kind of space removed.
fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'Ｘ' | 'ｘ' | 'x' => 'X',
            other => other,
        })
        .collect()
}

impl IdNumber {
    pub fn parse(raw: &str) -> Result<Self, IdProblem> {
        let s = normalise(raw);
        if s.is_empty() {
            return Err(IdProblem::Empty);
        }
        if s.contains(['E', 'e', '+']) || s.contains('.') {
            return Err(IdProblem::Scientific);
        }
        let body_ok = s
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (b == b'X' && i == s.len() - 1));
        if !body_ok {
            return Err(IdProblem::Characters);
        }
        if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            let first17 = format!("{}19{}", &s[..6], &s[6..]);
            let upgraded = format!("{first17}{}", char::from(check_char(first17.as_bytes())));
            return Err(IdProblem::Legacy { upgraded });
        }
        if s.len() != 18 {
            return Err(IdProblem::Length(s.len()));
        }
        let bytes = s.as_bytes();
        if bytes[..17].iter().any(|b| !b.is_ascii_digit()) {
            return Err(IdProblem::Characters);
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(IdProblem::CheckDigit { truncated: s.ends_with("000") });
        }
        let id = Self(s);
        id.birth_date().ok_or(IdProblem::Date)?;
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Option<Date> {
        let year: i32 = self.0[6..10].parse().ok()?;
        let month: u8 = self.0[10..12].parse().ok()?;
        let day: u8 = self.0[12..14].parse().ok()?;
        let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
        (1900..=2100).contains(&year).then_some(date)
    }

    /// The 17th digit is odd for men and even for women.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// `1101**********0017`: enough to recognise, not enough to use.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }
}

impl IdProblem {
    /// What is wrong and how to fix it, in Chinese, for import previews and forms.
    pub fn message_zh(&self) -> String {
        let m = Catalog::zh();
        match self {
            Self::Empty => m.t("idnumber.empty").to_owned(),
            Self::Scientific => m.t("idnumber.scientific").to_owned(),
            Self::Characters => m.t("idnumber.characters").to_owned(),
            Self::Legacy { upgraded } => m.fmt("idnumber.legacy", &[("upgraded", upgraded)]),
            Self::Length(n) => m.fmt("idnumber.length", &[("count", &n.to_string())]),
            Self::CheckDigit { truncated: true } => m.t("idnumber.truncated").to_owned(),
            Self::CheckDigit { truncated: false } => m.t("idnumber.check_digit").to_owned(),
            Self::Date => m.t("idnumber.date").to_owned(),
        }
    }
}

/// `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..3], &chars[chars.len() - 4..]);
    format!(
        "{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(chars.len() - 7),
        tail.iter().collect::<String>()
    )
}

/// The first six characters (province, city) and stars for the rest.
pub fn mask_address(address: &str) -> String {
    let head: String = address.chars().take(6).collect();
    if address.chars().count() <= 6 {
        "*".repeat(address.chars().count())
    } else {
        format!("{head}****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A structurally valid, made-up number: region 110101, born 2000-01-01, male (17th digit 1).
    const VALID: &str = "110101200001010010";

    #[test]
    fn a_valid_number_parses_and_yields_birth_date_gender_and_mask() {
        let id = IdNumber::parse(VALID).unwrap();
        assert_eq!(id.birth_date().unwrap().to_string(), "2000-01-01");
        assert!(id.is_male());
        assert_eq!(id.masked(), "1101**********0010");
    }

    #[test]
    fn spaces_full_width_digits_and_a_lower_case_x_are_normalised() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(
            IdNumber::parse(" 11010519491231002x\u{3000}").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(IdNumber::parse("１１０１０１２０００\u{a0}01010010").unwrap().as_str(), VALID);
    }

    #[test]
    fn what_spreadsheets_do_to_ids_is_refused_with_the_reason() {
        assert_eq!(IdNumber::parse("1.10101E+17"), Err(IdProblem::Scientific));
        assert_eq!(
            IdNumber::parse("110101200001010000"),
            Err(IdProblem::CheckDigit { truncated: true })
        );
        assert_eq!(
            IdNumber::parse("110101200001010018"),
            Err(IdProblem::CheckDigit { truncated: false })
        );
        assert_eq!(IdNumber::parse("11010120000101001"), Err(IdProblem::Length(17)));
        assert_eq!(IdNumber::parse("11010X200001010017"), Err(IdProblem::Characters));
        assert_eq!(IdNumber::parse(""), Err(IdProblem::Empty));
    }

    #[test]
    fn an_impossible_birth_date_is_refused() {
        // 2005-02-30 with a correct check character for those digits.
        let first17 = "11010120050230001";
        let id = format!("{first17}{}", char::from(check_char(first17.as_bytes())));
        assert_eq!(IdNumber::parse(&id), Err(IdProblem::Date));
    }

    #[test]
    fn a_legacy_fifteen_digit_number_is_refused_with_its_upgrade_suggested() {
        let Err(IdProblem::Legacy { upgraded }) = IdNumber::parse("110101000101001") else {
            panic!()
        };
        assert_eq!(upgraded.len(), 18);
        assert!(upgraded.starts_with("11010119000101001"));
        assert!(IdNumber::parse(&upgraded).is_ok(), "the suggestion itself is valid");
        assert!(IdProblem::Legacy { upgraded: upgraded.clone() }.message_zh().contains(&upgraded));
    }

    #[test]
    fn phones_and_addresses_are_masked() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_address("北京市东城区某街道1号"), "北京市东城区****");
    }
}
