//! The three real roster layouts in ../shared/data/rosters read cleanly: every header is
//! recognised, every row is there, every ID number validates, and every birth date and gender
//! agrees with its ID number, whatever form the date was written in.

use std::collections::HashMap;

use time::Date;
use xg_enrollment::columns::{Field, field_for};
use xg_enrollment::dates::{DateSystem, from_serial, parse_text};
use xg_enrollment::sheet::{Cell, Table, read_csv, read_xlsx};
use xg_kernel::idnumber::IdNumber;

fn roster(name: &str) -> Vec<u8> {
    let path = format!("{}/../../../shared/data/rosters/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the shared data sits next to the repository)"))
}

fn columns(table: &Table) -> HashMap<Field, usize> {
    let mut map = HashMap::new();
    for (i, header) in table.headers.iter().enumerate() {
        let field = field_for(header).unwrap_or_else(|| panic!("unrecognised header {header}"));
        assert!(map.insert(field, i).is_none(), "two columns for {field:?}");
    }
    map
}

fn date_of(cell: &Cell) -> Date {
    match cell {
        Cell::Date(d) => *d,
        Cell::Number(n) => from_serial(*n, DateSystem::Excel1900).unwrap(),
        Cell::Text(t) => parse_text(t).unwrap_or_else(|e| panic!("{t}: {e:?}")).unwrap(),
        Cell::Empty => panic!("empty date"),
    }
}

fn text_of(cell: &Cell) -> &str {
    match cell {
        Cell::Text(t) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

/// Checks every row's ID number, birth date and gender; returns the number of rows.
fn check_people(table: &Table) -> usize {
    let cols = columns(table);
    for (row, cells) in &table.rows {
        let id = IdNumber::parse(text_of(&cells[cols[&Field::IdNumber]]))
            .unwrap_or_else(|e| panic!("row {row}: {}", e.message_zh()));
        assert_eq!(Some(date_of(&cells[cols[&Field::BirthDate]])), id.birth_date(), "row {row}");
        let male = text_of(&cells[cols[&Field::Gender]]) == "男";
        assert_eq!(male, id.is_male(), "row {row}");
    }
    table.rows.len()
}

#[test]
fn the_senior_high_national_layout_reads_whole() {
    let table = read_xlsx(&roster("senior-high-school.xlsx")).unwrap();
    assert_eq!(check_people(&table), 1620);
}

#[test]
fn the_college_gbk_csv_reads_whole_with_text_student_numbers() {
    let table = read_csv(&roster("college.csv")).unwrap();
    assert_eq!(check_people(&table), 2520);
    let col = columns(&table)[&Field::StudentNo];
    assert!(table.rows.iter().all(|(_, c)| text_of(&c[col]).len() == 13));
}

#[test]
fn the_vocational_hand_kept_sheet_keeps_leading_zeros_and_mixed_dates() {
    let table = read_xlsx(&roster("vocational-school.xlsx")).unwrap();
    assert_eq!(check_people(&table), 720);
    let col = columns(&table)[&Field::StudentNo];
    for (row, cells) in &table.rows {
        let no = text_of(&cells[col]);
        assert!(no.len() == 8 && no.starts_with('0'), "row {row}: {no}");
    }
}

#[test]
fn a_title_row_above_the_header_and_trailing_empty_rows_are_handled() {
    let csv =
        "城东高级中学 2026 年学籍花名册,,\n学号,姓名,性别\n0001,张䶮,男\n0002,李𠮷,女\n,,\n,,\n";
    let table = read_csv(csv.as_bytes()).unwrap();
    assert_eq!(table.headers, ["学号", "姓名", "性别"]);
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.rows[0].0, 3, "row numbers as the user sees them");
    assert_eq!(table.rows[1].1[1], Cell::Text("李𠮷".into()), "rare characters byte-exact");
    assert_eq!(
        read_csv("a,b\n1,2\n".as_bytes()).unwrap_err(),
        xg_enrollment::sheet::SheetProblem::NoHeader
    );
}

#[test]
fn the_import_dry_run_finds_no_problem_in_any_real_roster() {
    let tables = [
        (read_xlsx(&roster("senior-high-school.xlsx")).unwrap(), 1620),
        (read_csv(&roster("college.csv")).unwrap(), 2520),
        (read_xlsx(&roster("vocational-school.xlsx")).unwrap(), 720),
    ];
    for (table, expected) in tables {
        let p = xg_enrollment::preview::preview(&table);
        assert_eq!(p.problems, [], "{:?}", table.headers);
        assert_eq!(p.drafts.len(), expected);
    }
}
