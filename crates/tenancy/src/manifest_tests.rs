use super::*;

const GOOD: &str = r#"
modules = ["enrollment", "notices"]

[school]
slug = "east-high"
name = "城东高级中学"
kind = "senior_high"
district = "demo"

[org]
levels = [{ key = "grade", name = "年级" }, { key = "class", name = "班级" }]
units = [
  { code = "G2023-01", name = "高一(1)班", level = "class", parent = "G2023" },
  { code = "G2023", name = "2023级", level = "grade" },
]

[admin]
username = "admin"
display_name = "学工处"
"#;

fn errors_of(text: &str) -> Vec<(String, Problem)> {
    Manifest::parse("t.toml", text).unwrap_err().into_iter().map(|e| (e.field, e.problem)).collect()
}

#[test]
fn a_good_manifest_orders_parents_first_and_keeps_organization_on() {
    let m = Manifest::parse("t.toml", GOOD).unwrap();
    assert_eq!(m.slug.as_str(), "east-high");
    assert_eq!(m.kind, SchoolKind::SeniorHigh);
    let codes: Vec<_> = m.units.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, ["G2023", "G2023-01"]);
    assert!(m.modules.contains(&Module::Organization));
    assert!(m.modules.contains(&Module::Notices));
    assert_eq!(m.roles.len(), BUILTIN_ROLES.len());
}

#[test]
fn an_unknown_parent_is_reported_with_the_file_and_field() {
    let text = GOOD.replace(r#"parent = "G2023""#, r#"parent = "G2099""#);
    let err = Manifest::parse("tenants/east.toml", &text).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(
        err[0].to_string(),
        "tenants/east.toml: org.units[0].parent: no unit with code 'G2099' is declared"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = GOOD
        .replace(r#"kind = "senior_high""#, r#"kind = "kindergarten""#)
        .replace(r#""notices""#, r#""notices", "notices", "payroll""#)
        .replace(r#"username = "admin""#, r#"username = "a b""#);
    let fields: Vec<String> = errors_of(&text).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["school.kind", "modules[2]", "modules[3]", "admin.username"]);
}

#[test]
fn a_typo_in_a_key_is_an_error_not_a_silently_dropped_setting() {
    let text = GOOD.replace("display_name", "displayname");
    let errs = errors_of(&text);
    assert_eq!(errs.len(), 1);
    let (field, Problem::Syntax(msg)) = &errs[0] else { panic!("{errs:?}") };
    assert!(field.starts_with("line "), "{field}");
    assert!(msg.contains("displayname"), "{msg}");
}

#[test]
fn a_parent_on_the_wrong_level_names_both_levels() {
    let text = GOOD.replace(
        r#"{ code = "G2023", name = "2023级", level = "grade" },"#,
        r#"{ code = "G2023", name = "2023级", level = "grade" },
  { code = "X", name = "x", level = "class", parent = "G2023-01" },"#,
    );
    assert_eq!(
        errors_of(&text),
        [(
            "org.units[2].parent".to_owned(),
            Problem::ParentOnWrongLevel("G2023-01".into(), "class".into(), "grade".into())
        )]
    );
}

#[test]
fn builtin_roles_must_keep_school_admin_and_short_passwords_fail() {
    let text = GOOD.replace(
        "[admin]",
        "[roles]\nbuiltin = [\"counselor\"]\n\n[admin]\ninitial_password = \"short\"",
    );
    let fields: Vec<String> = errors_of(&text).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["roles.builtin", "admin.initial_password"]);
}

#[test]
fn codes_differing_only_in_spaces_are_one_code() {
    let text = GOOD.replace(
        r#"{ code = "G2023", name = "2023级", level = "grade" },"#,
        r#"{ code = "G2023", name = "2023级", level = "grade" },
  { code = " G2023 ", name = "x", level = "class", parent = "G2023" },"#,
    );
    assert_eq!(
        errors_of(&text),
        [("org.units[2].code".to_owned(), Problem::Duplicate("G2023".into()))]
    );
}

#[test]
fn control_characters_long_names_and_reserved_subdomains_are_refused() {
    let text = GOOD
        .replace("城东高级中学", r"城东\u001b[31m中学")
        .replace("学工处", &"长".repeat(101))
        .replace("district = \"demo\"", "district = \"demo\"\nsubdomain = \"www\"");
    let fields: Vec<(String, Problem)> = errors_of(&text);
    assert_eq!(
        fields,
        [
            ("school.name".to_owned(), Problem::ControlCharacters),
            ("school.subdomain".to_owned(), Problem::ReservedSubdomain("www".into())),
            ("admin.display_name".to_owned(), Problem::TooLong(MAX_NAME)),
        ]
    );
}
