//! Student records through the portal, against a real PostgreSQL: roster import (dry run,
//! commit, every row or none), personal data sealed at rest and revealed only with permission,
//! status changes, scoped search, statistics, export that re-imports unchanged, and a second
//! school that sees none of it. Rosters are made in each test, except the three shared real
//! ones, which must import with zero problems.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, csrf_in, get, post_form, sign_in_school};
use xg_e2e::schools::{district, school, test_actor};
use xg_tenancy::accounts::PlatformRole;
use xg_tenancy::{Manifest, onboard};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid ID number for region 110101, the given birth date and sequence (odd = male).
fn id(birth: &str, seq: &str) -> String {
    let first17 = format!("110101{birth}{seq}");
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

const HEADER: &str = "学号,姓名,性别,出生日期,民族,身份证号,政治面貌,班级,联系电话,家庭住址";

fn roster(rows: &[String]) -> Vec<u8> {
    format!("{HEADER}\n{}\n", rows.join("\n")).into_bytes()
}

fn good_rows() -> Vec<String> {
    vec![
        format!(
            "0001,张䶮,男,2010/1/1,汉族,{},共青团员,高一(1)班,13800138000,北京市东城区一号",
            id("20100101", "001")
        ),
        format!(
            "0002,李𠮷,女,2010年1月2日,回族,{},群众,高一(1)班,13900139000,",
            id("20100102", "002")
        ),
        format!("0003,王㒲,男,20100103,汉族,{},共青团员,高一(2)班,,", id("20100103", "003")),
    ]
}

/// Uploads a roster and returns the import job's path.
async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    name: &str,
    bytes: Vec<u8>,
    create_units: bool,
) -> (StatusCode, String) {
    let page = get(app, client, &format!("/s/{slug}/students/imports")).await.1;
    let mut form = Form::new()
        .text("csrf", csrf_in(&page))
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    if create_units {
        form = form.text("create_units", "1");
    }
    let res = client
        .post(app.url(&format!("/s/{slug}/students/imports")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    (status, location.unwrap_or(body))
}

/// Commits a previewed job and waits until it is written.
async fn commit(app: &TestApp, client: &reqwest::Client, job: &str) -> String {
    let (status, _) = post_form(app, client, job, &format!("{job}/commit"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "commit accepted");
    commit_wait(app, client, job).await
}

/// Waits until a committing job is written or has failed.
async fn commit_wait(app: &TestApp, client: &reqwest::Client, job: &str) -> String {
    for _ in 0..300 {
        let html = get(app, client, job).await.1;
        if !html.contains("正在写入") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import did not finish");
}

/// A superuser connection: forced row-level security hides tenant rows from every other role.
async fn su(t: &TestDb) -> sqlx::PgConnection {
    t.superuser().await
}

/// Posts the status form (multipart, with an optional document) from `page`.
async fn post_status(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    fields: &[(&'static str, &'static str)],
    document: Option<(&'static str, Vec<u8>)>,
) -> (StatusCode, String) {
    let html = get(app, client, page).await.1;
    let mut form = Form::new().text("csrf", csrf_in(&html));
    for (k, v) in fields {
        form = form.text(*k, *v);
    }
    if let Some((name, bytes)) = document {
        form = form.part("document", Part::bytes(bytes).file_name(name));
    }
    let res = client.post(app.url(&format!("{page}/status"))).multipart(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn count(t: &TestDb, slug: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from students s join schools c on c.id = s.tenant_id where c.slug = $1",
    )
    .bind(slug)
    .fetch_one(&mut su(t).await)
    .await
    .unwrap()
}

/// The id of alpha's unit `code`.
async fn unit(t: &TestDb, code: &str) -> uuid::Uuid {
    sqlx::query_scalar(
        "select u.id from org_units u join schools s on s.id = u.tenant_id
          where s.slug = 'alpha' and u.code = $1",
    )
    .bind(code)
    .fetch_one(&mut su(t).await)
    .await
    .unwrap()
}

async fn admin(app: &TestApp, slug: &str) -> reqwest::Client {
    let c = browser();
    sign_in_school(app, &c, slug, "admin", "initial-password-1").await;
    c
}

/// District `d1` with `schools` (the first signs in), and the three good rows imported into
/// the first: the test database, the service, the first school's admin and the import job.
async fn alpha_with_roster(schools: &[&str]) -> (TestDb, TestApp, reqwest::Client, String) {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    for slug in schools {
        school(&t.app, "d1", slug).await;
    }
    let app = TestApp::start(t.app.clone()).await;
    let admin = admin(&app, schools[0]).await;
    let (_, job) = upload(&app, &admin, schools[0], "名册.csv", roster(&good_rows()), false).await;
    commit(&app, &admin, &job).await;
    (t, app, admin, job)
}

#[tokio::test]
async fn a_clean_roster_previews_then_commits_whole_with_personal_data_sealed() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let c = admin(&app, "alpha").await;

    let (status, job) = upload(&app, &c, "alpha", "名册.csv", roster(&good_rows()), false).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{job}");
    let html = get(&app, &c, &job).await.1;
    assert!(html.contains("共 3 行，发现 0 处问题"), "{html}");
    assert_eq!(count(&t, "alpha").await, 0, "a dry run writes nothing");
    let html = commit(&app, &c, &job).await;
    assert!(html.contains("导入完成：3 名学生"), "{html}");
    assert_eq!(count(&t, "alpha").await, 3);

    // Sealed at rest: no ID digits, phone or address in the stored row; masked form kept.
    let (sealed, masked, phone_masked): (Vec<u8>, String, String) = sqlx::query_as(
        "select id_number_sealed, id_number_masked, phone_masked from students where student_no = '0001'",
    )
    .fetch_one(&mut su(&t).await)
    .await
    .unwrap();
    let full = id("20100101", "001");
    assert!(!sealed.windows(8).any(|w| w == &full.as_bytes()[6..14]));
    assert_eq!(masked, format!("1101**********{}", &full[14..]));
    assert_eq!(phone_masked, "138****8000");
    let dump: String = sqlx::query_scalar("select string_agg(s::text, '|') from students s")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    assert!(
        !dump.contains(&full) && !dump.contains("13800138000") && !dump.contains("东城区"),
        "plain personal data at rest"
    );

    // Rare characters survive import and search byte for byte; an exact ID finds its student.
    let html = get(&app, &c, "/s/alpha/students?q=%E6%9D%8E").await.1;
    assert!(html.contains("李𠮷") && !html.contains("张䶮"), "{html}");
    let html = get(&app, &c, &format!("/s/alpha/students?q={full}")).await.1;
    assert!(html.contains("张䶮") && html.contains("共 1 名学生"), "{html}");

    // Committing the same job again is refused, and a second upload finds the duplicates.
    let (status, _) = post_form(&app, &c, &job, &format!("{job}/commit"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, again) = upload(&app, &c, "alpha", "名册.csv", roster(&good_rows()), false).await;
    let html = get(&app, &c, &again).await.1;
    assert!(html.contains("发现 6 处问题") && html.contains("本校学籍中已有这个学号"), "{html}");
    let (status, _) = post_form(&app, &c, &again, &format!("{again}/commit"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(count(&t, "alpha").await, 3);
}

/// Rows that reach the register after the preview never slip in: neither ones committed before
/// the commit starts, nor ones another transaction writes while the commit runs. Either way the
/// job fails with the count of problems and writes nothing.
#[tokio::test]
async fn rows_added_after_the_preview_are_refused_at_commit() {
    let (t, app, c, _) = alpha_with_roster(&["alpha"]).await;
    let extra = |no: &str, seq: &str| {
        format!("{no},新生{no},男,2010-01-05,汉族,{},群众,高一(1)班,,", id("20100105", seq))
    };
    // Both previewed clean while the register held 0001-0003 only.
    let (_, first) =
        upload(&app, &c, "alpha", "a.csv", roster(&[extra("0004", "011")]), false).await;
    let (_, second) = upload(
        &app,
        &c,
        "alpha",
        "b.csv",
        roster(&[extra("0004", "011"), extra("0005", "013")]),
        false,
    )
    .await;
    assert!(get(&app, &c, &second).await.1.contains("发现 0 处问题"));
    let html = commit(&app, &c, &first).await;
    assert!(html.contains("导入完成：1 名学生"), "{html}");
    let html = commit(&app, &c, &second).await;
    assert!(html.contains("现在有 2 处问题，没有写入任何数据"), "{html}");
    assert_eq!(count(&t, "alpha").await, 4, "0005 did not land without 0004");

    // A student written by another transaction while the commit runs: the commit waits for it
    // and then refuses, instead of failing with an internal error or landing a duplicate.
    let (_, third) = upload(
        &app,
        &c,
        "alpha",
        "c.csv",
        roster(&[extra("0006", "015"), extra("0007", "017")]),
        false,
    )
    .await;
    assert!(get(&app, &c, &third).await.1.contains("发现 0 处问题"));
    let mut other = su(&t).await;
    sqlx::query("begin").execute(&mut other).await.unwrap();
    sqlx::query(
        "insert into students (tenant_id, id, student_no, name)
         select id, gen_random_uuid(), '0007', '并发写入' from schools where slug = 'alpha'",
    )
    .execute(&mut other)
    .await
    .unwrap();
    let (status, _) = post_form(&app, &c, &third, &format!("{third}/commit"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sqlx::query("commit").execute(&mut other).await.unwrap();
    let html = commit_wait(&app, &c, &third).await;
    assert!(html.contains("现在有 1 处问题，没有写入任何数据"), "{html}");
    assert_eq!(count(&t, "alpha").await, 5, "only the concurrent row landed");
}

#[tokio::test]
async fn every_bad_row_is_explained_and_nothing_is_written() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let c = admin(&app, "alpha").await;
    let mut rows = good_rows();
    rows.push(format!("0004,赵六,女,2010-9-31,汉族,{},群众,高一(1)班,,", id("20100930", "004")));
    rows.push("0005,钱七,男,2010-01-01,汉族,1.10101E+17,群众,高一(1)班,,".to_owned());
    rows.push(format!("0006,孙八,男,2010-01-01,火星族,{},群众,高一(1)班,,", id("20100101", "005")));
    rows.push(format!("0007,周九,男,2010-01-01,汉族,{},群众,高三(9)班,,", id("20100101", "007")));
    let (_, job) = upload(&app, &c, "alpha", "bad.csv", roster(&rows), false).await;
    let html = get(&app, &c, &job).await.1;
    assert!(html.contains("发现 4 处问题"), "{html}");
    for expected in ["日期不存在", "转成了数字", "GB 3304", "组织机构中没有这个班级"]
    {
        assert!(html.contains(expected), "{expected}: {html}");
    }
    assert!(
        html.contains("<td>5</td>") && html.contains("<td>8</td>"),
        "row numbers as in the file"
    );
    let (status, _) = post_form(&app, &c, &job, &format!("{job}/commit"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(count(&t, "alpha").await, 0);

    // A control character in the file name is refused with a reason, never a 500.
    let (status, body) =
        upload(&app, &c, "alpha", "名\u{7}单.csv", roster(&good_rows()), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("文件名含有无法识别的字符"), "{body}");
    // A file that is not a roster gets a Chinese reason, not a 500.
    let (status, body) =
        upload(&app, &c, "alpha", "photo.png", b"\x89PNG\r\n\x1a\n....".to_vec(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("只能导入 .xlsx 或 .csv"), "{body}");
}

#[tokio::test]
async fn export_then_import_into_another_school_changes_nothing() {
    let (t, app, a, _) = alpha_with_roster(&["alpha", "beta"]).await;

    let res = a.get(app.url("/s/alpha/students/export?format=csv")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
    let csv_a = res.bytes().await.unwrap().to_vec();
    assert!(csv_a.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM for Excel");
    let text = String::from_utf8(csv_a.clone()).unwrap();
    assert!(
        text.contains("张䶮") && text.contains(&id("20100101", "001")) && text.contains("0001,"),
        "{text}"
    );

    let xlsx =
        a.get(app.url("/s/alpha/students/export")).send().await.unwrap().bytes().await.unwrap();
    let table = xg_enrollment::sheet::read_xlsx(&xlsx).unwrap();
    assert_eq!(table.rows.len(), 3);
    let first: Vec<String> = table.rows[0].1.iter().map(|c| format!("{c:?}")).collect();
    assert!(
        first[0].contains("\"0001\"") && first[6].contains(&id("20100101", "001")),
        "text cells: {first:?}"
    );

    let b = admin(&app, "beta").await;
    let (_, job) = upload(&app, &b, "beta", "export.csv", csv_a.clone(), false).await;
    let html = commit(&app, &b, &job).await;
    assert!(html.contains("导入完成：3 名学生"), "{html}");
    let csv_b = b
        .get(app.url("/s/beta/students/export?format=csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(String::from_utf8(csv_b.to_vec()).unwrap(), text, "the round trip is exact");

    // Each export is audited.
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'students.export'")
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn status_changes_follow_the_state_machine_and_keep_a_history() {
    let (t, app, c, _) = alpha_with_roster(&["alpha"]).await;
    let sid: uuid::Uuid = sqlx::query_scalar("select id from students where student_no = '0001'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    let page = format!("/s/alpha/student/{sid}");
    let change = |kind: &'static str| {
        let (app, c, page) = (&app, &c, page.clone());
        async move {
            let fields = [
                ("kind", kind),
                ("effective_date", "2026-03-01"),
                ("reason", "因病"),
                ("document_no", "教字〔2026〕1号"),
            ];
            post_status(app, c, &page, &fields, None).await
        }
    };
    let (status, html) = change("resume").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("当前学籍状态为“在籍”，不能办理“复学”"), "{html}");
    assert_eq!(change("suspend").await.0, StatusCode::OK);
    assert_eq!(
        change("graduate").await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a suspended student cannot graduate"
    );
    assert_eq!(change("resume").await.0, StatusCode::OK);
    let (status, html) = change("graduate").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("学籍状态现为“毕业”"), "{html}");
    let kinds: Vec<String> = sqlx::query_scalar(
        "select kind from student_status_changes where student_id = $1 order by created_at",
    )
    .bind(sid)
    .fetch_all(&mut su(&t).await)
    .await
    .unwrap();
    assert_eq!(kinds, ["enroll", "suspend", "resume", "graduate"]);
    // A missing reason is explained and changes nothing.
    let fields = [("kind", "withdraw"), ("effective_date", "2026-03-01"), ("reason", " ")];
    let (status, html) = post_status(&app, &c, &page, &fields, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写异动原因"), "{html}");
    let long = "文".repeat(101);
    let long: &'static str = Box::leak(long.into_boxed_str());
    let fields = [
        ("kind", "withdraw"),
        ("effective_date", "2026-03-01"),
        ("reason", "个人"),
        ("document_no", long),
    ];
    let (status, html) = post_status(&app, &c, &page, &fields, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不能超过 100 字"), "{html}");
    // A scanned approval travels with the change; a program posing as a PDF does not.
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec();
    let fields = [("kind", "withdraw"), ("effective_date", "2026-06-30"), ("reason", "个人申请")];
    let fake = b"MZ\x90\0\x03\0\0\0\x04\0".to_vec();
    let (status, html) = post_status(&app, &c, &page, &fields, Some(("退学 批复.pdf", fake))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("附件只能是"), "{html}");
    let (status, html) =
        post_status(&app, &c, &page, &fields, Some(("退学 批复.pdf", pdf.clone()))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "graduated students cannot withdraw");
    assert!(html.contains("不能办理“退学”"), "{html}");
    let orphans: i64 =
        sqlx::query_scalar("select count(*) from attachments where file_name = '退学 批复.pdf'")
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
    assert_eq!(orphans, 0, "a refused change keeps no document row");
    // On another student the same change goes through, with its document downloadable.
    let other: uuid::Uuid = sqlx::query_scalar("select id from students where student_no = '0002'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    let other_page = format!("/s/alpha/student/{other}");
    let (status, html) =
        post_status(&app, &c, &other_page, &fields, Some(("退学 批复.pdf", pdf.clone()))).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let link = html
        .split("href=\"")
        .map(|h| h.split('"').next().unwrap())
        .find(|h| h.contains("/documents/"))
        .unwrap()
        .to_owned();
    let res = c.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''%E9%80%80%E5%AD%A6%20")
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    // The document is useless to another school.
    school(&t.app, "d1", "beta").await;
    let b = admin(&app, "beta").await;
    assert_eq!(get(&app, &b, &link.replace("alpha", "beta")).await.0, StatusCode::NOT_FOUND);
    // The history cannot be rewritten by the service role.
    let mut tx = t.app.pool().begin().await.unwrap();
    let err =
        sqlx::query("delete from student_status_changes").execute(&mut *tx).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

#[tokio::test]
async fn staff_see_their_scope_reveal_needs_permission_and_another_school_sees_nothing() {
    let (t, app, a, job) = alpha_with_roster(&["alpha", "beta"]).await;
    let sid: uuid::Uuid = sqlx::query_scalar("select id from students where student_no = '0003'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    let other: uuid::Uuid = sqlx::query_scalar("select id from students where student_no = '0001'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();

    // The counselor of class 1 sees its two students, not class 2's, and cannot reveal or export.
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let html = get(&app, &counselor, "/s/alpha/students").await.1;
    assert!(html.contains("张䶮") && html.contains("李𠮷") && !html.contains("王㒲"), "{html}");
    // Its unit filter offers the units of its scope only; the admin's offers every unit.
    let offered = |html: &str| -> Vec<String> {
        let select = html.split_once("<select name=\"unit\">").unwrap().1;
        let select = select.split_once("</select>").unwrap().0;
        select
            .split("<option value=\"")
            .skip(2) // the empty choice ("any")
            .filter_map(|o| Some(o.split_once('>')?.1.split_once('<')?.0.to_owned()))
            .collect()
    };
    assert_eq!(offered(&html), ["高一(1)班"]);
    let chosen =
        get(&app, &counselor, &format!("/s/alpha/students?unit={}", unit(&t, "G1-C1").await))
            .await
            .1;
    assert!(chosen.contains("selected>高一(1)班</option>"), "{chosen}");
    let all = get(&app, &a, "/s/alpha/students").await.1;
    assert_eq!(offered(&all), ["2025级", "高一(1)班", "高一(2)班"]);
    assert_eq!(
        get(&app, &counselor, &format!("/s/alpha/student/{sid}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, html) = get(&app, &counselor, &format!("/s/alpha/student/{other}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("1101**********") && !html.contains(&id("20100101", "001")),
        "masked: {html}"
    );
    let (status, _) = post_form(
        &app,
        &counselor,
        &format!("/s/alpha/student/{other}"),
        &format!("/s/alpha/student/{other}/reveal"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &counselor, "/s/alpha/students/export").await.0, StatusCode::FORBIDDEN);

    // The admin reveals, and the reveal is audited.
    let (status, html) = post_form(
        &app,
        &a,
        &format!("/s/alpha/student/{other}"),
        &format!("/s/alpha/student/{other}/reveal"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&id("20100101", "001"))
            && html.contains("13800138000")
            && html.contains("北京市东城区一号"),
        "{html}"
    );
    let reveals: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'students.reveal' and target = $1",
    )
    .bind(other.to_string())
    .fetch_one(&mut su(&t).await)
    .await
    .unwrap();
    assert_eq!(reveals, 1);

    // Another school: no rows in its register, and the first school's record is a 404.
    let b = admin(&app, "beta").await;
    let html = get(&app, &b, "/s/beta/students").await.1;
    assert!(html.contains("共 0 名学生") && !html.contains("张䶮"), "{html}");
    assert_eq!(get(&app, &b, &format!("/s/beta/student/{other}")).await.0, StatusCode::NOT_FOUND);
    let (status, _) = post_form(
        &app,
        &b,
        "/s/beta/students/imports",
        &format!("/s/beta/student/{other}/reveal"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &b, &job.replace("alpha", "beta")).await.0,
        StatusCode::NOT_FOUND,
        "another school's import job"
    );
    let stats = get(&app, &b, "/s/beta/students/stats").await.1;
    assert!(!stats.contains("高一(1)班"), "{stats}");
}

#[tokio::test]
async fn the_template_is_a_roster_the_import_accepts() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let c = admin(&app, "alpha").await;
    let res = c.get(app.url("/s/alpha/students/template")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let preview =
        xg_enrollment::preview::preview(&xg_enrollment::sheet::read_xlsx(&bytes).unwrap());
    assert_eq!(preview.problems, []);
    assert_eq!(preview.drafts.len(), 1);
    assert_eq!(preview.drafts[0].student_no, "20260001");
}

/// The three shared real rosters, into schools onboarded from the demo manifests (whose class
/// trees match them): zero problems, every student written, head counts right.
#[tokio::test]
async fn the_three_real_rosters_import_with_zero_problems_and_right_counts() {
    let t = TestDb::new().await;
    district(&t.app, "demo").await;
    for file in ["senior-high", "vocational", "college"] {
        let text = std::fs::read_to_string(format!("../tenants/{file}.toml")).unwrap();
        onboard(&t.app, &test_actor(), &Manifest::parse(file, &text).unwrap()).await.unwrap();
    }
    let app = TestApp::start(t.app.clone()).await;
    let slugs: Vec<(String, String)> =
        sqlx::query_as("select slug, name from schools order by slug")
            .fetch_all(&mut su(&t).await)
            .await
            .unwrap();
    let roster_of = |slug: &str| match slug {
        s if s.contains("high") => ("senior-high-school.xlsx", 1620),
        s if s.contains("vocational") => ("vocational-school.xlsx", 720),
        _ => ("college.csv", 2520),
    };
    for (slug, _) in &slugs {
        let (file, expected) = roster_of(slug);
        let bytes = std::fs::read(format!("../../shared/data/rosters/{file}")).unwrap();
        let manifest_admin = sqlx::query_scalar::<_, String>("select username from school_accounts a join schools s on s.id = a.tenant_id join account_roles r on r.tenant_id = a.tenant_id and r.account_id = a.id where s.slug = $1 and r.role_key = 'school_admin' limit 1")
            .bind(slug)
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
        assert_eq!(manifest_admin, "admin");
        let c = browser();
        let password = match slug.as_str() {
            s if s.contains("high") => "Chengdong-Admin-2026",
            s if s.contains("vocational") => "Chengnan-Admin-2026",
            _ => "Minghu-Admin-2026",
        };
        sign_in_school(&app, &c, slug, "admin", password).await;
        let (status, job) = upload(&app, &c, slug, file, bytes, false).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{job}");
        let html = get(&app, &c, &job).await.1;
        assert!(
            html.contains(&format!("共 {expected} 行，发现 0 处问题")),
            "{slug}: {}",
            &html[..html.len().min(3000)]
        );
        let html = commit(&app, &c, &job).await;
        assert!(html.contains(&format!("导入完成：{expected} 名学生")), "{html}");
        assert_eq!(count(&t, slug).await, expected);
        let (male, female): (i64, i64) = sqlx::query_as(
            "select count(*) filter (where gender = 'male'), count(*) filter (where gender = 'female')
               from students s join schools c on c.id = s.tenant_id where c.slug = $1",
        )
        .bind(slug)
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
        assert_eq!(male + female, expected);
        let stats = get(&app, &c, &format!("/s/{slug}/students/stats")).await.1;
        assert!(stats.contains(&format!("合计 {expected} 人")), "{slug} stats");
        assert!(
            stats.contains(&format!("<th scope=\"row\">男</th><td class=\"num\">{male}</td>")),
            "{slug} gender counts"
        );
    }
}

/// A transfer: the receiving school requests, the sending school approves, the district
/// approves, and the record moves with its history in one transaction; a clash at the receiving
/// school makes the whole move fail with both schools unchanged.
#[tokio::test]
async fn a_transfer_moves_the_record_with_its_history_or_nothing_at_all() {
    let t = TestDb::new().await;
    let d = district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    school(&t.app, "d1", "beta").await;
    let app = TestApp::start(t.app.clone()).await;
    let a = admin(&app, "alpha").await;
    let (_, job) = upload(&app, &a, "alpha", "名册.csv", roster(&good_rows()), false).await;
    commit(&app, &a, &job).await;
    let b = admin(&app, "beta").await;
    // beta already has a student numbered 0002, so moving 0002 must fail whole.
    let (_, job) = upload(
        &app,
        &b,
        "beta",
        "b.csv",
        roster(&[format!(
            "0002,陈一,男,2010-05-05,汉族,{},群众,高一(1)班,,",
            id("20100505", "009")
        )]),
        false,
    )
    .await;
    commit(&app, &b, &job).await;
    let alpha_id: uuid::Uuid = sqlx::query_scalar("select id from schools where slug = 'alpha'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    let class: uuid::Uuid = sqlx::query_scalar("select u.id from org_units u join schools s on s.id = u.tenant_id where s.slug = 'beta' and u.code = 'G1-C2'").fetch_one(&mut su(&t).await).await.unwrap();

    let mut cases = Vec::new();
    for (no, name, birth, seq) in
        [("0001", "张䶮", "20100101", "001"), ("0002", "李𠮷", "20100102", "002")]
    {
        let (status, html) = post_form(
            &app,
            &b,
            "/s/beta/students/transfers",
            "/s/beta/students/transfers",
            &[
                ("from_school", &alpha_id.to_string()),
                ("student_name", name),
                ("student_no", no),
                ("id_number", &id(birth, seq)),
                ("target_unit", &class.to_string()),
                ("reason", "随父母迁居"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("转学申请已提交"), "{html}");
        let case: uuid::Uuid = sqlx::query_scalar(
            "select id from student_transfers where student_no = $1 and direction = 'incoming'",
        )
        .bind(no)
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
        cases.push(case);
    }
    // The sending school sees both requests and approves them.
    let html = get(&app, &a, "/s/alpha/students/transfers").await.1;
    assert!(html.contains("张䶮") && html.contains("待转出学校审核"), "{html}");
    for case in &cases {
        let (status, html) = post_form(
            &app,
            &a,
            "/s/alpha/students/transfers",
            &format!("/s/alpha/students/transfers/{case}/decide"),
            &[("decision", "approve"), ("comment", "同意")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
    }
    // The district sees both waiting and approves them in the portal; the second clashes.
    xg_e2e::app::platform_account(&t.app, "bureau", PlatformRole::DistrictAdmin, Some("d1")).await;
    let bureau = browser();
    let res = xg_e2e::app::sign_in(&app, &bureau, "/login", "bureau", "bureau-password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = get(&app, &bureau, "/district/students?dim=status").await.1;
    assert!(html.contains("张䶮") && html.contains("李𠮷"), "{html}");
    let decide = |case: uuid::Uuid| {
        let (app, bureau) = (&app, &bureau);
        async move {
            let path = format!("/district/transfers/{case}/decide");
            post_form(app, bureau, "/district/students", &path, &[("decision", "approve")]).await
        }
    };
    let (status, html) = decide(cases[0]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, html) = decide(cases[1]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("转入学校已有相同学号"), "{html}");
    let _ = d;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select c.slug, s.student_no, s.status from students s join schools c on c.id = s.tenant_id
          where s.name in ('张䶮', '李𠮷') order by 1, 2",
    )
    .fetch_all(&mut su(&t).await)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("alpha".into(), "0001".into(), "transferred_out".into()),
            ("alpha".into(), "0002".into(), "enrolled".into()),
            ("beta".into(), "0001".into(), "enrolled".into()),
        ]
    );
    let history: Vec<String> = sqlx::query_scalar(
        "select h.kind from student_status_changes h join schools c on c.id = h.tenant_id
           join students s on s.tenant_id = h.tenant_id and s.id = h.student_id
          where c.slug = 'beta' and s.name = '张䶮' order by h.kind",
    )
    .fetch_all(&mut su(&t).await)
    .await
    .unwrap();
    assert_eq!(
        history,
        ["enroll", "transfer_in", "transfer_out"],
        "history arrives with the record"
    );
    let states: Vec<(String, String)> = sqlx::query_as(
        "select direction, status from student_transfers where id = $1 order by direction",
    )
    .bind(cases[1])
    .fetch_all(&mut su(&t).await)
    .await
    .unwrap();
    assert_eq!(
        states,
        [
            ("incoming".into(), "sender_approved".into()),
            ("outgoing".into(), "sender_approved".into())
        ],
        "the failed move left both sides as they were"
    );
    // The arrival's personal data was re-sealed under the receiving school's key and is searchable there.
    let html = get(&app, &b, &format!("/s/beta/students?q={}", id("20100101", "001"))).await.1;
    assert!(html.contains("张䶮") && html.contains("高一(2)班"), "{html}");
}

/// Import creates student accounts without hashing a password; the first sign-in uses the
/// last six characters of the ID number, under the lockout, and must set a real password.
#[tokio::test]
async fn imported_students_activate_on_first_sign_in_with_their_id_suffix() {
    let (t, app, _, _) = alpha_with_roster(&["alpha"]).await;
    let pending: Vec<(String, String)> = sqlx::query_as(
        "select a.username, a.password_hash from school_accounts a join account_roles r
            on r.tenant_id = a.tenant_id and r.account_id = a.id
          where r.role_key = 'student' order by 1",
    )
    .fetch_all(&mut su(&t).await)
    .await
    .unwrap();
    let names: Vec<&str> = pending.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["0001", "0002", "0003"]);
    assert!(pending.iter().all(|(_, h)| h == "!activation-pending"), "no hashing on import");

    // A wrong suffix fails and counts; the right one signs in and forces a new password.
    let student = browser();
    let res = xg_e2e::app::sign_in(&app, &student, "/s/alpha/login", "0002", "000000").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let failures: i32 =
        sqlx::query_scalar("select failed_logins from school_accounts where username = '0002'")
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
    assert_eq!(failures, 1);
    let suffix = &id("20100102", "002")[12..];
    sign_in_school(&app, &student, "alpha", "0002", suffix).await;
    let hash: String =
        sqlx::query_scalar("select password_hash from school_accounts where username = '0002'")
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "a real password after activation");
    let (status, html) = get(&app, &student, "/s/alpha/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("李𠮷") && html.contains("在籍"), "{html}");
    assert!(!html.contains("students/imports"), "no staff navigation for a student");
    let other_id: uuid::Uuid =
        sqlx::query_scalar("select id from students where student_no = '0001'")
            .fetch_one(&mut su(&t).await)
            .await
            .unwrap();
    let other_record = format!("/s/alpha/student/{other_id}");
    assert_eq!(get(&app, &student, &other_record).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, &student, "/s/alpha/students").await.0, StatusCode::FORBIDDEN);
    // The suffix no longer works once a password is set.
    let other = browser();
    let res = xg_e2e::app::sign_in(&app, &other, "/s/alpha/login", "0002", suffix).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// A photo is an image checked by content, shown to those who may see the record only.
#[tokio::test]
async fn a_photo_is_kept_for_the_record_and_shown_only_within_reach() {
    let (t, app, a, _) = alpha_with_roster(&["alpha", "beta"]).await;
    let sid: uuid::Uuid = sqlx::query_scalar("select id from students where student_no = '0001'")
        .fetch_one(&mut su(&t).await)
        .await
        .unwrap();
    let page = format!("/s/alpha/student/{sid}");
    let send = |bytes: Vec<u8>| {
        let (app, a, page) = (&app, &a, page.clone());
        async move {
            let html = get(app, a, &page).await.1;
            let form = Form::new()
                .text("csrf", csrf_in(&html))
                .part("photo", Part::bytes(bytes).file_name("照片.png"));
            a.post(app.url(&format!("{page}/photo"))).multipart(form).send().await.unwrap().status()
        }
    };
    assert_eq!(send(b"<svg onload=alert(1)>".to_vec()).await, StatusCode::UNPROCESSABLE_ENTITY);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    assert_eq!(send(png.clone()).await, StatusCode::SEE_OTHER);
    assert!(get(&app, &a, &page).await.1.contains(&format!("student/{sid}/photo")));
    let res = a.get(app.url(&format!("{page}/photo"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
    // The counselor of class 2 and another school's admin get nothing.
    let counselor2 = browser();
    sign_in_school(&app, &counselor2, "alpha", "counselor2", "initial-password-3").await;
    assert_eq!(get(&app, &counselor2, &format!("{page}/photo")).await.0, StatusCode::NOT_FOUND);
    let b = admin(&app, "beta").await;
    assert_eq!(
        get(&app, &b, &format!("/s/beta/student/{sid}/photo")).await.0,
        StatusCode::NOT_FOUND
    );
}
