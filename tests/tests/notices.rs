//! The notices module over HTTP against real PostgreSQL: publishing to a class, students
//! reading and confirming, outsiders refused without a trace, concurrent opens, exact
//! statistics, reminders, revisions, scheduling, the module switch, and a second school that
//! can see none of it. Attachments are in `notice_attachments.rs`.

use reqwest::StatusCode;
use uuid::Uuid;
use xg_e2e::app::{TestApp, browser, csrf_in, get, post_form, sign_in_school};
use xg_e2e::notices::{
    attachment_count, compose, notice_id, pdf_bytes, receipt_counts, student_client, unit_id,
    upload, world,
};
use xg_e2e::schools::add_student;
use xg_kernel::Db;

#[tokio::test]
async fn a_class_notice_is_read_and_confirmed_by_its_students_and_an_outsider_changes_nothing() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    let c2 = unit_id(&w.t.app, w.alpha, "G1-C2").await;

    // Another class is outside this counselor's scope: refused, nothing written.
    let (status, html) = compose(&app, &counselor, "alpha", "越权通知", "x", &[c2], &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("超出了您的管辖范围"), "{html}");
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let written: i64 =
        sqlx::query_scalar("select count(*) from notices").fetch_one(tx.conn()).await.unwrap();
    assert_eq!(written, 0);
    drop(tx);

    let body = "<p>周五<b>班会</b></p><script>alert('x')</script><img src=x onerror=alert(1)>";
    let (status, html) = compose(
        &app,
        &counselor,
        "alpha",
        "班会通知",
        body,
        &[c1],
        &[("needs_confirmation", "on"), ("allow_reply", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("送达 2 名学生"), "{html}");
    let id = notice_id(&w.t.app, w.alpha, "班会通知").await;
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 0, 0));

    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let stored: String = sqlx::query_scalar("select body_html from notices where id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    drop(tx);
    assert!(stored.contains("<b>班会</b>"), "{stored}");
    assert!(!stored.contains("script") && !stored.contains("onerror"), "{stored}");

    let s1 = student_client(&app, "alpha", "s1").await;
    let (status, inbox) = get(&app, &s1, "/s/alpha/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains("<strong id=\"unread-count\">1</strong>"), "{inbox}");
    assert!(inbox.contains("班会通知") && inbox.contains("待确认"), "{inbox}");
    let (status, page) = get(&app, &s1, &format!("/s/alpha/inbox/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<b>班会</b>") && !page.contains("<script"), "{page}");
    let (_, inbox) = get(&app, &s1, "/s/alpha/inbox").await;
    assert!(inbox.contains("<strong id=\"unread-count\">0</strong>"), "{inbox}");
    let path = format!("/s/alpha/inbox/{id}");
    let (status, page) = post_form(&app, &s1, &path, &format!("{path}/confirm"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已确认"), "{page}");
    let (status, _) =
        post_form(&app, &s1, &path, &format!("{path}/reply"), &[("reply", "收到，准时参加")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 1, 1));

    // s3 is in the other class: every door is a 404 and no count moves.
    let s3 = student_client(&app, "alpha", "s3").await;
    assert_eq!(get(&app, &s3, &path).await.0, StatusCode::NOT_FOUND);
    let inbox = get(&app, &s3, "/s/alpha/inbox").await.1;
    let csrf = csrf_in(&inbox);
    for action in ["confirm", "reply"] {
        let form = [("csrf", csrf.as_str()), ("reply", "我也看看")];
        let res = s3.post(app.url(&format!("{path}/{action}"))).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    assert!(!inbox.contains("班会通知"));
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 1, 1));
    // Students do not reach the staff pages.
    assert_eq!(get(&app, &s3, "/s/alpha/notices").await.0, StatusCode::FORBIDDEN);

    let (status, detail) = get(&app, &counselor, &format!("/s/alpha/notices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("送达人数 <strong>2</strong>"), "{detail}");
    assert!(detail.contains("<strong>1</strong>（50.0%）"), "{detail}");
    assert!(detail.contains("C1-001 学生C1-001：收到，准时参加"), "{detail}");
    let unread = detail.split("<ul id=\"unread\">").nth(1).unwrap().split("</ul>").next().unwrap();
    assert!(unread.contains("C1-002") && !unread.contains("C1-001"), "{unread}");

    let res =
        counselor.get(app.url(&format!("/s/alpha/notices/{id}/export"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("filename*=UTF-8''%E5%9B%9E%E6%89%A7"), "{disposition}");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("\u{feff}学号,姓名,班级"), "{csv}");
    assert!(
        lines[1].starts_with("C1-001,学生C1-001,高一(1)班,")
            && lines[1].ends_with(",收到，准时参加")
    );
    assert!(lines[2].starts_with("C1-002,学生C1-002,高一(1)班,") && lines[2].ends_with(",,,"));
}

#[tokio::test]
async fn concurrent_opens_keep_the_first_read_time() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    compose(&app, &counselor, "alpha", "并发通知", "<p>内容</p>", &[c1], &[]).await;
    let id = notice_id(&w.t.app, w.alpha, "并发通知").await;

    let s1 = student_client(&app, "alpha", "s1").await;
    let opens = (0..12).map(|_| {
        let (client, url) = (s1.clone(), app.url(&format!("/s/alpha/inbox/{id}")));
        tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
    });
    for handle in opens {
        assert_eq!(handle.await.unwrap(), StatusCode::OK);
    }
    let read_at = |db: Db| async move {
        let mut tx = db.tenant(w.alpha).await.unwrap();
        let at: Vec<Option<String>> = sqlx::query_scalar(
            "select read_at::text from notice_recipients r join students s on s.id = r.student_id
              where r.notice_id = $1 order by s.student_no",
        )
        .bind(id)
        .fetch_all(tx.conn())
        .await
        .unwrap();
        at
    };
    let first = read_at(w.t.app.clone()).await;
    assert!(first[0].is_some() && first[1].is_none(), "{first:?}");
    assert_eq!(get(&app, &s1, &format!("/s/alpha/inbox/{id}")).await.0, StatusCode::OK);
    assert_eq!(read_at(w.t.app.clone()).await, first, "a later open keeps the first read time");
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 1, 0));
}

#[tokio::test]
async fn statistics_by_class_are_exact_and_a_reminder_reaches_only_those_missing() {
    let w = world().await;
    // Two more students without accounts: one in each class.
    add_student(&w.t.app, w.alpha, "C1-003", "G1-C1").await;
    add_student(&w.t.app, w.alpha, "C2-002", "G1-C2").await;
    let grade = unit_id(&w.t.app, w.alpha, "G1").await;
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    sqlx::query(
        "insert into staff_scopes (tenant_id, account_id, org_unit_id)
         select tenant_id, id, $1 from school_accounts where username = 'admin'",
    )
    .bind(grade)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let app = TestApp::start(w.t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let (status, html) = compose(
        &app,
        &admin,
        "alpha",
        "年级安全通知",
        "<p>注意安全</p>",
        &[grade],
        &[("needs_confirmation", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("送达 5 名学生"), "{html}");
    let id = notice_id(&w.t.app, w.alpha, "年级安全通知").await;
    let path = format!("/s/alpha/inbox/{id}");

    let s1 = student_client(&app, "alpha", "s1").await;
    post_form(&app, &s1, &path, &format!("{path}/confirm"), &[]).await;
    let s2 = student_client(&app, "alpha", "s2").await;
    assert_eq!(get(&app, &s2, &path).await.0, StatusCode::OK);
    let s3 = student_client(&app, "alpha", "s3").await;
    post_form(&app, &s3, &path, &format!("{path}/confirm"), &[]).await;
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (5, 3, 2));

    let (_, detail) = get(&app, &admin, &format!("/s/alpha/notices/{id}")).await;
    assert!(detail.contains("送达人数 <strong>5</strong>"), "{detail}");
    assert!(detail.contains("<strong>3</strong>（60.0%）"), "{detail}");
    assert!(detail.contains("<strong>2</strong>（40.0%）"), "{detail}");
    assert!(
        detail.contains(
            "<tr><td>高一(1)班</td><td>3</td><td>2</td><td>66.7%</td><td>1</td><td>33.3%</td></tr>"
        ),
        "{detail}"
    );
    assert!(
        detail.contains(
            "<tr><td>高一(2)班</td><td>2</td><td>1</td><td>50.0%</td><td>1</td><td>50.0%</td></tr>"
        ),
        "{detail}"
    );
    let unconfirmed =
        detail.split("<ul id=\"unconfirmed\">").nth(1).unwrap().split("</ul>").next().unwrap();
    for (no, listed) in
        [("C1-001", false), ("C1-002", true), ("C1-003", true), ("C2-001", false), ("C2-002", true)]
    {
        assert_eq!(unconfirmed.contains(no), listed, "{no}: {unconfirmed}");
    }

    // The class counselor sees the same notice through their class only.
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let (status, seen) = get(&app, &counselor, &format!("/s/alpha/notices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen.contains("送达人数 <strong>3</strong>") && !seen.contains("C2-002"), "{seen}");

    // One click reaches the unread (C1-003, C2-002) and the read-but-unconfirmed (C1-002).
    let detail_path = format!("/s/alpha/notices/{id}");
    let (status, html) =
        post_form(&app, &admin, &detail_path, &format!("{detail_path}/remind"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("3 名学生"), "{html}");
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let marked: Vec<String> = sqlx::query_scalar(
        "select s.student_no from notice_recipients r join students s on s.id = r.student_id
          where r.attention order by 1",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    let targets: i32 = sqlx::query_scalar("select targets from notice_reminders")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    drop(tx);
    assert_eq!(marked, ["C1-002", "C1-003", "C2-002"]);
    assert_eq!(targets, 3);
    let (_, inbox) = get(&app, &s2, "/s/alpha/inbox").await;
    assert!(inbox.contains("催办提醒"), "{inbox}");
    let (_, inbox) = get(&app, &s1, "/s/alpha/inbox").await;
    assert!(!inbox.contains("催办提醒"), "{inbox}");

    let (status, report) = get(&app, &admin, "/s/alpha/notice-report").await;
    assert_eq!(status, StatusCode::OK);
    assert!(report.contains("<td>综合通知</td><td>1</td><td>60.0%</td>"), "{report}");
    assert_eq!(get(&app, &counselor, "/s/alpha/notice-report").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn edits_keep_revisions_and_a_withdrawn_notice_leaves_the_inbox() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    compose(&app, &counselor, "alpha", "初稿标题", "<p>一</p>", &[c1], &[("action", "draft")])
        .await;
    let id = notice_id(&w.t.app, w.alpha, "初稿标题").await;
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (0, 0, 0), "a draft reaches nobody");

    // A draft's attachment can be taken off again, row and file.
    let (status, _) = upload(&app, &counselor, "alpha", id, "草稿附件.pdf", pdf_bytes(2048)).await;
    assert_eq!(status, StatusCode::OK);
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let attachment: Uuid =
        sqlx::query_scalar("select id from attachments").fetch_one(tx.conn()).await.unwrap();
    drop(tx);
    let detail = format!("/s/alpha/notices/{id}");
    let remove = format!("{detail}/attachments/{attachment}/delete");
    let (status, html) = post_form(&app, &counselor, &detail, &remove, &[]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已删除附件：草稿附件.pdf"), "{html}");
    assert_eq!(attachment_count(&w.t.app, w.alpha).await, 0);
    let link = format!("{detail}/attachments/{attachment}");
    assert_eq!(get(&app, &counselor, &link).await.0, StatusCode::NOT_FOUND);

    let edit = format!("/s/alpha/notices/{id}/edit");
    let unit_field = format!("unit_{c1}");
    let fields = [
        ("title", "正式标题"),
        ("body", "<p>二</p>"),
        ("category", "activity"),
        (unit_field.as_str(), "on"),
    ];
    let (status, html) =
        post_form(&app, &counselor, &edit, &format!("/s/alpha/notices/{id}"), &fields).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("版本 1：初稿标题"), "{html}");
    let (status, html) =
        post_form(&app, &counselor, &detail, &format!("{detail}/publish"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("送达 2 名学生"), "{html}");

    // Once sent, what students received stays: attachments cannot be removed.
    upload(&app, &counselor, "alpha", id, "正式附件.pdf", pdf_bytes(2048)).await;
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let attachment: Uuid =
        sqlx::query_scalar("select id from attachments").fetch_one(tx.conn()).await.unwrap();
    drop(tx);
    let remove = format!("{detail}/attachments/{attachment}/delete");
    assert_eq!(post_form(&app, &counselor, &detail, &remove, &[]).await.0, StatusCode::CONFLICT);
    assert_eq!(attachment_count(&w.t.app, w.alpha).await, 1);

    let s1 = student_client(&app, "alpha", "s1").await;
    assert!(get(&app, &s1, "/s/alpha/inbox").await.1.contains("正式标题"));
    let (status, _) =
        post_form(&app, &counselor, &detail, &format!("{detail}/withdraw"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!get(&app, &s1, "/s/alpha/inbox").await.1.contains("正式标题"));
    assert_eq!(get(&app, &s1, &format!("/s/alpha/inbox/{id}")).await.0, StatusCode::NOT_FOUND);
    // Another counselor of the school cannot act on it.
    let other = browser();
    sign_in_school(&app, &other, "alpha", "counselor2", "initial-password-3").await;
    assert_eq!(get(&app, &other, &detail).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_second_school_cannot_see_or_touch_a_notice() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    compose(&app, &counselor, "alpha", "甲校通知", "<p>仅本校</p>", &[c1], &[]).await;
    let id = notice_id(&w.t.app, w.alpha, "甲校通知").await;

    let beta = browser();
    sign_in_school(&app, &beta, "beta", "counselor", "initial-password-2").await;
    let (status, list) = get(&app, &beta, "/s/beta/notices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.contains("甲校通知"), "{list}");
    for path in [format!("/s/beta/notices/{id}"), format!("/s/beta/notices/{id}/export")] {
        assert_eq!(get(&app, &beta, &path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let page = "/s/beta/notices";
    for action in ["withdraw", "remind", "publish"] {
        let (status, _) =
            post_form(&app, &beta, page, &format!("/s/beta/notices/{id}/{action}"), &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}");
    }
    // Beta's own counselor signed in to alpha's address is not signed in there at all.
    let res = beta.get(app.url(&format!("/s/alpha/notices/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let b1 = student_client(&app, "beta", "b1").await;
    assert_eq!(get(&app, &b1, &format!("/s/beta/inbox/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 0, 0));
    let mut tx = w.t.app.tenant(w.beta).await.unwrap();
    let seen: i64 =
        sqlx::query_scalar("select count(*) from notices").fetch_one(tx.conn()).await.unwrap();
    assert_eq!(seen, 0);
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    let status: String = sqlx::query_scalar("select status from notices where id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(status, "published");
}

#[tokio::test]
async fn a_scheduled_notice_reaches_its_students_once_its_time_has_come() {
    let w = world().await;
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    let c1 = unit_id(&w.t.app, w.alpha, "G1-C1").await;
    let later = [("publish_at", "2099-01-01T08:00")];
    let (status, html) =
        compose(&app, &counselor, "alpha", "定时通知", "<p>稍后</p>", &[c1], &later).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已设置定时发布"), "{html}");
    let id = notice_id(&w.t.app, w.alpha, "定时通知").await;
    let s1 = student_client(&app, "alpha", "s1").await;
    assert!(!get(&app, &s1, "/s/alpha/inbox").await.1.contains("定时通知"));
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (0, 0, 0));

    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    sqlx::query("update notices set publish_at = now() - interval '1 minute' where id = $1")
        .bind(id)
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(get(&app, &s1, "/s/alpha/inbox").await.1.contains("定时通知"));
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (2, 0, 0));

    // Clearing the time of a scheduled notice turns it back into a draft.
    compose(&app, &counselor, "alpha", "再定时", "<p>x</p>", &[c1], &later).await;
    let again = notice_id(&w.t.app, w.alpha, "再定时").await;
    let unit_field = format!("unit_{c1}");
    let fields = [
        ("title", "再定时"),
        ("body", "<p>x</p>"),
        ("category", "general"),
        ("publish_at", ""),
        (unit_field.as_str(), "on"),
    ];
    let edit = format!("/s/alpha/notices/{again}/edit");
    let (status, html) =
        post_form(&app, &counselor, &edit, &format!("/s/alpha/notices/{again}"), &fields).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<span class=\"tag\">草稿</span>"), "{html}");
}

#[tokio::test]
async fn publishing_to_a_grade_of_four_thousand_students_reaches_every_one_of_them() {
    let w = world().await;
    let mut tx = w.t.app.tenant(w.alpha).await.unwrap();
    sqlx::query(
        "insert into students (tenant_id, id, student_no, name, org_unit_id)
         select $1, gen_random_uuid(), 'N' || g, '学生' || g, u.id
           from generate_series(1, 4000) g
           join org_units u on u.code = case when g % 2 = 0 then 'G1-C1' else 'G1-C2' end",
    )
    .bind(w.alpha.as_uuid())
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into staff_scopes (tenant_id, account_id, org_unit_id)
         select a.tenant_id, a.id, u.id from school_accounts a, org_units u
          where a.username = 'admin' and u.code = 'G1'",
    )
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let app = TestApp::start(w.t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
    let grade = unit_id(&w.t.app, w.alpha, "G1").await;

    let (status, html) =
        compose(&app, &admin, "alpha", "全年级通知", "<p>全体</p>", &[grade], &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("送达 4003 名学生"), "{}", &html[..html.len().min(2000)]);
    assert!(html.contains("只显示前 300 名"), "the page lists a sample, the export has all");
    let id = notice_id(&w.t.app, w.alpha, "全年级通知").await;
    assert_eq!(receipt_counts(&w.t.app, w.alpha, id).await, (4003, 0, 0));
}

#[tokio::test]
async fn a_school_without_the_notices_module_has_no_notice_pages() {
    let w = world().await;
    let mut tx = w.t.app.platform().await.unwrap();
    sqlx::query("update schools set modules = array['enrollment'] where slug = 'alpha'")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let app = TestApp::start(w.t.app.clone()).await;
    let counselor = browser();
    sign_in_school(&app, &counselor, "alpha", "counselor", "initial-password-2").await;
    assert_eq!(get(&app, &counselor, "/s/alpha/notices").await.0, StatusCode::NOT_FOUND);
    let (_, home) = get(&app, &counselor, "/s/alpha/home").await;
    assert!(!home.contains("通知公告"), "the menu leaves it out: {home}");
    let s1 = student_client(&app, "alpha", "s1").await;
    assert_eq!(get(&app, &s1, "/s/alpha/inbox").await.0, StatusCode::NOT_FOUND);
    // The other school keeps it.
    let beta = browser();
    sign_in_school(&app, &beta, "beta", "counselor", "initial-password-2").await;
    assert_eq!(get(&app, &beta, "/s/beta/notices").await.0, StatusCode::OK);
}
