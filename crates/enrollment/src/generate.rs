//! A realistic roster generator, for the demo district and the benchmarks: common surnames and
//! given names, valid ID numbers (real region codes, birth dates that fit the grade, the check
//! digit, gender in the sequence digit), ethnicity and political status in national
//! proportions, phone numbers, and class placement. The output is rows in the import layout,
//! so generated students enter through the same import as a school's own roster.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::export::HEADERS;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "子", "涵", "浩", "宇", "轩", "梓", "欣", "怡", "晨", "博",
    "文", "雨", "思", "佳", "嘉", "睿", "一", "诺", "天", "瑞", "可", "馨", "若", "泽", "昊", "然",
    "琪", "悦",
];
/// County-level region codes (some since renamed; the ID rules still accept them).
const REGIONS: &[&str] = &[
    "110101", "110105", "120101", "130102", "140105", "210102", "220102", "310101", "320102",
    "330102", "340102", "350102", "360102", "370102", "410102", "420102", "430102", "440103",
    "450102", "500101", "510104", "520102", "530102", "610102", "620102",
];
const MINORITIES: &[&str] =
    &["回族", "满族", "蒙古族", "壮族", "土家族", "苗族", "维吾尔族", "藏族"];
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A class to fill: its grade label (for the roster's 年级 column), its name as in the org
/// tree, and the year its students entered.
#[derive(Clone, Debug)]
pub struct ClassSpec {
    pub grade: String,
    pub name: String,
    pub entry_year: i32,
    /// Typical age at entry (15 for senior high, 18 for college).
    pub entry_age: i32,
}

/// The 18-digit ID for a region, a birth date `YYYYMMDD` and a three-digit sequence.
pub fn id_number(region: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{region}{birth}{seq:03}");
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// `per_class` students for each class, numbered from `first_no` upwards (8 digits, leading
/// zeros kept). The same seed gives the same roster.
pub fn roster(
    classes: &[ClassSpec],
    per_class: usize,
    first_no: u64,
    seed: u64,
) -> Vec<Vec<String>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(classes.len() * per_class);
    let mut no = first_no;
    for class in classes {
        for _ in 0..per_class {
            let male = rng.random_bool(0.51);
            let name: String = std::iter::once(pick(&mut rng, SURNAMES))
                .chain((0..rng.random_range(1..=2)).map(|_| pick(&mut rng, GIVEN)))
                .collect();
            let year = class.entry_year - class.entry_age - i32::from(rng.random_bool(0.3));
            let (month, day) = (rng.random_range(1..=12u32), rng.random_range(1..=28u32));
            let birth = format!("{year:04}{month:02}{day:02}");
            let seq = rng.random_range(0..500u32) * 2 + u32::from(male);
            let id = id_number(pick(&mut rng, REGIONS), &birth, seq);
            let ethnicity =
                if rng.random_bool(0.91) { "汉族" } else { pick(&mut rng, MINORITIES) };
            let political = match rng.random_range(0..100) {
                0..=2 if class.entry_age >= 18 => "中共预备党员",
                0..=59 => "共青团员",
                _ => "群众",
            };
            let phone = format!(
                "1{}{:09}",
                pick(&mut rng, &["3", "5", "7", "8", "9"]),
                rng.random_range(0..1_000_000_000u64)
            );
            let guardian = format!("13{:09}", rng.random_range(0..1_000_000_000u64));
            let mut row = vec![String::new(); HEADERS.len() - 1];
            let set = |row: &mut Vec<String>, header: &str, value: String| {
                let i = HEADERS.iter().position(|h| *h == header).expect("a known header");
                row[i] = value;
            };
            set(&mut row, "学号", format!("{no:08}"));
            set(&mut row, "姓名", name);
            set(&mut row, "性别", if male { "男" } else { "女" }.to_owned());
            set(&mut row, "出生日期", format!("{year:04}-{month:02}-{day:02}"));
            set(&mut row, "民族", ethnicity.to_owned());
            set(&mut row, "身份证件类型", "居民身份证".to_owned());
            set(&mut row, "身份证号", id);
            set(&mut row, "政治面貌", political.to_owned());
            set(&mut row, "年级", class.grade.clone());
            set(&mut row, "班级", class.name.clone());
            set(&mut row, "学习形式", "普通全日制".to_owned());
            set(&mut row, "入学日期", format!("{}-09", class.entry_year));
            set(&mut row, "联系电话", phone);
            set(&mut row, "家长电话", guardian);
            rows.push(row);
            no += 1;
        }
    }
    rows
}

/// The generated roster as a CSV file in the import layout.
pub fn roster_csv(classes: &[ClassSpec], per_class: usize, first_no: u64, seed: u64) -> Vec<u8> {
    let rows = roster(classes, per_class, first_no, seed);
    crate::export::csv(&HEADERS[..HEADERS.len() - 1], &rows).expect("writing CSV to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::preview;
    use crate::sheet::read_csv;

    fn classes() -> Vec<ClassSpec> {
        (1..=3)
            .map(|i| ClassSpec {
                grade: "2026级".into(),
                name: format!("高一({i})班"),
                entry_year: 2026,
                entry_age: 15,
            })
            .collect()
    }

    #[test]
    fn a_generated_roster_passes_every_import_check() {
        let csv = roster_csv(&classes(), 200, 1, 7);
        let checked = preview(&read_csv(&csv).unwrap());
        assert_eq!(checked.problems, []);
        assert_eq!(checked.drafts.len(), 600);
        assert_eq!(checked.drafts[0].student_no, "00000001");
        let males = checked.drafts.iter().filter(|d| d.male).count();
        assert!((250..350).contains(&males), "{males} of 600 male");
    }

    #[test]
    fn the_same_seed_gives_the_same_roster() {
        assert_eq!(roster(&classes(), 5, 1, 42), roster(&classes(), 5, 1, 42));
        assert_ne!(roster(&classes(), 5, 1, 42), roster(&classes(), 5, 1, 43));
    }
}
