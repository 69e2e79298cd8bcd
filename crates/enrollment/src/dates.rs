//! Dates as rosters write them: ISO (`2005-09-01`), slashes (`2005/9/1`), dots (`2005.09.01`),
//! compact (`20050901`), Chinese (`2005年9月1日`), and spreadsheet serial numbers in both the
//! 1900 and the 1904 date systems. Impossible dates (`2005-9-31`) are refused, never rolled
//! over; an empty cell is no date, not an error.

use time::{Date, Duration, Month};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateSystem {
    /// Excel's default: serial 1 is 1900-01-01, and it counts a 29 February 1900 that never was.
    Excel1900,
    /// Older Mac workbooks: serial 0 is 1904-01-01.
    Excel1904,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateProblem {
    /// Not a form we read.
    Unreadable,
    /// A real form, but the day does not exist (`2005-9-31`).
    Impossible,
}

fn ymd(year: i32, month: u32, day: u32) -> Result<Date, DateProblem> {
    let month = Month::try_from(u8::try_from(month).map_err(|_| DateProblem::Impossible)?)
        .map_err(|_| DateProblem::Impossible)?;
    let day = u8::try_from(day).map_err(|_| DateProblem::Impossible)?;
    if !(1900..=2100).contains(&year) {
        return Err(DateProblem::Impossible);
    }
    Date::from_calendar_date(year, month, day).map_err(|_| DateProblem::Impossible)
}

/// A spreadsheet serial date (whole days; a time part is ignored).
pub fn from_serial(serial: f64, system: DateSystem) -> Result<Date, DateProblem> {
    if !serial.is_finite() || !(1.0..=100_000.0).contains(&serial) {
        return Err(DateProblem::Unreadable);
    }
    let days = serial.trunc() as i64;
    match system {
        DateSystem::Excel1904 => {
            let base = Date::from_calendar_date(1904, Month::January, 1).expect("valid date");
            Ok(base + Duration::days(days))
        }
        DateSystem::Excel1900 => {
            if days == 60 {
                // The 29 February 1900 that Excel counts but the calendar does not.
                return Err(DateProblem::Impossible);
            }
            let base = Date::from_calendar_date(1899, Month::December, 31).expect("valid date");
            let shift = if days > 60 { days - 1 } else { days };
            Ok(base + Duration::days(shift))
        }
    }
}

/// Reads a date written as text. `Ok(None)` for an empty cell.
pub fn parse_text(raw: &str) -> Result<Option<Date>, DateProblem> {
    let s = crate::cells::normalise(raw);
    if s.is_empty() {
        return Ok(None);
    }
    let numbers: Vec<&str> =
        s.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    let parsed = match numbers.as_slice() {
        [compact] if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) => {
            let n = |r: std::ops::Range<usize>| compact[r].parse::<u32>().unwrap_or(0);
            ymd(n(0..4) as i32, n(4..6), n(6..8))
        }
        [y, m, d]
            if y.len() == 4 && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            let (y, m, d) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>());
            match (y, m, d) {
                (Ok(y), Ok(m), Ok(d)) => ymd(y, m, d),
                _ => Err(DateProblem::Unreadable),
            }
        }
        _ => Err(DateProblem::Unreadable),
    };
    parsed.map(Some)
}

/// Reads a year and month written without a day (`2026-09`, `2026/9`, `2026.09`, `202609`,
/// `2026年9月`), as rosters write 入学年月. Returns `YYYY-MM`.
pub fn parse_year_month(raw: &str) -> Option<String> {
    let s = crate::cells::normalise(raw);
    let parts: Vec<&str> = s.split(['-', '/', '.', '年', '月']).filter(|p| !p.is_empty()).collect();
    let (y, m) = match parts.as_slice() {
        [compact] if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) => {
            (compact[..4].parse::<i32>().ok()?, compact[4..].parse::<u8>().ok()?)
        }
        [y, m] if y.len() == 4 && m.len() <= 2 => (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?),
        _ => return None,
    };
    ((1900..=2100).contains(&y) && (1..=12).contains(&m)).then(|| format!("{y:04}-{m:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn the_forms_people_write_all_read_the_same() {
        for text in
            ["2005-09-01", "2005/9/1", "2005.09.01", "20050901", "2005年9月1日", " ２００５-９-１ "]
        {
            assert_eq!(parse_text(text), Ok(Some(d(2005, 9, 1))), "{text}");
        }
        assert_eq!(parse_text(""), Ok(None));
        assert_eq!(parse_text("\u{3000}"), Ok(None));
    }

    #[test]
    fn impossible_and_unreadable_dates_are_refused_not_rolled_over() {
        assert_eq!(parse_text("2005-9-31"), Err(DateProblem::Impossible));
        assert_eq!(parse_text("2005-02-29"), Err(DateProblem::Impossible));
        assert_eq!(parse_text("20051301"), Err(DateProblem::Impossible));
        assert_eq!(parse_text("9/1/2005"), Err(DateProblem::Unreadable));
        assert_eq!(parse_text("下周一"), Err(DateProblem::Unreadable));
        assert_eq!(parse_text("2004-02-29"), Ok(Some(d(2004, 2, 29))));
    }

    #[test]
    fn year_months_as_rosters_write_them() {
        for text in ["2026-09", "2026/9", "2026.09", "202609", "2026年9月"] {
            assert_eq!(parse_year_month(text).as_deref(), Some("2026-09"), "{text}");
        }
        assert_eq!(parse_year_month("2026-13"), None);
        assert_eq!(parse_year_month("2026-09-01"), None);
    }

    #[test]
    fn spreadsheet_serials_in_both_date_systems() {
        assert_eq!(from_serial(38596.0, DateSystem::Excel1900), Ok(d(2005, 9, 1)));
        assert_eq!(from_serial(37134.0, DateSystem::Excel1904), Ok(d(2005, 9, 1)));
        assert_eq!(from_serial(1.0, DateSystem::Excel1900), Ok(d(1900, 1, 1)));
        assert_eq!(from_serial(61.0, DateSystem::Excel1900), Ok(d(1900, 3, 1)));
        assert_eq!(from_serial(60.0, DateSystem::Excel1900), Err(DateProblem::Impossible));
        assert_eq!(from_serial(38596.75, DateSystem::Excel1900), Ok(d(2005, 9, 1)), "time ignored");
        assert_eq!(from_serial(-3.0, DateSystem::Excel1900), Err(DateProblem::Unreadable));
    }
}
