//! Which roster column is which. Real exports name the same field many ways (身份证号 /
//! 身份证件号 / 身份证号码); each field lists the names seen in national layouts and school
//! systems. Matching ignores spaces and full-width forms, nothing else.

use crate::cells::normalise;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    StudentNo,
    SeatNo,
    Name,
    Gender,
    BirthDate,
    Ethnicity,
    IdType,
    IdNumber,
    NationalNo,
    Political,
    Grade,
    College,
    MajorCode,
    Major,
    Class,
    StudyLength,
    Level,
    StudyForm,
    EntryMode,
    EntryDate,
    Phone,
    GuardianPhone,
    Address,
}

const SYNONYMS: &[(Field, &[&str])] = &[
    (Field::StudentNo, &["学号", "学生学号", "学籍号(校内)"]),
    (Field::SeatNo, &["班内学号", "班内序号"]),
    (Field::Name, &["姓名", "学生姓名"]),
    (Field::Gender, &["性别"]),
    (Field::BirthDate, &["出生日期", "出生年月", "出生年月日"]),
    (Field::Ethnicity, &["民族"]),
    (Field::IdType, &["身份证件类型", "证件类型"]),
    (Field::IdNumber, &["身份证号", "身份证件号", "身份证号码", "证件号码", "公民身份号码"]),
    (Field::NationalNo, &["全国学籍号", "学籍号", "全国学籍号码"]),
    (Field::Political, &["政治面貌"]),
    (Field::Grade, &["年级"]),
    (Field::College, &["院系", "学院", "系部"]),
    (Field::MajorCode, &["专业代码"]),
    (Field::Major, &["专业名称", "专业"]),
    (Field::Class, &["班级", "班级名称"]),
    (Field::StudyLength, &["学制"]),
    (Field::Level, &["学历层次", "培养层次"]),
    (Field::StudyForm, &["学习形式", "就读方式"]),
    (Field::EntryMode, &["入学方式"]),
    (Field::EntryDate, &["入学日期", "入学年月", "入学时间"]),
    (Field::Phone, &["联系电话", "手机号码", "手机号", "本人电话"]),
    (Field::GuardianPhone, &["家长电话", "监护人电话", "家长联系电话"]),
    (Field::Address, &["现住址", "家庭住址", "家庭地址", "通讯地址"]),
];

/// The column name to show for a field: the first (most common) of its names.
pub fn label(field: Field) -> &'static str {
    SYNONYMS.iter().find(|(f, _)| *f == field).map_or("", |(_, names)| names[0])
}

/// The field a header names, if any.
pub fn field_for(header: &str) -> Option<Field> {
    let h: String = normalise(header).chars().filter(|c| !c.is_whitespace()).collect();
    SYNONYMS.iter().find(|(_, names)| names.contains(&h.as_str())).map(|(f, _)| *f)
}

/// How many cells of a row name known fields: a header row names several.
pub fn known_headers(row: &[String]) -> usize {
    row.iter().filter(|h| field_for(h).is_some()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_full_width_and_spaces_map_to_one_field() {
        for h in ["身份证号", "身份证件号", " 身份证号码 ", "公民身份号码"] {
            assert_eq!(field_for(h), Some(Field::IdNumber), "{h}");
        }
        assert_eq!(field_for("学　号"), Some(Field::StudentNo));
        assert_eq!(field_for("备注"), None);
    }
}
