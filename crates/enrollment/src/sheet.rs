//! Reading a roster file into a header and rows: `.xlsx` through calamine, `.csv` through the
//! csv crate after encoding detection. Title rows above the header (merged cells with the
//! school's name and the like) are skipped by looking for the first row that names several
//! known fields; trailing empty rows are dropped. Row numbers are the ones the user sees in
//! the spreadsheet, so error messages point at the right line.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use time::{Date, Month};

use crate::columns::known_headers;
use crate::encoding;

/// A cell as the file holds it; interpreting it is the caller's job.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A spreadsheet date, already resolved in the workbook's own date system.
    Date(Date),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    /// (row number as shown in the spreadsheet, cells)
    pub rows: Vec<(usize, Vec<Cell>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SheetProblem {
    /// Not a readable workbook or CSV.
    Unreadable(String),
    /// No row in the first ten names at least two known columns.
    NoHeader,
}

const HEADER_SEARCH_ROWS: usize = 10;

fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Empty => String::new(),
    }
}

fn into_table(grid: Vec<Vec<Cell>>) -> Result<Table, SheetProblem> {
    let header_at = grid
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|row| known_headers(&row.iter().map(text_of).collect::<Vec<_>>()) >= 2)
        .ok_or(SheetProblem::NoHeader)?;
    let headers: Vec<String> =
        grid[header_at].iter().map(|c| text_of(c).trim().to_owned()).collect();
    let mut rows: Vec<(usize, Vec<Cell>)> = grid
        .into_iter()
        .enumerate()
        .skip(header_at + 1)
        .map(|(i, mut cells)| {
            cells.resize(headers.len(), Cell::Empty);
            (i + 1, cells)
        })
        .collect();
    while rows.last().is_some_and(|(_, cells)| {
        cells.iter().all(|c| c == &Cell::Empty || text_of(c).trim().is_empty())
    }) {
        rows.pop();
    }
    Ok(Table { headers, rows })
}

pub fn read_xlsx(bytes: &[u8]) -> Result<Table, SheetProblem> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| SheetProblem::Unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| SheetProblem::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| SheetProblem::Unreadable(e.to_string()))?;
    let grid = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => Cell::Empty,
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        Cell::Text(s.clone())
                    }
                    Data::Int(i) => Cell::Number(*i as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    Data::DateTime(dt) => {
                        let (y, m, d, ..) = dt.to_ymd_hms_milli();
                        Month::try_from(m)
                            .ok()
                            .and_then(|m| Date::from_calendar_date(i32::from(y), m, d).ok())
                            .map_or(Cell::Number(dt.as_f64()), Cell::Date)
                    }
                    Data::Error(e) => Cell::Text(format!("#{e:?}")),
                })
                .collect()
        })
        .collect();
    into_table(grid)
}

pub fn read_csv(bytes: &[u8]) -> Result<Table, SheetProblem> {
    let decoded = encoding::decode(bytes)
        .map_err(|_| SheetProblem::Unreadable("unknown text encoding".into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());
    let mut grid = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| SheetProblem::Unreadable(e.to_string()))?;
        grid.push(
            record
                .iter()
                .map(|v| if v.is_empty() { Cell::Empty } else { Cell::Text(v.to_owned()) })
                .collect(),
        );
    }
    into_table(grid)
}
