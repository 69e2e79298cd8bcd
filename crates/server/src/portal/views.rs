//! View models: registry rows turned into what the templates print, with labels from the
//! catalog rather than stored keys.

use xg_kernel::i18n::Catalog;
use xg_tenancy::{District, Module, School, SchoolKind, SchoolStatus};

pub struct SchoolRow {
    pub name: String,
    pub slug: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub modules: Vec<&'static str>,
    pub active: bool,
    /// Aggregates for the district's own view: (students, org units).
    pub counts: Option<(i64, i64)>,
}

pub struct DistrictView {
    pub name: String,
    pub slug: String,
    pub schools: Vec<SchoolRow>,
}

pub fn kind_label(kind: SchoolKind) -> &'static str {
    let m = Catalog::zh();
    match kind {
        SchoolKind::Primary => m.t("kind.primary"),
        SchoolKind::JuniorHigh => m.t("kind.junior_high"),
        SchoolKind::SeniorHigh => m.t("kind.senior_high"),
        SchoolKind::Vocational => m.t("kind.vocational"),
        SchoolKind::College => m.t("kind.college"),
    }
}

pub fn module_labels(school: &School) -> Vec<&'static str> {
    Module::ALL.iter().filter(|m| school.has_module(**m)).map(|m| m.label_zh()).collect()
}

pub fn school_row(s: &School) -> SchoolRow {
    let m = Catalog::zh();
    SchoolRow {
        name: s.name.clone(),
        slug: s.slug.to_string(),
        kind: kind_label(s.kind),
        status: match s.status {
            SchoolStatus::Active => m.t("status.active"),
            SchoolStatus::Suspended => m.t("status.suspended"),
        },
        modules: module_labels(s),
        active: s.status == SchoolStatus::Active,
        counts: None,
    }
}

pub fn district_view(d: &District, schools: &[School]) -> DistrictView {
    DistrictView {
        name: d.name.clone(),
        slug: d.slug.to_string(),
        schools: schools.iter().filter(|s| s.district_id == d.id).map(school_row).collect(),
    }
}
