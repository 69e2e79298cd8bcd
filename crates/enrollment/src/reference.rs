//! National code tables the record is checked against, compiled in (the product must run
//! without the shared data folder): ethnic groups (GB 3304) and political status (GB/T 4762).
//! Rosters write political status by full or short name; both are accepted and the short name
//! is what the record keeps, so statistics group one status under one name.

const ETHNIC: &str = include_str!("../reference/ethnic-groups-gb3304.csv");
const POLITICAL: &str = include_str!("../reference/political-status-gbt4762.csv");

fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').collect())
}

/// The GB 3304 name for an ethnic group, accepting the name or its two-digit code.
pub fn ethnicity(value: &str) -> Option<&'static str> {
    rows(ETHNIC).find(|r| r[0] == value || r[1] == value).map(|r| r[1])
}

/// The short GB/T 4762 name for a political status given by full name, short name or code.
pub fn political_status(value: &str) -> Option<&'static str> {
    rows(POLITICAL).find(|r| r.contains(&value)).map(|r| r[2])
}

/// Every ethnic group name, in code order (for filters).
pub fn ethnic_names() -> Vec<&'static str> {
    rows(ETHNIC).map(|r| r[1]).collect()
}

/// Every political status short name, in code order (for filters).
pub fn political_names() -> Vec<&'static str> {
    rows(POLITICAL).map(|r| r[2]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_short_forms_are_recognised() {
        assert_eq!(ethnicity("汉族"), Some("汉族"));
        assert_eq!(ethnicity("01"), Some("汉族"));
        assert_eq!(ethnicity("汉"), None);
        assert_eq!(ethnic_names().len(), 58);
        assert_eq!(political_status("中国共产主义青年团团员"), Some("共青团员"));
        assert_eq!(political_status("共青团员"), Some("共青团员"));
        assert_eq!(political_status("13"), Some("群众"));
        assert_eq!(political_status("团员"), None);
    }
}
