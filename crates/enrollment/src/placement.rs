//! Where each imported student goes in the school's org tree. A roster names the class (and
//! often grade, college and major); the class is found among the units of the deepest level by
//! name or code. With `create_missing`, a class the tree lacks is created along the path the
//! roster's own columns give (e.g. 院系 → 专业 → 班级), so a new school can import before
//! drawing its tree by hand; without it, the row is refused with the reason.

use std::collections::HashMap;

use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::i18n::Catalog;
use xg_tenancy::org::{OrgLevel, OrgUnit, list_levels, list_units};

use crate::cells::normalise;
use crate::columns::Field;
use crate::preview::{Draft, RowProblem};

/// The org path a draft lands on, and the labels statistics group by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub unit_id: Option<Uuid>,
    pub grade: Option<String>,
    pub college: Option<String>,
    pub major: Option<String>,
}

/// A unit to create before the students are inserted, parents first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUnit {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub depth: i16,
    pub code: String,
    pub name: String,
}

pub struct Tree {
    levels: Vec<OrgLevel>,
    units: Vec<OrgUnit>,
    by_id: HashMap<Uuid, usize>,
    /// Units by (depth, normalised name) and by (depth, code): placing a 50,000-row roster in
    /// a tree of a thousand classes must not compare every row with every unit.
    by_label: HashMap<(i16, String), Vec<usize>>,
}

fn roster_field(level_key: &str) -> Option<Field> {
    match level_key {
        "grade" => Some(Field::Grade),
        "college" | "department" => Some(Field::College),
        "major" => Some(Field::Major),
        _ => None,
    }
}

impl Tree {
    pub async fn load(tx: &mut TenantTx) -> Result<Self, sqlx::Error> {
        let levels = list_levels(tx).await?;
        let units = list_units(tx).await?;
        let by_id = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let mut tree = Self { levels, units: Vec::new(), by_id, by_label: HashMap::new() };
        for unit in units {
            tree.push(unit);
        }
        Ok(tree)
    }

    fn push(&mut self, unit: OrgUnit) {
        let i = self.units.len();
        self.by_id.insert(unit.id, i);
        let name = normalise(&unit.name);
        if name != unit.code {
            self.by_label.entry((unit.depth, name)).or_default().push(i);
        }
        self.by_label.entry((unit.depth, unit.code.clone())).or_default().push(i);
        self.units.push(unit);
    }

    fn class_depth(&self) -> i16 {
        self.levels.last().map_or(0, |l| l.depth)
    }

    fn level_key(&self, depth: i16) -> &str {
        self.levels.iter().find(|l| l.depth == depth).map_or("", |l| l.key.as_str())
    }

    fn find(&self, depth: i16, parent: Option<Uuid>, name: &str) -> Vec<&OrgUnit> {
        let Some(found) = self.by_label.get(&(depth, name.to_owned())) else {
            return Vec::new();
        };
        found
            .iter()
            .map(|&i| &self.units[i])
            .filter(|u| parent.is_none() || u.parent_id == parent)
            .collect()
    }

    /// The labels for statistics from a unit's ancestors (by level key), falling back to the
    /// roster's own columns.
    fn labels(&self, unit: Uuid, draft: &Draft) -> Placement {
        let mut p = Placement { unit_id: Some(unit), ..Placement::default() };
        let mut at = self.by_id.get(&unit).map(|&i| &self.units[i]);
        while let Some(u) = at {
            match self.level_key(u.depth) {
                "grade" => p.grade = Some(u.name.clone()),
                "college" | "department" => p.college = Some(u.name.clone()),
                "major" => p.major = Some(u.name.clone()),
                _ => {}
            }
            at = u.parent_id.and_then(|id| self.by_id.get(&id)).map(|&i| &self.units[i]);
        }
        let roster = |f: Field| draft.other.get(&f).filter(|v| !v.is_empty()).cloned();
        p.college = p.college.or_else(|| roster(Field::College));
        p.major = p.major.or_else(|| roster(Field::Major));
        p.grade = p.grade.or_else(|| {
            let entry = roster(Field::EntryDate)?;
            Some(format!("{}级", entry.get(..4)?))
        });
        p
    }

    /// Places every draft. Problems are returned for rows that cannot be placed; new units
    /// (only with `create_missing`) are returned for the caller to insert.
    pub fn place(
        &mut self,
        drafts: &[Draft],
        create_missing: bool,
    ) -> (Vec<Placement>, Vec<NewUnit>, Vec<RowProblem>) {
        let m = Catalog::zh();
        let (mut placed, mut created, mut problems) = (Vec::new(), Vec::new(), Vec::new());
        let depth = self.class_depth();
        for d in drafts {
            let class = normalise(&d.class);
            let found = self.find(depth, None, &class);
            let unit = match found.as_slice() {
                [one] => Some(one.id),
                [] if create_missing => match self.create_path(d, &mut created) {
                    Ok(id) => Some(id),
                    Err(message) => {
                        problems.push(problem(d, message));
                        None
                    }
                },
                [] => {
                    problems.push(problem(d, m.t("import.class_unknown").to_owned()));
                    None
                }
                _ => {
                    problems.push(problem(d, m.t("import.class_ambiguous").to_owned()));
                    None
                }
            };
            placed.push(unit.map(|u| self.labels(u, d)).unwrap_or_default());
        }
        (placed, created, problems)
    }

    /// Walks the levels top-down, reusing units that exist and creating the rest.
    fn create_path(&mut self, d: &Draft, created: &mut Vec<NewUnit>) -> Result<Uuid, String> {
        let m = Catalog::zh();
        let mut parent: Option<Uuid> = None;
        let levels = self.levels.clone();
        for (i, level) in levels.iter().enumerate() {
            let last = i + 1 == levels.len();
            let name = if last {
                normalise(&d.class)
            } else {
                let value = roster_field(&level.key)
                    .and_then(|f| d.other.get(&f))
                    .map(|v| normalise(v))
                    .filter(|v| !v.is_empty())
                    .or_else(|| if level.key == "grade" { entry_grade(d) } else { None })
                    .unwrap_or_default();
                if value.is_empty() {
                    return Err(m.fmt("import.class_path_missing", &[("level", &level.name)]));
                }
                value
            };
            let existing = self.find(level.depth, parent, &name).first().map(|u| u.id);
            let id = match existing {
                Some(id) => id,
                None => {
                    let unit = NewUnit {
                        id: Uuid::new_v4(),
                        parent_id: parent,
                        depth: level.depth,
                        code: format!("AUTO-{}", &Uuid::new_v4().simple().to_string()[..10]),
                        name: name.clone(),
                    };
                    self.push(OrgUnit {
                        id: unit.id,
                        parent_id: unit.parent_id,
                        depth: unit.depth,
                        code: unit.code.clone(),
                        name: unit.name.clone(),
                        leader_id: None,
                        leader_name: None,
                        office_phone: String::new(),
                        office_location: String::new(),
                    });
                    created.push(unit);
                    self.units.last().map(|u| u.id).expect("just pushed")
                }
            };
            parent = Some(id);
        }
        parent.ok_or_else(|| m.t("import.no_levels").to_owned())
    }
}

/// The grade a roster without a 年级 column implies: its entry year, e.g. “2024级” (the same
/// label statistics use), so a vocational roster (专业 and 班级, no 年级) can create its classes
/// under a school whose levels are grade → major → class.
fn entry_grade(d: &Draft) -> Option<String> {
    let entry = d.other.get(&Field::EntryDate)?;
    let year = entry.get(..4).filter(|y| y.chars().all(|c| c.is_ascii_digit()))?;
    Some(format!("{year}级"))
}

fn problem(d: &Draft, message: String) -> RowProblem {
    RowProblem {
        row: d.row,
        column: crate::columns::label(Field::Class).to_owned(),
        value: d.class.clone(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use xg_kernel::idnumber::IdNumber;

    #[test]
    fn a_roster_without_a_grade_column_creates_classes_under_its_entry_year() {
        let level = |depth, key: &str, name: &str| OrgLevel {
            depth,
            key: key.to_owned(),
            name: name.to_owned(),
        };
        let mut tree = Tree {
            levels: vec![
                level(1, "grade", "年级"),
                level(2, "major", "专业"),
                level(3, "class", "班级"),
            ],
            units: Vec::new(),
            by_id: HashMap::new(),
            by_label: HashMap::new(),
        };
        let draft = Draft {
            row: 2,
            student_no: "2024001".into(),
            name: "张三".into(),
            male: true,
            birth_date: date!(2000 - 01 - 01),
            id_number: IdNumber::parse("110101200001010010").unwrap(),
            class: "24级数控技术应用1班".into(),
            other: HashMap::from([
                (Field::Major, "数控技术应用".to_owned()),
                (Field::EntryDate, "2024-09-01".to_owned()),
            ]),
        };
        let (placed, created, problems) = tree.place(std::slice::from_ref(&draft), true);
        assert_eq!(problems, []);
        let names: Vec<&str> = created.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["2024级", "数控技术应用", "24级数控技术应用1班"]);
        assert_eq!(placed[0].grade.as_deref(), Some("2024级"));

        // Without an entry date either, the row says which column is missing.
        let mut bare = draft;
        bare.other.remove(&Field::EntryDate);
        bare.class = "24级数控技术应用2班".into();
        let (_, _, problems) = tree.place(&[bare], true);
        assert!(problems[0].message.contains("年级"), "{:?}", problems[0]);
    }
}
