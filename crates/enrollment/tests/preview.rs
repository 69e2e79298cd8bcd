//! The import dry run on small rosters made here: each rule reports the row, the column, the
//! value and a Chinese explanation, and good rows come through normalised.

use xg_enrollment::preview::{Preview, preview};
use xg_enrollment::sheet::read_csv;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid ID number for region 110101, the given birth date and sequence (odd = male).
fn id(birth: &str, seq: &str) -> String {
    let first17 = format!("110101{birth}{seq}");
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

fn run(rows: &[String]) -> Preview {
    let csv = format!("学号,姓名,性别,出生日期,身份证号,班级\n{}\n", rows.join("\n"));
    preview(&read_csv(csv.as_bytes()).unwrap())
}

#[test]
fn good_rows_come_through_normalised() {
    let p = run(&[
        format!("０００１,张䶮,男,2000/1/1,{},高一(1)班", id("20000101", "001")),
        format!(" 0002 ,李𠮷,女,2000年1月2日,{},高一(1)班", id("20000102", "002")),
    ]);
    assert_eq!(p.problems, []);
    assert_eq!(p.drafts.len(), 2);
    assert_eq!(p.drafts[0].student_no, "0001");
    assert_eq!(p.drafts[1].name, "李𠮷");
    assert!(!p.drafts[1].male);
}

#[test]
fn every_bad_row_is_reported_with_row_column_value_and_reason() {
    let good = id("20000101", "001");
    let p = run(&[
        format!("0001,张三,男,2000-01-01,{good},一班"),
        format!("0002,,男,2000-01-01,{},一班", id("20000101", "003")),
        "0003,李四,女,2000-01-01,1.10101E+17,一班".to_owned(),
        format!("0004,王五,女,2005-9-31,{},一班", id("20050901", "002")),
        format!("0005,赵六,女,2000-01-01,{},一班", id("20000101", "013")),
        format!("0001,钱七,男,2000-01-03,{},一班", id("20000103", "005")),
        format!("0007,孙八,男,2000-01-01,{good},一班"),
        format!("2411001.0,周九,男,2000-01-04,{},一班", id("20000104", "007")),
    ]);
    let seen: Vec<(usize, &str)> = p.problems.iter().map(|e| (e.row, e.column.as_str())).collect();
    assert_eq!(
        seen,
        [
            (3, "姓名"),
            (4, "身份证号"),
            (5, "出生日期"),
            (6, "性别"),
            (7, "学号"),
            (8, "身份证号"),
            (9, "学号"),
        ],
        "{:#?}",
        p.problems
    );
    let message = |row: usize| &p.problems.iter().find(|e| e.row == row).unwrap().message;
    assert!(message(4).contains("转成了数字"));
    assert!(message(6).contains("性别与身份证号不一致"));
    assert!(message(7).contains("与第 2 行重复"));
    let duplicate_id = p.problems.iter().find(|e| e.row == 8).unwrap();
    assert_eq!(duplicate_id.value, format!("1101**********{}", &good[14..]), "IDs are masked");
    assert!(message(5).contains("日期不存在"));
    assert_eq!(p.drafts.len(), 1, "only the first row is clean");
}

#[test]
fn a_roster_without_required_columns_is_refused_before_any_row() {
    let p = preview(&read_csv("姓名,性别\n张三,男\n".as_bytes()).unwrap());
    let columns: Vec<&str> = p.problems.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["身份证号", "班级", "学号"]);
    assert!(p.drafts.is_empty());
}
