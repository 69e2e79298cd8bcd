//! Onboarding manifests: a school described as data in `tenants/*.toml`. Parsing is strict
//! (unknown keys are errors, so a typo never silently drops a setting) and validation reports
//! every problem at once, each naming the file, the field and what is wrong.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use xg_kernel::Slug;
use xg_kernel::password::MIN_LENGTH;
use xg_kernel::text::has_control_characters;

use crate::model::{BUILTIN_ROLES, Module, SchoolKind};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    school: RawSchool,
    #[serde(default)]
    modules: Vec<String>,
    org: RawOrg,
    #[serde(default)]
    roles: RawRoles,
    admin: RawAdmin,
    #[serde(default)]
    staff: Vec<Staff>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchool {
    slug: String,
    name: String,
    kind: String,
    district: String,
    subdomain: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    levels: Vec<Level>,
    #[serde(default)]
    units: Vec<Unit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    builtin: Option<Vec<String>>,
    #[serde(default)]
    custom: Vec<Role>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    username: String,
    display_name: String,
    initial_password: Option<String>,
}

/// A level of the org tree below the school itself, e.g. `grade` / 年级.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub key: String,
    pub name: String,
}

/// An org unit; `parent` is the code of a unit one level up (absent on the first level).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
}

/// A staff account to create with the school: its roles and the org units it works in.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    #[serde(default)]
    pub units: Vec<String>,
    pub initial_password: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub key: String,
    pub name: String,
}

/// A validated manifest: everything in it is known to be well-formed and consistent. Whether
/// the district exists is checked at onboarding, inside the transaction.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub source: String,
    pub slug: Slug,
    pub name: String,
    pub kind: SchoolKind,
    pub district: Slug,
    pub subdomain: Option<Slug>,
    pub modules: BTreeSet<Module>,
    pub levels: Vec<Level>,
    /// Ordered so that every parent comes before its children.
    pub units: Vec<Unit>,
    pub roles: Vec<Role>,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_initial_password: Option<String>,
    pub staff: Vec<Staff>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The file (or "web form") the manifest came from.
    pub source: String,
    /// Dotted path of the offending field, e.g. `org.units[3].parent`.
    pub field: String,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Syntax(String),
    #[error("must not be empty")]
    Empty,
    #[error("'{0}' is not a valid slug: use 1-40 lowercase letters, digits or inner hyphens")]
    InvalidSlug(String),
    #[error("unknown school kind '{0}'; expected one of {1}")]
    UnknownKind(String, String),
    #[error("unknown module '{0}'; expected one of {1}")]
    UnknownModule(String, String),
    #[error("'{0}' is listed more than once")]
    Duplicate(String),
    #[error("'{0}' is not a valid key: start with a lowercase letter, then letters, digits or _")]
    InvalidKey(String),
    #[error("declare between 1 and 6 levels")]
    LevelCount,
    #[error("no level with key '{0}' is declared in org.levels")]
    UnknownLevel(String),
    #[error("a unit on the first level has no parent; remove 'parent'")]
    ParentOnTopLevel,
    #[error("a unit below the first level needs 'parent' (the code of a unit one level up)")]
    MissingParent,
    #[error("no unit with code '{0}' is declared")]
    UnknownParent(String),
    #[error("parent '{0}' is on level '{1}', but this unit's parent must be on level '{2}'")]
    ParentOnWrongLevel(String, String, String),
    #[error("unknown built-in role '{0}'; expected one of {1}")]
    UnknownRole(String, String),
    #[error("the built-in roles must include school_admin: the first admin needs it")]
    AdminRoleMissing,
    #[error("'{0}' is not a valid username: 2-64 letters, digits, '_', '.' or '-'")]
    InvalidUsername(String),
    #[error("must be at least {MIN_LENGTH} characters")]
    PasswordTooShort,
    #[error("no district with slug '{0}'; create it first with `xuegong district create`")]
    UnknownDistrict(String),
    #[error("school '{0}' already belongs to district '{1}'; moving a school is not onboarding")]
    DistrictMismatch(String, String),
    #[error("subdomain '{0}' is already used by school '{1}'")]
    SubdomainTaken(String, String),
    #[error("a school with slug '{0}' already exists")]
    SlugTaken(String),
    #[error(
        "level '{0}' already exists at another depth; levels cannot be reordered by a manifest"
    )]
    LevelMoved(String),
    #[error("unit '{0}' already exists on another level; move units in the org module")]
    UnitMoved(String),
    #[error("subdomain '{0}' is reserved")]
    ReservedSubdomain(String),
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains control characters; remove them")]
    ControlCharacters,
    #[error("role '{0}' is not declared in this manifest (built-in or custom)")]
    UndeclaredRole(String),
    #[error("no unit with code '{0}' is declared in org.units")]
    UnknownUnit(String),
}

/// Longest accepted name of a school, unit, level or role, and of a display name.
pub const MAX_NAME: usize = 100;
/// Subdomains that name the platform itself, never a school.
pub const RESERVED_SUBDOMAINS: &[&str] = &["www", "api", "admin", "static", "mail", "s"];

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.source, self.field, self.problem)
    }
}

impl std::error::Error for ManifestError {}

/// Collects problems while walking a manifest.
struct Checker {
    source: String,
    errors: Vec<ManifestError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, problem: Problem) {
        let source = self.source.clone();
        self.errors.push(ManifestError { source, field: field.into(), problem });
    }

    fn text(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.fail(field, Problem::Empty);
        } else if has_control_characters(trimmed, false) {
            self.fail(field, Problem::ControlCharacters);
        } else if trimmed.chars().count() > MAX_NAME {
            self.fail(field, Problem::TooLong(MAX_NAME));
        }
        trimmed.to_owned()
    }

    fn slug(&mut self, field: &str, value: &str) -> Option<Slug> {
        Slug::parse(value).map_err(|_| self.fail(field, Problem::InvalidSlug(value.into()))).ok()
    }

    fn username(&mut self, field: &str, value: &str) {
        let ok = (2..=64).contains(&value.len())
            && value.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch));
        if !ok {
            self.fail(field, Problem::InvalidUsername(value.to_owned()));
        }
    }

    fn password(&mut self, field: &str, value: Option<&str>) {
        if value.is_some_and(|p| p.chars().count() < MIN_LENGTH) {
            self.fail(field, Problem::PasswordTooShort);
        }
    }

    fn key(&mut self, field: &str, value: &str) {
        let ok = value.len() <= 32
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.fail(field, Problem::InvalidKey(value.into()));
        }
    }
}

fn choices<T: fmt::Display>(all: &[T]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl Manifest {
    pub fn from_file(path: &Path) -> Result<Self, Vec<ManifestError>> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ManifestError {
                source: source.clone(),
                field: "(file)".into(),
                problem: Problem::Syntax(e.to_string()),
            }]
        })?;
        Self::parse(&source, &text)
    }

    /// Parses and validates a manifest's text; `source` names it in every error.
    pub fn parse(source: &str, text: &str) -> Result<Self, Vec<ManifestError>> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let field = e.span().map_or("(document)".to_owned(), |span| {
                let line = text[..span.start].matches('\n').count() + 1;
                format!("line {line}")
            });
            vec![ManifestError {
                source: source.to_owned(),
                field,
                problem: Problem::Syntax(e.message().to_owned()),
            }]
        })?;
        validate(source, raw)
    }
}

/// Trims surrounding whitespace from every identifier and name, so that what is validated is
/// exactly what is stored (`"g1 "` and `"g1"` are one code, not two).
fn trimmed(mut raw: Raw) -> Raw {
    let t = |s: &mut String| *s = s.trim().to_owned();
    for level in &mut raw.org.levels {
        t(&mut level.key);
        t(&mut level.name);
    }
    for unit in &mut raw.org.units {
        t(&mut unit.code);
        t(&mut unit.name);
        t(&mut unit.level);
        if let Some(p) = &mut unit.parent {
            t(p);
        }
    }
    for role in &mut raw.roles.custom {
        t(&mut role.key);
        t(&mut role.name);
    }
    raw
}

fn validate(source: &str, raw: Raw) -> Result<Manifest, Vec<ManifestError>> {
    let raw = trimmed(raw);
    let mut c = Checker { source: source.to_owned(), errors: Vec::new() };

    let slug = c.slug("school.slug", &raw.school.slug);
    let name = c.text("school.name", &raw.school.name);
    let kind = raw.school.kind.parse::<SchoolKind>().map_err(|_| {
        let all = choices(SchoolKind::ALL);
        c.fail("school.kind", Problem::UnknownKind(raw.school.kind.clone(), all));
    });
    let district = c.slug("school.district", &raw.school.district);
    let subdomain = match &raw.school.subdomain {
        Some(s) if RESERVED_SUBDOMAINS.contains(&s.as_str()) => {
            c.fail("school.subdomain", Problem::ReservedSubdomain(s.clone()));
            None
        }
        Some(s) => c.slug("school.subdomain", s).map(Some),
        None => Some(None),
    };

    let mut modules = BTreeSet::from([Module::Organization]);
    let mut seen_modules = BTreeSet::new();
    for (i, m) in raw.modules.iter().enumerate() {
        let field = format!("modules[{i}]");
        match m.parse::<Module>() {
            Ok(module) if !seen_modules.insert(module) => {
                c.fail(field, Problem::Duplicate(m.clone()))
            }
            Ok(module) => {
                modules.insert(module);
            }
            Err(()) => c.fail(field, Problem::UnknownModule(m.clone(), choices(Module::ALL))),
        }
    }

    let levels = raw.org.levels;
    if levels.is_empty() || levels.len() > 6 {
        c.fail("org.levels", Problem::LevelCount);
    }
    let mut depth_of = HashMap::new();
    for (i, level) in levels.iter().enumerate() {
        c.key(&format!("org.levels[{i}].key"), &level.key);
        c.text(&format!("org.levels[{i}].name"), &level.name);
        if depth_of.insert(level.key.clone(), i + 1).is_some() {
            c.fail(format!("org.levels[{i}].key"), Problem::Duplicate(level.key.clone()));
        }
    }

    let units = check_units(&mut c, &raw.org.units, &levels, &depth_of);
    let roles = check_roles(&mut c, raw.roles);

    let admin_username = raw.admin.username.trim().to_owned();
    c.username("admin.username", &admin_username);
    let admin_display_name = c.text("admin.display_name", &raw.admin.display_name);
    c.password("admin.initial_password", raw.admin.initial_password.as_deref());
    let staff = check_staff(&mut c, raw.staff, &admin_username, &roles, &units);

    match (slug, kind, district, subdomain) {
        (Some(slug), Ok(kind), Some(district), Some(subdomain)) if c.errors.is_empty() => {
            Ok(Manifest {
                source: source.to_owned(),
                slug,
                name,
                kind,
                district,
                subdomain,
                modules,
                levels,
                units,
                roles,
                admin_username,
                admin_display_name,
                admin_initial_password: raw.admin.initial_password,
                staff,
            })
        }
        _ => Err(c.errors),
    }
}

fn check_staff(
    c: &mut Checker,
    staff: Vec<Staff>,
    admin: &str,
    roles: &[Role],
    units: &[Unit],
) -> Vec<Staff> {
    let mut seen = BTreeSet::from([admin.to_owned()]);
    let mut out = Vec::new();
    for (i, mut s) in staff.into_iter().enumerate() {
        s.username = s.username.trim().to_owned();
        c.username(&format!("staff[{i}].username"), &s.username);
        if !seen.insert(s.username.clone()) {
            c.fail(format!("staff[{i}].username"), Problem::Duplicate(s.username.clone()));
        }
        s.display_name = c.text(&format!("staff[{i}].display_name"), &s.display_name);
        c.password(&format!("staff[{i}].initial_password"), s.initial_password.as_deref());
        for (j, role) in s.roles.iter().enumerate() {
            if !roles.iter().any(|r| r.key == *role) {
                c.fail(format!("staff[{i}].roles[{j}]"), Problem::UndeclaredRole(role.clone()));
            }
        }
        for (j, unit) in s.units.iter().enumerate() {
            if !units.iter().any(|u| u.code == unit.trim()) {
                c.fail(format!("staff[{i}].units[{j}]"), Problem::UnknownUnit(unit.clone()));
            }
        }
        s.units = s.units.iter().map(|u| u.trim().to_owned()).collect();
        out.push(s);
    }
    out
}

/// Checks codes, levels and parents, and returns the units ordered parents-first.
fn check_units(
    c: &mut Checker,
    units: &[Unit],
    levels: &[Level],
    depth_of: &HashMap<String, usize>,
) -> Vec<Unit> {
    let mut level_of_code: HashMap<&str, &str> = HashMap::new();
    for (i, unit) in units.iter().enumerate() {
        c.text(&format!("org.units[{i}].code"), &unit.code);
        c.text(&format!("org.units[{i}].name"), &unit.name);
        if level_of_code.contains_key(unit.code.as_str()) {
            let problem = Problem::Duplicate(unit.code.clone());
            c.fail(format!("org.units[{i}].code"), problem);
        } else {
            level_of_code.insert(unit.code.as_str(), unit.level.as_str());
        }
    }
    for (i, unit) in units.iter().enumerate() {
        let Some(&depth) = depth_of.get(&unit.level) else {
            c.fail(format!("org.units[{i}].level"), Problem::UnknownLevel(unit.level.clone()));
            continue;
        };
        let field = format!("org.units[{i}].parent");
        match (&unit.parent, depth) {
            (Some(_), 1) => c.fail(field, Problem::ParentOnTopLevel),
            (None, 1) => {}
            (None, _) => c.fail(field, Problem::MissingParent),
            (Some(parent), _) => {
                let expected = &levels[depth - 2].key;
                match level_of_code.get(parent.as_str()) {
                    None => c.fail(field, Problem::UnknownParent(parent.clone())),
                    Some(actual) if *actual != expected => c.fail(
                        field,
                        Problem::ParentOnWrongLevel(
                            parent.clone(),
                            actual.to_string(),
                            expected.clone(),
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    let mut ordered = units.to_vec();
    ordered.sort_by_key(|u| depth_of.get(&u.level).copied().unwrap_or(usize::MAX));
    ordered
}

fn check_roles(c: &mut Checker, raw: RawRoles) -> Vec<Role> {
    let builtin_keys: Vec<String> = match raw.builtin {
        Some(keys) => keys,
        None => BUILTIN_ROLES.iter().map(|(k, _)| (*k).to_owned()).collect(),
    };
    let mut roles = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, key) in builtin_keys.iter().enumerate() {
        let field = format!("roles.builtin[{i}]");
        match BUILTIN_ROLES.iter().find(|(k, _)| k == key) {
            None => {
                let all = choices(&BUILTIN_ROLES.iter().map(|(k, _)| *k).collect::<Vec<_>>());
                c.fail(field, Problem::UnknownRole(key.clone(), all));
            }
            Some(_) if !seen.insert(key.clone()) => c.fail(field, Problem::Duplicate(key.clone())),
            Some((k, name)) => roles.push(Role { key: (*k).into(), name: (*name).into() }),
        }
    }
    if !seen.contains("school_admin") {
        c.fail("roles.builtin", Problem::AdminRoleMissing);
    }
    for (i, role) in raw.custom.into_iter().enumerate() {
        c.key(&format!("roles.custom[{i}].key"), &role.key);
        c.text(&format!("roles.custom[{i}].name"), &role.name);
        if !seen.insert(role.key.clone()) {
            c.fail(format!("roles.custom[{i}].key"), Problem::Duplicate(role.key.clone()));
        }
        roles.push(role);
    }
    roles
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
