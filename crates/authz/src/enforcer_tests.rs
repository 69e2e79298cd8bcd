use casbin::CoreApi;
use xg_kernel::{DistrictId, Slug, TenantId};
use xg_tenancy::{Module, School, SchoolKind, SchoolStatus};

use super::*;

fn school(modules: Vec<Module>) -> School {
    School {
        id: TenantId::new_random(),
        district_id: DistrictId::new_random(),
        slug: Slug::parse("east").unwrap(),
        name: "东校".into(),
        kind: SchoolKind::SeniorHigh,
        status: SchoolStatus::Active,
        modules,
        subdomain: None,
    }
}

fn allowed(e: &Enforcer, school: &School, who: Uuid, method: &str, path: &str) -> bool {
    e.enforce((who.to_string(), school.id.to_string(), path.to_owned(), method.to_owned())).unwrap()
}

/// Pairs of (granted pattern's permission, request) that must NOT match: a pattern must never
/// open a longer path, a sibling, or another method.
#[tokio::test]
async fn route_patterns_do_not_over_match() {
    let s = school(vec![]);
    let who = Uuid::new_v4();
    let grants = [
        ("viewer".to_owned(), "org.view".to_owned()),
        ("editor".to_owned(), "org.manage".to_owned()),
    ];
    let members = [(who, "viewer".to_owned())];
    let e = build(&s, &grants, &members).await.unwrap();
    let editor = Uuid::new_v4();
    let e2 = build(&s, &grants, &[(editor, "editor".to_owned())]).await.unwrap();

    let table: &[(&Enforcer, Uuid, &str, &str, bool)] = &[
        (&e, who, "GET", "/org", true),
        (&e, who, "GET", "/org/", false),
        (&e, who, "GET", "/org/units", false),
        (&e, who, "POST", "/org", false),
        (&e, who, "GET", "/organisation", false),
        (&e2, editor, "POST", "/org/units/123", true),
        (&e2, editor, "POST", "/org/units/123/delete", true),
        (&e2, editor, "POST", "/org/units/123/approve", false),
        (&e2, editor, "POST", "/org/units/123/delete/extra", false),
        (&e2, editor, "POST", "/org/units/123/456", false),
        (&e2, editor, "GET", "/org/units/123", true),
        (&e2, editor, "GET", "/org/units/123/delete", false),
        (&e2, editor, "POST", "/org/units/", false),
        (&e2, editor, "GET", "/org", false),
    ];
    for (enforcer, account, method, path, expected) in table {
        assert_eq!(allowed(enforcer, &s, *account, method, path), *expected, "{method} {path}");
    }
}

#[tokio::test]
async fn a_grant_in_one_school_means_nothing_in_another_and_strangers_get_nothing() {
    let s = school(vec![]);
    let other = school(vec![]);
    let who = Uuid::new_v4();
    let grants = [("school_admin".to_owned(), "org.view".to_owned())];
    let e = build(&s, &grants, &[(who, "school_admin".to_owned())]).await.unwrap();
    assert!(allowed(&e, &s, who, "GET", "/org"));
    assert!(!allowed(&e, &other, who, "GET", "/org"), "another domain");
    assert!(!allowed(&e, &s, Uuid::new_v4(), "GET", "/org"), "no role, no access");
}

#[tokio::test]
async fn unknown_permissions_grant_nothing() {
    let s = school(vec![]);
    let who = Uuid::new_v4();
    let grants = [("r".to_owned(), "org.everything".to_owned())];
    let e = build(&s, &grants, &[(who, "r".to_owned())]).await.unwrap();
    for (method, path) in [("GET", "/org"), ("POST", "/roles"), ("GET", "/audit")] {
        assert!(!allowed(&e, &s, who, method, path));
    }
}
