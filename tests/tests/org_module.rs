//! The organization module over HTTP: data scopes, permissions per role, role changes reaching
//! a second instance, roles per school, unit guards, staff accounts and the audit page.

use std::time::Duration;

use reqwest::StatusCode;
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, get, post_form, sign_in, sign_in_school};
use xg_e2e::schools::{add_student, district, school};

#[tokio::test]
async fn the_counselor_of_one_class_sees_exactly_that_class_and_an_unassigned_admin_sees_nobody() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    add_student(&t.app, s.id, "C1-001", "G1-C1").await;
    add_student(&t.app, s.id, "C1-002", "G1-C1").await;
    add_student(&t.app, s.id, "C2-001", "G1-C2").await;
    let app = TestApp::start(t.app.clone()).await;

    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let (status, html) = get(&app, &counselor, "/s/alpha/scope").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("高一(1)班") && !html.contains("高一(2)班"), "{html}");
    assert!(html.contains("C1-001") && html.contains("C1-002") && !html.contains("C2-001"));
    assert!(html.contains("（2）"), "two students in scope");

    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let (status, html) = get(&app, &admin, "/s/alpha/scope").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("尚未被分配管辖范围") && !html.contains("C1-001"), "fail closed: {html}");
}

#[tokio::test]
async fn each_role_reaches_only_its_pages() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;

    for (path, counselor_status) in [
        ("/s/alpha/org", StatusCode::OK),
        ("/s/alpha/scope", StatusCode::OK),
        ("/s/alpha/roles", StatusCode::FORBIDDEN),
        ("/s/alpha/accounts", StatusCode::FORBIDDEN),
        ("/s/alpha/audit", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(get(&app, &counselor, path).await.0, counselor_status, "counselor {path}");
        assert_eq!(get(&app, &admin, path).await.0, StatusCode::OK, "admin {path}");
    }
    let (_, home) = get(&app, &counselor, "/s/alpha/home").await;
    assert!(
        home.contains("我的管辖范围") && !home.contains("角色与权限"),
        "menu follows permissions"
    );
    // A counselor may view the tree but not change it.
    let (status, _) = post_form(
        &app,
        &counselor,
        "/s/alpha/org",
        "/s/alpha/org/units",
        &[("code", "X"), ("name", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No session at all: sent to sign in.
    let res = browser().get(app.url("/s/alpha/roles")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_revoked_permission_reaches_a_second_instance_and_never_flips_back() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let first = TestApp::start(t.app.clone()).await;
    let second = TestApp::start(xg_kernel::Db::from_pool(t.app_pool(4).await)).await;
    let counselor = browser();
    sign_in_school(&first, &counselor, "alpha", "counselor", "initial-password-2").await;
    assert_eq!(get(&second, &counselor, "/s/alpha/scope").await.0, StatusCode::OK, "warm cache");
    // The menu is remembered with the policy it was computed from (warm it here too).
    let (_, home) = get(&first, &counselor, "/s/alpha/home").await;
    assert!(home.contains("我的管辖范围"), "menu before: {home}");

    let admin = browser();
    sign_in_school(&first, &admin, "alpha", "admin", "initial-password-1").await;
    // Keep only org.view for counselors.
    let (status, html) = post_form(
        &first,
        &admin,
        "/s/alpha/roles",
        "/s/alpha/roles/counselor",
        &[("name", "辅导员"), ("perm.org.view", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        get(&first, &counselor, "/s/alpha/scope").await.0,
        StatusCode::FORBIDDEN,
        "at once here"
    );
    let (_, home) = get(&first, &counselor, "/s/alpha/home").await;
    assert!(!home.contains("我的管辖范围") && home.contains("组织机构"), "menu after: {home}");

    let mut seen = Vec::new();
    for _ in 0..40 {
        seen.push(get(&second, &counselor, "/s/alpha/scope").await.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_forbidden =
        seen.iter().position(|s| *s == StatusCode::FORBIDDEN).expect("revocation arrived");
    assert!(first_forbidden < 20, "within 1 s: {seen:?}");
    assert!(
        seen[first_forbidden..].iter().all(|s| *s == StatusCode::FORBIDDEN),
        "no flip back: {seen:?}"
    );
}

#[tokio::test]
async fn deleting_a_role_in_one_school_leaves_another_schools_role_alone() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    school(&t.app, "d1", "beta").await;
    let app = TestApp::start(t.app.clone()).await;
    let (a, b) = (browser(), browser());
    sign_in_school(&app, &a, "alpha", "admin", "initial-password-1").await;
    sign_in_school(&app, &b, "beta", "admin", "initial-password-1").await;
    for (client, slug) in [(&a, "alpha"), (&b, "beta")] {
        let roles = format!("/s/{slug}/roles");
        let (status, _) = post_form(
            &app,
            client,
            &roles,
            &roles,
            &[("key", "tutor"), ("name", "导师"), ("perm.org.view", "on")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, html) =
        post_form(&app, &a, "/s/alpha/roles", "/s/alpha/roles/tutor/delete", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已删除角色") && !html.contains(">导师 <"), "{html}");
    let (_, html) = get(&app, &b, "/s/beta/roles").await;
    assert!(html.contains("导师"), "beta keeps its tutor role");

    // Built-in roles cannot be deleted; a duplicate key is a conflict with a clear message.
    let (status, html) =
        post_form(&app, &a, "/s/alpha/roles", "/s/alpha/roles/counselor/delete", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("内置角色不能删除"));
    let (status, html) = post_form(
        &app,
        &a,
        "/s/alpha/roles",
        "/s/alpha/roles",
        &[("key", "counselor"), ("name", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("已存在"));
}

#[tokio::test]
async fn units_are_added_and_deleted_with_guards_and_every_change_is_audited() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    add_student(&t.app, s.id, "S1", "G1-C2").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let unit_id = |html: &str, code: &str| {
        let marker = format!("<span class=\"muted\">{code}</span>");
        let at = html.find(&marker).expect("unit listed");
        let action = &html[at..];
        let start = action.find("org/units/").unwrap() + "org/units/".len();
        action[start..start + 36].to_owned()
    };

    let (_, tree) = get(&app, &admin, "/s/alpha/org").await;
    let grade = unit_id(&tree, "G1");
    let class_two = unit_id(&tree, "G1-C2");
    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/org",
        "/s/alpha/org/units",
        &[("code", "G1-C3"), ("name", "高一(3)班"), ("parent", &grade)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已新增“高一(3)班”"));
    let class_three = unit_id(&html, "G1-C3");
    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/org",
        "/s/alpha/org/units",
        &[("code", "TOO-DEEP"), ("name", "小组"), ("parent", &class_three)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("已是最末层级"));
    let delete = |id: &str| format!("/s/alpha/org/units/{id}/delete");
    let (status, html) = post_form(&app, &admin, "/s/alpha/org", &delete(&grade), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("还有下级单元"));
    let (status, html) = post_form(&app, &admin, "/s/alpha/org", &delete(&class_two), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("还有 1 名学生"));
    let (status, html) = post_form(&app, &admin, "/s/alpha/org", &delete(&class_three), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已删除“高一(3)班”"));

    let (status, html) = get(&app, &admin, "/s/alpha/audit?action=org.unit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("org.unit.create") && html.contains("org.unit.delete"), "{html}");
    assert!(html.contains("日志哈希链校验通过"));
}

#[tokio::test]
async fn an_admin_creates_a_staff_account_that_sees_its_assigned_class() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    add_student(&t.app, s.id, "C2-001", "G1-C2").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let (_, page) = get(&app, &admin, "/s/alpha/accounts").await;
    let marker = "name=\"unit.";
    let ids: Vec<&str> = page
        .match_indices(marker)
        .map(|(i, _)| &page[i + marker.len()..i + marker.len() + 36])
        .collect();
    let class_two = ids
        .iter()
        .find(|id| {
            page[page.find(*id).unwrap()..].split("</label>").next().unwrap().contains("高一(2)班")
        })
        .unwrap()
        .to_string();
    let unit_field = format!("unit.{class_two}");
    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/accounts",
        "/s/alpha/accounts",
        &[
            ("username", "teacher2"),
            ("display_name", "赵老师"),
            ("role.head_teacher", "on"),
            (&unit_field, "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let start = html.find("初始密码：").expect("password shown once") + "初始密码：".len();
    let password: String = html[start..].chars().take(16).collect();

    let teacher = browser();
    sign_in_school(&app, &teacher, "alpha", "teacher2", &password).await;
    let (_, scope) = get(&app, &teacher, "/s/alpha/scope").await;
    assert!(scope.contains("C2-001"), "{scope}");

    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/accounts",
        "/s/alpha/accounts",
        &[("username", "teacher2"), ("display_name", "重复")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("已存在"));
    let res = sign_in(&app, &browser(), "/s/alpha/login", "teacher2", &password).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the initial password was changed");
}

#[tokio::test]
async fn nobody_grants_what_they_do_not_hold_and_the_last_role_manager_stays() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    // A clerk may manage accounts and nothing else.
    let (status, _) = post_form(
        &app,
        &admin,
        "/s/alpha/roles",
        "/s/alpha/roles",
        &[("key", "clerk"), ("name", "文员"), ("perm.accounts.manage", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = get(&app, &admin, "/s/alpha/accounts").await;
    let account_id = |username: &str| {
        let marker = "<option value=\"";
        page.match_indices(marker)
            .map(|(i, _)| &page[i + marker.len()..])
            .find(|rest| rest[38..].starts_with(username))
            .map(|rest| rest[..36].to_owned())
            .unwrap()
    };
    let (counselor, admin_id) = (account_id("counselor"), account_id("admin"));
    let (status, _) = post_form(
        &app,
        &admin,
        "/s/alpha/accounts",
        "/s/alpha/accounts/assign",
        &[("account", &counselor), ("role.clerk", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let clerk = browser();
    sign_in_school(&app, &clerk, "alpha", "counselor", "initial-password-2").await;
    let (status, html) = post_form(
        &app,
        &clerk,
        "/s/alpha/accounts",
        "/s/alpha/accounts/assign",
        &[("account", &counselor), ("role.clerk", "on"), ("role.school_admin", "on")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no self-promotion: {}",
        &html[html.find("alert").unwrap_or(0)..][..200]
    );
    assert!(html.contains("不能授予超出您自身权限的角色"));
    let reset = format!("/s/alpha/accounts/{admin_id}/reset-password");
    let (status, html) = post_form(&app, &clerk, "/s/alpha/accounts", &reset, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no taking over the admin");
    assert!(html.contains("不能重置权限多于您的账号的密码"));
    assert_eq!(get(&app, &clerk, "/s/alpha/roles").await.0, StatusCode::FORBIDDEN);
    // Nor can the clerk hand out units outside their own (now empty) scope, even to themself
    // with the very role they already hold.
    let unit_marker = "name=\"unit.";
    let at = page.find(unit_marker).unwrap() + unit_marker.len();
    let unit_field = format!("unit.{}", &page[at..at + 36]);
    let (status, _) = post_form(
        &app,
        &clerk,
        "/s/alpha/accounts",
        "/s/alpha/accounts/assign",
        &[("account", &counselor), ("role.clerk", "on"), (&unit_field, "on")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no units beyond one's own scope");

    // The admin cannot strip the school of its last way to manage roles.
    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/roles",
        "/s/alpha/roles/school_admin",
        &[("name", "学校管理员"), ("perm.org.view", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("没有任何账号能够管理角色与权限"));
    assert_eq!(get(&app, &admin, "/s/alpha/roles").await.0, StatusCode::OK, "nothing changed");
}

#[tokio::test]
async fn guessing_the_current_password_on_the_password_page_locks_the_account() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let guess =
        [("current", "not-the-password"), ("new", "whatever-new-1"), ("confirm", "whatever-new-1")];
    for _ in 0..4 {
        let (status, _) =
            post_form(&app, &admin, "/s/alpha/password", "/s/alpha/password", &guess).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, html) =
        post_form(&app, &admin, "/s/alpha/password", "/s/alpha/password", &guess).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("账号已临时锁定"));
    let right = [
        ("current", "changed-password-9"),
        ("new", "whatever-new-1"),
        ("confirm", "whatever-new-1"),
    ];
    let (status, _) =
        post_form(&app, &admin, "/s/alpha/password", "/s/alpha/password", &right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked even for the right one");
}

#[tokio::test]
async fn a_unit_hands_a_task_to_another_with_a_trail() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let (one, two) = (browser(), browser());
    sign_in_school(&app, &one, "alpha", "counselor", "initial-password-2").await;
    sign_in_school(&app, &two, "alpha", "counselor2", "initial-password-3").await;
    let (_, page) = get(&app, &one, "/s/alpha/handovers").await;
    let option = |label: &str| {
        let at = page.find(&format!("\">{label}</option>")).expect("unit offered");
        page[at - 36..at].to_owned()
    };
    let (class_one, class_two) = (option("高一(1)班"), option("高一(2)班"));

    // Only from a unit in one's own scope.
    let (status, _) = post_form(
        &app,
        &one,
        "/s/alpha/handovers",
        "/s/alpha/handovers",
        &[("from", &class_two), ("to", &class_one), ("subject", "冒名移交")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = post_form(
        &app,
        &one,
        "/s/alpha/handovers",
        "/s/alpha/handovers",
        &[
            ("from", &class_one),
            ("to", &class_two),
            ("subject", "转班学生档案"),
            ("note", "请查收"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");

    let (_, incoming) = get(&app, &two, "/s/alpha/handovers").await;
    assert!(incoming.contains("转班学生档案") && incoming.contains("待接收"), "{incoming}");
    let marker = "handovers/";
    let start = incoming.find(marker).unwrap();
    let id_start = incoming[start..].find("/accept").map(|i| start + i - 36).unwrap();
    let id = incoming[id_start..id_start + 36].to_owned();
    let accept = format!("/s/alpha/handovers/{id}/accept");

    let (status, _) =
        post_form(&app, &one, "/s/alpha/handovers", &accept, &[("note", "我自己接")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the sender cannot accept for the receiver");
    let (status, html) =
        post_form(&app, &two, "/s/alpha/handovers", &accept, &[("note", "已收到")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("已接收") && html.contains("请查收") && html.contains("已收到"),
        "{html}"
    );
    let (status, _) = post_form(&app, &two, "/s/alpha/handovers", &accept, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "handled once");
}

#[tokio::test]
async fn in_the_demo_district_the_seeded_head_teacher_sees_exactly_their_class() {
    let t = TestDb::new().await;
    district(&t.app, "demo").await;
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../tenants/senior-high.toml");
    let manifest = xg_tenancy::Manifest::from_file(std::path::Path::new(manifest)).unwrap();
    let s = xg_tenancy::onboard(&t.app, &xg_e2e::schools::test_actor(), &manifest)
        .await
        .unwrap()
        .school;
    add_student(&t.app, s.id, "2026010101", "G2026-01").await;
    add_student(&t.app, s.id, "2026010201", "G2026-02").await;
    let app = TestApp::start(t.app.clone()).await;
    let teacher = browser();
    sign_in_school(&app, &teacher, "chengdong-high", "head-g2026-01", "Chengdong-Teacher-2026")
        .await;
    let (status, html) = get(&app, &teacher, "/s/chengdong-high/scope").await;
    assert_eq!(status, StatusCode::OK);
    let classes = html.matches("班 <span class=\"muted\">").count();
    assert_eq!(classes, 1, "exactly one class in scope: {html}");
    assert!(
        html.contains("高一(1)班") && html.contains("2026010101") && !html.contains("2026010201")
    );
}

#[tokio::test]
async fn a_unit_gets_a_leader_and_office_contacts_and_moves_within_its_level() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    add_student(&t.app, s.id, "C2-001", "G1-C2").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let (status, html) = post_form(
        &app,
        &admin,
        "/s/alpha/org",
        "/s/alpha/org/units",
        &[("code", "G2"), ("name", "2024级")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let id_of = |html: &str, code: &str| {
        let at = html.find(&format!("<span class=\"muted\">{code}</span>")).unwrap();
        let rest = &html[at..];
        let start = rest.find("org/units/").unwrap() + "org/units/".len();
        rest[start..start + 36].to_owned()
    };
    let (class_two, grade_two) = (id_of(&html, "G1-C2"), id_of(&html, "G2"));
    let edit = format!("/s/alpha/org/units/{class_two}");
    let (status, page) = get(&app, &admin, &edit).await;
    assert_eq!(status, StatusCode::OK);
    let leader_at = page.find("二班辅导员").unwrap();
    let leader = page[..leader_at].rsplit("value=\"").next().unwrap()[..36].to_owned();

    let fields = |phone: &str, parent: &str| {
        vec![
            ("name", "高一(2)班".to_owned()),
            ("parent", parent.to_owned()),
            ("leader", leader.clone()),
            ("office_phone", phone.to_owned()),
            ("office_location", "行政楼 302".to_owned()),
        ]
    };
    let submit = async |form: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(&app, &admin, &edit, &edit, &pairs).await
    };
    let (status, html) = submit(fields("call me", &grade_two)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("办公电话只能包含数字"));
    let (status, html) = submit(fields("010-8888 1234", "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a class cannot become a grade");
    assert!(html.contains("只能移到与原上级同一层级的单元下"));
    let (status, html) = submit(fields("010-8888 1234", &grade_two)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("负责人：alpha 二班辅导员") && html.contains("010-8888 1234"), "{html}");
    // The class moved under 2024级, with its student still in it.
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let (parent_code, students): (String, i64) = sqlx::query_as(
        "select p.code, (select count(*) from students st where st.org_unit_id = u.id)
           from org_units u join org_units p on p.id = u.parent_id where u.code = 'G1-C2'",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!((parent_code.as_str(), students), ("G2", 1));
    let (_, audit) = get(&app, &admin, "/s/alpha/audit?action=org.unit.update").await;
    assert!(audit.contains("org.unit.update"));
}

#[tokio::test]
async fn a_student_account_sees_only_its_own_record() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    let me = add_student(&t.app, s.id, "S-ME", "G1-C1").await;
    add_student(&t.app, s.id, "S-OTHER", "G1-C1").await;
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let account = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into school_accounts (tenant_id, id, username, display_name, password_hash, student_id)
         values ($1, $2, 'student1', '学生', 'x', $3)",
    )
    .bind(s.id.as_uuid())
    .bind(account)
    .bind(me)
    .execute(tx.conn())
    .await
    .unwrap();
    // Even a unit assignment (a mistake) does not widen a student's view.
    sqlx::query(
        "insert into staff_scopes (tenant_id, account_id, org_unit_id)
         select $1, $2, id from org_units where code = 'G1-C1'",
    )
    .bind(s.id.as_uuid())
    .bind(account)
    .execute(tx.conn())
    .await
    .unwrap();
    let visible = xg_authz::scope::students_in_scope(&mut tx, account).await.unwrap();
    let numbers: Vec<&str> = visible.iter().map(|s| s.student_no.as_str()).collect();
    assert_eq!(numbers, ["S-ME"]);
}
