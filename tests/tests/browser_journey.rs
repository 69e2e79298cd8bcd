//! The main job, proven in a real browser (headless Chromium from Debian's packages): a district
//! bureau signs in and onboards three fresh schools; each school's admin changes the initial
//! password and imports its real roster from `../shared/data/rosters/` through the upload (dry
//! run, then commit); the college's admin creates a counselor for two classes; the counselor
//! publishes a notice with an attachment to one class; a student of that class signs in for the
//! first time on a 375-px phone screen, reads and confirms it; the counselor sees the read rate;
//! the bureau sees the three schools' head counts side by side. Every step asserts on what the
//! page shows and saves a screenshot under `target/journey-screenshots/`.
//!
//! The award steps (journey 4 and 6): the admin publishes a two-step review and an award item,
//! the student applies on the phone, the counselor and the admin approve, and the result passes
//! 公示.
//!
//! Known limits: the captcha answer is read from the database (a test cannot read the image),
//! and the five-day 公示 period is cut short in the database.

#[path = "journey/kit.rs"]
mod kit;
#[path = "journey/roster.rs"]
mod roster;

use std::path::{Path, PathBuf};
use std::time::Instant;

use kit::{Kit, Tab};
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, platform_account};
use xg_e2e::schools::test_actor;
use xg_tenancy::accounts::PlatformRole;
use xg_tenancy::manifest::Manifest;
use xg_tenancy::onboard::onboard;

const NEW_PASSWORD: &str = "Journey-Pass-2026";

struct FreshSchool {
    name: &'static str,
    slug: &'static str,
    kind: &'static str,
    roster: &'static str,
    students: usize,
}

const SCHOOLS: [FreshSchool; 3] = [
    FreshSchool {
        name: "城西高级中学",
        slug: "chengxi-high",
        kind: "senior_high",
        roster: "senior-high-school.xlsx",
        students: 1620,
    },
    FreshSchool {
        name: "城北中等职业学校",
        slug: "chengbei-vocational",
        kind: "vocational",
        roster: "vocational-school.xlsx",
        students: 720,
    },
    FreshSchool {
        name: "江湾学院",
        slug: "jiangwan-college",
        kind: "college",
        roster: "college.csv",
        students: 2520,
    },
];

fn rosters() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/rosters")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("journey-screenshots")
}

/// The text between `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from =
        text.find(start).unwrap_or_else(|| panic!("{start:?} not in:\n{text}")) + start.len();
    text[from..].split(end).next().unwrap()
}

#[tokio::test]
async fn the_main_job_in_a_real_browser() {
    let started = Instant::now();
    let t = TestDb::new().await;
    xg_e2e::schools::district(&t.app, "demo").await;
    for file in ["senior-high", "vocational", "college"] {
        let text = std::fs::read_to_string(format!("../tenants/{file}.toml")).unwrap();
        onboard(&t.app, &test_actor(), &Manifest::parse(file, &text).unwrap()).await.unwrap();
    }
    platform_account(&t.app, "bureau", PlatformRole::DistrictAdmin, Some("demo")).await;
    let app = TestApp::start(t.app.clone()).await;
    let kit = Kit::launch(screenshot_dir()).await;
    println!("journey screenshots: {}", std::fs::canonicalize(&kit.shots).unwrap().display());

    // The bureau signs in and sees its schools.
    let bureau = kit.person(&app).await;
    sign_in(&app, &bureau, "/login", "bureau", "bureau-password").await;
    bureau.expect_text("教育局工作台").await;
    bureau.expect_text("城东高级中学").await;
    bureau.assert_labelled().await;
    kit.shot(&bureau, "district-schools").await;

    // ... and onboards three fresh schools through the form.
    let mut initial = Vec::new();
    for s in &SCHOOLS {
        bureau.open("/district").await;
        bureau.fill("#name", s.name).await;
        bureau.fill("#slug", s.slug).await;
        bureau.select("#kind", s.kind).await;
        bureau.fill("#admin_username", "admin").await;
        bureau.fill("#admin_display_name", "王老师").await;
        bureau.submit("form[action='/district/schools'] button[type=submit]").await;
        let text = bureau.expect_text(&format!("已开通学校“{}”", s.name)).await;
        initial.push(between(&text, "初始密码：", "（").to_owned());
        kit.shot(&bureau, &format!("onboarded-{}", s.slug)).await;
    }

    // Each school's admin changes the initial password and imports the roster.
    let mut college_admin = None;
    for (s, password) in SCHOOLS.iter().zip(&initial) {
        let admin = kit.person(&app).await;
        first_sign_in(&app, &kit, &admin, s.slug, "admin", password).await;
        admin.open(&format!("/s/{}/students/imports", s.slug)).await;
        admin.expect_text("还没有导入记录").await;
        admin.assert_labelled().await;
        admin.choose_file("input[type=file][name=file]", &rosters().join(s.roster)).await;
        admin.el("input[name=create_units]").await.click().await.unwrap();
        admin.submit("form[enctype='multipart/form-data'] button[type=submit]").await;
        admin.expect_text(&format!("共 {} 行，发现 0 处问题", s.students)).await;
        kit.shot(&admin, &format!("dry-run-{}", s.slug)).await;
        admin.submit("form[action$='/commit'] button").await;
        admin.wait_for_text(&format!("导入完成：{} 名学生已写入学籍", s.students)).await;
        kit.shot(&admin, &format!("imported-{}", s.slug)).await;
        admin.open(&format!("/s/{}/students/stats", s.slug)).await;
        admin.expect_text(&format!("合计 {} 人", s.students)).await;
        kit.shot(&admin, &format!("stats-{}", s.slug)).await;
        if s.kind == "college" {
            college_admin = Some(admin);
        }
    }
    let admin = college_admin.unwrap();
    let college = &SCHOOLS[2];

    // The college admin creates a counselor for two classes.
    let students = roster::college(&rosters().join(college.roster));
    let first = &students[0];
    let other_class =
        students.iter().map(|s| &s.class).find(|c| **c != first.class).unwrap().clone();
    let class_size = students.iter().filter(|s| s.class == first.class).count();
    admin.open(&format!("/s/{}/accounts", college.slug)).await;
    admin.assert_labelled().await;
    let create = "//form[substring(@action, string-length(@action) - 8) = '/accounts']";
    admin.fill("#username", "counselor-li").await;
    admin.fill("#display_name", "李老师").await;
    admin.tick(create, "辅导员").await;
    admin.tick(create, &first.class).await;
    admin.tick(create, &other_class).await;
    admin.click_through(admin.xpath(&format!("{create}//button[@type='submit']")).await).await;
    let text = admin.expect_text("已创建账号“counselor-li”").await;
    let counselor_initial = between(&text, "初始密码：", "（").to_owned();
    admin.expect_text(&first.class).await;
    kit.shot(&admin, "counselor-created").await;

    // The counselor publishes a notice with an attachment to one class.
    let counselor = kit.person(&app).await;
    first_sign_in(&app, &kit, &counselor, college.slug, "counselor-li", &counselor_initial).await;
    counselor.open(&format!("/s/{}/notices", college.slug)).await;
    counselor.expect_text("暂无通知").await;
    counselor.assert_labelled().await;
    counselor.fill("#title", "关于秋季学期开学报到的通知").await;
    counselor.fill("#body", "请同学们按附件安排于 9 月 1 日到校报到，阅读后点击确认。").await;
    counselor.el("input[name=needs_confirmation]").await.click().await.unwrap();
    counselor.tick("//fieldset", &first.class).await;
    counselor.submit("button[value=draft]").await;
    counselor.expect_text("已保存草稿").await;
    let folder = std::env::temp_dir().join(format!("xg-journey-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let attachment = folder.join("秋季学期报到安排.pdf");
    std::fs::write(&attachment, xg_e2e::notices::pdf_bytes(20 * 1024)).unwrap();
    counselor.choose_file("input#file", &attachment).await;
    counselor.submit("form[enctype='multipart/form-data'] button[type=submit]").await;
    counselor.expect_text("已上传附件").await;
    counselor.submit("form[action$='/publish'] button").await;
    counselor.expect_text(&format!("送达 {class_size} 名学生")).await;
    // The detail page answers the POST itself; its own address is the one without `/publish`.
    let notice_url = counselor.url().await.trim_end_matches("/publish").to_owned();
    kit.shot(&counselor, "notice-published").await;

    // A student of that class signs in on a phone, reads and confirms it.
    let student = kit.person(&app).await;
    student.phone().await;
    let six = &first.id_number[first.id_number.len() - 6..];
    first_sign_in(&app, &kit, &student, college.slug, &first.student_no, six).await;
    student.open(&format!("/s/{}/inbox", college.slug)).await;
    student.expect_text("关于秋季学期开学报到的通知").await;
    assert_eq!(student.value("document.getElementById('unread-count').innerText").await, "1");
    kit.shot(&student, "phone-inbox").await;
    student.assert_fits_phone().await;
    student.submit("a.inbox-item").await;
    student.expect_text("请同学们按附件安排").await;
    student.expect_text("秋季学期报到安排.pdf").await;
    kit.shot(&student, "phone-notice").await;
    student.assert_fits_phone().await;
    student.submit("form[action$='/confirm'] button").await;
    student.expect_text("您已于此时间确认").await;
    kit.shot(&student, "phone-confirmed").await;
    student.assert_fits_phone().await;
    std::fs::remove_dir_all(&folder).unwrap();

    // The counselor sees the read rate.
    counselor.page.goto(notice_url.as_str()).await.unwrap();
    let text = counselor.wait_for_text("阅读率").await;
    let rate = format!("{:.1}%", 100.0 / class_size as f64);
    let receipts = format!("送达人数 {class_size} · 已读 1（{rate}） · 已确认 1（{rate}）");
    assert!(text.contains(&receipts), "{receipts} not in:\n{text}");
    kit.shot(&counselor, "read-rate").await;

    award_steps(&t, &kit, &admin, &counselor, &student, college.slug).await;

    // The bureau sees the three schools' head counts side by side.
    bureau.open("/district/students").await;
    let rows = bureau.table_rows("#district-counts").await;
    for s in &SCHOOLS {
        let row = rows.iter().find(|r| r[0] == s.name).unwrap_or_else(|| panic!("{rows:?}"));
        assert_eq!(row.last().unwrap(), &s.students.to_string(), "{}", s.name);
    }
    bureau.assert_labelled().await;
    kit.shot(&bureau, "district-head-counts").await;
    bureau.open("/district").await;
    for s in &SCHOOLS {
        bureau.expect_text(&format!("{}\n{}", s.name, s.slug)).await;
    }
    kit.shot(&bureau, "district-dashboard").await;
    println!("browser journey took {:.0?}", started.elapsed());
}

/// Journey steps 4 and 6: the admin sets up an award (a two-step review: the class's counselor,
/// then the school), the student applies on the phone, the counselor and the admin approve, and
/// the result passes 公示. The notice period is cut short in the database (five days cannot pass
/// in a test); everything else goes through the pages.
async fn award_steps(
    t: &TestDb,
    kit: &Kit,
    admin: &Tab,
    counselor: &Tab,
    student: &Tab,
    slug: &str,
) {
    admin.open(&format!("/s/{slug}/awards/manage")).await;
    admin.assert_labelled().await;
    admin.fill("#wkey", "merit").await;
    admin.fill("#wname", "校级奖学金评审").await;
    admin.set_value("#wsteps", "counselor unit\nschool_admin school").await;
    admin.submit("form[action$='/awards/workflows'] button[type=submit]").await;
    admin.expect_text("校级奖学金评审").await;
    let today = time::OffsetDateTime::now_utc().date();
    admin.fill("#iname", "校级一等奖学金").await;
    admin.fill("#iamount", "2000").await;
    admin.fill("#icrit", "学年综合测评位列班级前 5%。").await;
    admin.set_value("#iopens", &today.to_string()).await;
    admin.set_value("#icloses", &(today + time::Duration::days(30)).to_string()).await;
    admin.select("#iwf", "merit").await;
    admin.submit("form[action$='/awards/items'] button[type=submit]").await;
    admin.expect_text("校级一等奖学金").await;
    kit.shot(admin, "award-item").await;

    student.open(&format!("/s/{slug}/awards")).await;
    student.expect_text("校级一等奖学金").await;
    student.fill("textarea[name=statement]", "本学年综合测评班级第一，获校级优秀学生干部。").await;
    student.submit("form[action$='/apply'] button[type=submit]").await;
    student.open(&format!("/s/{slug}/awards")).await;
    kit.shot(student, "phone-award-applied").await;
    student.assert_fits_phone().await;

    for (reviewer, name) in [(counselor, "counselor"), (admin, "admin")] {
        reviewer.open(&format!("/s/{slug}/awards/inbox")).await;
        reviewer.expect_text("本学年综合测评班级第一").await;
        reviewer.fill("input[name=comment]", "同意").await;
        if name == "counselor" {
            kit.shot(reviewer, "award-review").await;
        }
        reviewer.submit("button[name=decision][value=approve]").await;
    }
    admin.open(&format!("/s/{slug}/awards/inbox")).await;
    admin.expect_text("暂无待办的奖励审核").await;

    sqlx::query("update wf_applications set notice_ends_at = now() - interval '1 minute'")
        .execute(&mut t.superuser().await)
        .await
        .unwrap();
    admin.open(&format!("/s/{slug}/awards/payments")).await;
    student.open(&format!("/s/{slug}/awards")).await;
    student.expect_text("进入公示期").await;
    student.expect_text("公示期满，结果已确定").await;
    student.expect_text("已通过").await;
    kit.shot(student, "phone-award-passed").await;
}

/// Signs in through a sign-in form; the captcha answer comes from the database.
async fn sign_in(app: &TestApp, tab: &Tab, path: &str, username: &str, password: &str) {
    tab.open(path).await;
    let id = tab.value("document.querySelector('input[name=captcha_id]').value").await;
    let answer: String =
        sqlx::query_scalar("select answer from captcha_challenges where id = $1::uuid")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    tab.fill("#username", username).await;
    tab.fill("#password", password).await;
    tab.fill("#captcha", &answer).await;
    tab.submit("form button[type=submit]").await;
}

/// The first sign-in at a school: the initial password, then the forced change.
async fn first_sign_in(
    app: &TestApp,
    kit: &Kit,
    tab: &Tab,
    slug: &str,
    username: &str,
    initial: &str,
) {
    sign_in(app, tab, &format!("/s/{slug}/login"), username, initial).await;
    tab.expect_text("您正在使用初始密码").await;
    if username == "admin" && slug.contains("high") {
        kit.shot(tab, "forced-password-change").await;
    }
    tab.fill("#current", initial).await;
    tab.fill("#new", NEW_PASSWORD).await;
    tab.fill("#confirm", NEW_PASSWORD).await;
    tab.submit("form[action$='/password'] button[type=submit]").await;
    let text = tab.text().await;
    assert!(!text.contains("您正在使用初始密码"), "password change for {username}:\n{text}");
}
