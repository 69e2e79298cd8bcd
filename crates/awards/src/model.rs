//! The awards vocabulary: categories, payment methods, money in fen, the national reference
//! items, and masking bank accounts.

/// (key, label)
pub const CATEGORIES: &[(&str, &str)] =
    &[("scholarship", "奖学金"), ("title", "荣誉称号"), ("grant", "助学金")];

pub const METHODS: &[(&str, &str)] =
    &[("bank_transfer", "银行转账"), ("campus_card", "校园卡"), ("cash", "现金")];

pub fn label(table: &[(&'static str, &'static str)], key: &str) -> &'static str {
    table.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("")
}

/// A national reference item: name, category, yuan per year, exclusive group, criteria.
pub struct Reference {
    pub name: &'static str,
    pub code: &'static str,
    pub category: &'static str,
    pub yuan: i64,
    pub exclusive_group: Option<&'static str>,
    pub criteria: &'static str,
}

/// The 2024 national standards for undergraduate and vocational college students (财政部、教育部
/// 2024 adjustment). The national scholarship and the national encouragement scholarship are
/// mutually exclusive in one academic year; either combines with the national grant.
pub const NATIONAL: &[Reference] = &[
    Reference {
        name: "国家奖学金",
        code: "national_scholarship",
        category: "scholarship",
        yuan: 10000,
        exclusive_group: Some("national_merit"),
        criteria: "二年级及以上；学习成绩和综合考评排名均在前 10%（或前 30% 且有突出表现）。",
    },
    Reference {
        name: "国家励志奖学金",
        code: "national_encouragement",
        category: "scholarship",
        yuan: 6000,
        exclusive_group: Some("national_merit"),
        criteria: "二年级及以上；品学兼优；已通过家庭经济困难认定。",
    },
    Reference {
        name: "国家助学金",
        code: "national_grant",
        category: "grant",
        yuan: 3700,
        exclusive_group: None,
        criteria: "已通过家庭经济困难认定；按认定档次分档资助（平均标准）。",
    },
];

/// Parses an amount in yuan ("3700", "3700.5", "3,700.00") into fen.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() || whole.len() > 7 || frac.len() > 2 {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac_fen: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole.parse::<i64>().ok()? * 100 + frac_fen)
}

/// Fen as yuan with two decimals.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// A bank account number: 12 to 30 digits, spaces ignored.
pub fn parse_account(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ((12..=30).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(digits)
}

/// Shows the last four digits only.
pub fn mask_account(digits: &str) -> String {
    let tail: String = digits.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("**** **** {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_become_exact_fen() {
        assert_eq!(parse_yuan("10000"), Some(1_000_000));
        assert_eq!(parse_yuan("3,700.5"), Some(370_050));
        assert_eq!(parse_yuan(" 0.05 "), Some(5));
        for bad in ["", "-1", "1.234", "abc", "1e5", "99999999"] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
        assert_eq!(yuan(370_050), "3700.50");
    }

    #[test]
    fn bank_accounts_are_digits_and_shown_masked() {
        assert_eq!(
            parse_account("6222 0212 3456 7890 123").as_deref(),
            Some("6222021234567890123")
        );
        assert_eq!(parse_account("6222-0212"), None);
        assert_eq!(mask_account("6222021234567890123"), "**** **** 0123");
    }

    #[test]
    fn the_national_items_match_the_reference_table() {
        let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/reference/national-student-aid-2024.csv");
        let Ok(text) = std::fs::read_to_string(&csv) else {
            // The reference folder sits next to the repository in CI; the amounts above are the
            // published 2024 standards either way.
            assert_eq!(NATIONAL.iter().map(|r| r.yuan).collect::<Vec<_>>(), [10000, 6000, 3700]);
            return;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let item = NATIONAL.iter().find(|r| r.name == cols[0]).expect(cols[0]);
            assert_eq!(item.yuan.to_string(), cols[2], "{}", cols[0]);
        }
        assert_eq!(text.lines().count() - 1, NATIONAL.len());
    }
}
