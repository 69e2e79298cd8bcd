//! The dry run of an import: every row of a roster checked, and every problem reported with the
//! row number, the column, the value and what to do, in Chinese. Nothing is written here; a
//! commit later takes only a preview without problems, so an import lands whole or not at all.

use std::collections::HashMap;

use time::Date;
use xg_kernel::i18n::Catalog;
use xg_kernel::idnumber::IdNumber;

use crate::cells::{StudentNoProblem, normalise, student_no};
use crate::columns::{Field, field_for, label};
use crate::dates::{DateProblem, DateSystem, from_serial, parse_text, parse_year_month};
use crate::reference;
use crate::sheet::{Cell, Table};

/// One student as read from a row, every value already checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub row: usize,
    pub student_no: String,
    pub name: String,
    pub male: bool,
    pub birth_date: Date,
    pub id_number: IdNumber,
    pub class: String,
    /// Every other recognised column, normalised, for the fields the module stores later.
    pub other: HashMap<Field, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Preview {
    pub drafts: Vec<Draft>,
    pub problems: Vec<RowProblem>,
}

/// Columns a roster must have. A file without a student number column (the national K-12
/// layout) uses the national student-status number instead.
const REQUIRED: &[Field] = &[Field::Name, Field::Gender, Field::IdNumber, Field::Class];

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => normalise(t),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Empty => String::new(),
    }
}

/// A date cell: a real spreadsheet date, a serial number, or text in the forms people write.
fn cell_date(cell: &Cell) -> Result<Option<Date>, DateProblem> {
    match cell {
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) => from_serial(*n, DateSystem::Excel1900).map(Some),
        other => parse_text(&text(other)),
    }
}

fn date_message(m: &Catalog, p: DateProblem) -> String {
    let key = if p == DateProblem::Impossible {
        "import.date_impossible"
    } else {
        "import.date_unreadable"
    };
    m.t(key).to_owned()
}

/// Digits with the separators people use in phone numbers; 7 to 20 characters.
fn plausible_phone(value: &str) -> bool {
    (7..=20).contains(&value.chars().count())
        && value.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c))
        && value.chars().filter(char::is_ascii_digit).count() >= 7
}

pub fn preview(table: &Table) -> Preview {
    let m = Catalog::zh();
    let mut out = Preview::default();
    let columns: HashMap<Field, usize> = table
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| field_for(h).map(|f| (f, i)))
        .collect();
    let number_field =
        if columns.contains_key(&Field::StudentNo) { Field::StudentNo } else { Field::NationalNo };
    let mut missing: Vec<&Field> = REQUIRED.iter().filter(|f| !columns.contains_key(f)).collect();
    if !columns.contains_key(&number_field) {
        missing.push(&Field::StudentNo);
    }
    if !missing.is_empty() {
        for f in missing {
            out.problems.push(RowProblem {
                row: 1,
                column: label(*f).to_owned(),
                value: String::new(),
                message: m.t("import.missing_column").to_owned(),
            });
        }
        return out;
    }
    let header = |f: Field| table.headers[columns[&f]].clone();
    let mut seen_numbers: HashMap<String, usize> = HashMap::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &table.rows {
        let mut problems = Vec::new();
        let mut fail = |f: Field, value: String, message: String| {
            problems.push(RowProblem { row: *row, column: header(f), value, message });
        };
        let cell = |f: Field| &cells[columns[&f]];

        let number = match student_no(&text(cell(number_field))) {
            Ok(n) => Some(n),
            Err(p) => {
                let key = match p {
                    StudentNoProblem::Empty => "import.empty",
                    StudentNoProblem::Numeric => "import.student_no_numeric",
                    StudentNoProblem::Characters => "import.student_no_characters",
                };
                fail(number_field, text(cell(number_field)), m.t(key).to_owned());
                None
            }
        };
        let name = text(cell(Field::Name));
        if name.is_empty() {
            fail(Field::Name, name.clone(), m.t("import.empty").to_owned());
        }
        let id = match IdNumber::parse(&text(cell(Field::IdNumber))) {
            Ok(id) => Some(id),
            Err(p) => {
                fail(Field::IdNumber, text(cell(Field::IdNumber)), p.message_zh());
                None
            }
        };
        let gender = text(cell(Field::Gender));
        let male = match gender.as_str() {
            "男" | "男性" => Some(true),
            "女" | "女性" => Some(false),
            _ => {
                fail(Field::Gender, gender.clone(), m.t("import.gender").to_owned());
                None
            }
        };
        let birth = match columns.get(&Field::BirthDate).map(|&i| cell_date(&cells[i])) {
            Some(Ok(d)) => d,
            Some(Err(p)) => {
                fail(Field::BirthDate, text(cell(Field::BirthDate)), date_message(m, p));
                None
            }
            None => None,
        };
        if let Some(id) = &id {
            if let (Some(b), Some(from_id)) = (birth, id.birth_date())
                && b != from_id
            {
                fail(
                    Field::BirthDate,
                    b.to_string(),
                    m.fmt("import.birth_mismatch", &[("id_date", &from_id.to_string())]),
                );
            }
            if let Some(male) = male
                && male != id.is_male()
            {
                fail(Field::Gender, gender.clone(), m.t("import.gender_mismatch").to_owned());
            }
        }
        let class = text(cell(Field::Class));
        if class.is_empty() {
            fail(Field::Class, class.clone(), m.t("import.empty").to_owned());
        }
        if let Some(n) = &number
            && let Some(first) = seen_numbers.insert(n.clone(), *row)
        {
            fail(
                number_field,
                n.clone(),
                m.fmt("import.duplicate", &[("row", &first.to_string())]),
            );
        }
        if let Some(id) = &id
            && let Some(first) = seen_ids.insert(id.as_str().to_owned(), *row)
        {
            fail(
                Field::IdNumber,
                id.masked(),
                m.fmt("import.duplicate", &[("row", &first.to_string())]),
            );
        }

        let mut other: HashMap<Field, String> = columns
            .iter()
            .filter(|(f, _)| {
                !matches!(f, Field::Name | Field::Gender | Field::IdNumber | Field::Class)
            })
            .map(|(f, &i)| (*f, text(&cells[i])))
            .collect();
        if let Some(&i) = columns.get(&Field::EntryDate) {
            // 入学年月 is often a month only; it stays a month rather than gaining a day.
            match (cell_date(&cells[i]), parse_year_month(&text(&cells[i]))) {
                (_, Some(month)) => {
                    other.insert(Field::EntryDate, month);
                }
                (Ok(d), None) => {
                    other.insert(Field::EntryDate, d.map(|d| d.to_string()).unwrap_or_default());
                }
                (Err(p), None) => fail(Field::EntryDate, text(&cells[i]), date_message(m, p)),
            }
        }
        for (field, canonical, key) in [
            (
                Field::Ethnicity,
                reference::ethnicity as fn(&str) -> Option<&'static str>,
                "import.ethnicity",
            ),
            (Field::Political, reference::political_status, "import.political"),
        ] {
            if let Some(value) = other.get(&field).filter(|v| !v.is_empty()).cloned() {
                match canonical(&value) {
                    Some(name) => {
                        other.insert(field, name.to_owned());
                    }
                    None => fail(field, value, m.t(key).to_owned()),
                }
            }
        }
        for field in [Field::Phone, Field::GuardianPhone] {
            if let Some(value) = other.get(&field).filter(|v| !v.is_empty())
                && !plausible_phone(value)
            {
                fail(field, value.clone(), m.t("import.phone").to_owned());
            }
        }

        if problems.is_empty()
            && let (Some(student_no), Some(id_number), Some(male)) = (number, id, male)
        {
            let birth_date =
                birth.or_else(|| id_number.birth_date()).expect("validated IDs carry a date");
            out.drafts.push(Draft {
                row: *row,
                student_no,
                name,
                male,
                birth_date,
                id_number,
                class,
                other,
            });
        } else {
            out.problems.extend(problems);
        }
    }
    out
}
