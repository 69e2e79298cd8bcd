//! The student side, made for a phone: the inbox with its unread count, opening a notice
//! (marks it read exactly once, however many times or however concurrently it is opened),
//! confirming, replying and downloading attachments. A student who is not among a notice's
//! recipients gets 404 and changes nothing.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, TenantTx};
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::detail::human_size;
use crate::files::attachment_of;
use crate::model::{category_label, clean_reply};
use crate::repo;
use xg_web::files::deliver;

pub struct InboxItem {
    pub id: Uuid,
    pub title: String,
    pub category: String,
    pub published_at: String,
    pub sender: String,
    pub unread: bool,
    pub to_confirm: bool,
    pub attention: bool,
    pub deadline: Option<String>,
}

#[derive(Template)]
#[template(path = "notices_inbox.html")]
struct InboxPage {
    m: &'static Catalog,
    chrome: Chrome,
    is_student: bool,
    unread: i64,
    items: Vec<InboxItem>,
}

#[derive(sqlx::FromRow)]
pub struct Opened {
    pub id: Uuid,
    pub title: String,
    pub body_html: String,
    pub category: String,
    pub sender_name: String,
    pub published_at: Option<String>,
    pub deadline: Option<String>,
    pub needs_confirmation: bool,
    pub allow_reply: bool,
    pub confirmed_at: Option<String>,
    pub reply: Option<String>,
}

#[derive(Template)]
#[template(path = "notices_read.html")]
struct ReadPage {
    m: &'static Catalog,
    chrome: Chrome,
    n: Opened,
    category: String,
    attachments: Vec<(Uuid, String, String)>,
}

/// The student record behind this account, if it is a student's account.
async fn student_of(tx: &mut TenantTx, account: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let found: Option<Option<Uuid>> = sqlx::query_scalar(
        "select student_id from school_accounts where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.flatten())
}

type InboxRow = (Uuid, String, String, Option<String>, String, bool, bool, bool, Option<String>);

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        repo::publish_due(&mut tx).await?;
        let student = student_of(&mut tx, user.claims.sub).await?;
        let rows: Vec<InboxRow> = sqlx::query_as(
            "select n.id, n.title, n.category,
                    to_char(n.published_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
                    n.sender_name, r.read_at is null,
                    n.needs_confirmation and r.confirmed_at is null, r.attention,
                    to_char(n.deadline at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               from notice_recipients r
               join notices n on n.tenant_id = r.tenant_id and n.id = r.notice_id
              where r.tenant_id = $1 and r.student_id = $2 and n.status = 'published'
              order by r.attention desc, n.published_at desc limit 200",
        )
        .bind(tx.tenant().as_uuid())
        .bind(student)
        .fetch_all(tx.conn())
        .await?;
        let unread: i64 = sqlx::query_scalar(
            "select count(*) from notice_recipients r
               join notices n on n.tenant_id = r.tenant_id and n.id = r.notice_id
              where r.tenant_id = $1 and r.student_id = $2 and n.status = 'published'
                and r.read_at is null",
        )
        .bind(tx.tenant().as_uuid())
        .bind(student)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>((student.is_some(), unread, rows))
    };
    let (is_student, unread, rows) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let items = rows
        .into_iter()
        .map(
            |(
                id,
                title,
                category,
                published_at,
                sender,
                unread,
                to_confirm,
                attention,
                deadline,
            )| {
                InboxItem {
                    id,
                    title,
                    category: category_label(&category),
                    published_at: published_at.unwrap_or_default(),
                    sender,
                    unread,
                    to_confirm,
                    attention,
                    deadline,
                }
            },
        )
        .collect();
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.inbox").await;
    let page = InboxPage { m: Catalog::zh(), chrome, is_student, unread, items };
    csrf.attach(render(StatusCode::OK, &page))
}

/// The published notice as this student received it, or `None` if they did not.
async fn received(
    tx: &mut TenantTx,
    id: Uuid,
    student: Uuid,
) -> Result<Option<Opened>, sqlx::Error> {
    sqlx::query_as(
        "select n.id, n.title, n.body_html, n.category, n.sender_name,
                to_char(n.published_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                    as published_at,
                to_char(n.deadline at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') as deadline,
                n.needs_confirmation, n.allow_reply,
                to_char(r.confirmed_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                    as confirmed_at,
                r.reply
           from notice_recipients r
           join notices n on n.tenant_id = r.tenant_id and n.id = r.notice_id
          where r.tenant_id = $1 and r.notice_id = $2 and r.student_id = $3
            and n.status = 'published'",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(student)
    .fetch_optional(tx.conn())
    .await
}

/// The receipt's notice for this account, with the transaction still open; `None` for anyone
/// who did not receive it (including staff and other schools' ids).
async fn open_receipt(
    state: &AppState,
    user: &SchoolUser,
    id: &str,
) -> Result<Option<(TenantTx, Uuid, Opened)>, AppError> {
    let Ok(id) = id.parse::<Uuid>() else { return Ok(None) };
    let mut tx = state.db.tenant(user.school.id).await?;
    let Some(student) = student_of(&mut tx, user.claims.sub).await? else { return Ok(None) };
    let Some(n) = received(&mut tx, id, student).await? else { return Ok(None) };
    Ok(Some((tx, student, n)))
}

/// The outcome line a page shows, with its status.
struct Flash {
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
}

impl Flash {
    fn plain() -> Self {
        Self { status: StatusCode::OK, notice: None, error: None }
    }

    fn notice(key: &str) -> Self {
        Self { notice: Some(Catalog::zh().t(key).to_owned()), ..Self::plain() }
    }

    fn error(status: StatusCode, key: &str) -> Self {
        Self { status, notice: None, error: Some(Catalog::zh().t(key).to_owned()) }
    }
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    mut tx: TenantTx,
    n: Opened,
    flash: Flash,
) -> Response {
    let Flash { status, notice, error } = flash;
    let attachments = match repo::attachments(&mut tx, n.id).await {
        Ok(list) => list,
        Err(e) => return error_page(e.into()),
    };
    if let Err(e) = tx.commit().await {
        return error_page(e.into());
    }
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.inbox").await;
    chrome.title = n.title.clone();
    chrome.notice = notice;
    chrome.error = error;
    let page = ReadPage {
        m: Catalog::zh(),
        chrome,
        category: category_label(&n.category),
        attachments: attachments
            .into_iter()
            .map(|(id, name, size)| (id, name, human_size(size)))
            .collect(),
        n,
    };
    csrf.attach(render(status, &page))
}

/// Opens a notice. The first open sets `read_at` (the `read_at is null` guard makes a second,
/// concurrent open a no-op under the row lock); every open clears a reminder's mark.
pub async fn open(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (mut tx, student, n) = match open_receipt(&state, &user, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(AppError::NotFound),
        Err(e) => return error_page(e),
    };
    let marked = sqlx::query(
        "update notice_recipients set read_at = now(), attention = false
          where tenant_id = $1 and notice_id = $2 and student_id = $3 and read_at is null",
    )
    .bind(tx.tenant().as_uuid())
    .bind(n.id)
    .bind(student)
    .execute(tx.conn())
    .await;
    let cleared = sqlx::query(
        "update notice_recipients set attention = false
          where tenant_id = $1 and notice_id = $2 and student_id = $3 and attention",
    )
    .bind(tx.tenant().as_uuid())
    .bind(n.id)
    .bind(student)
    .execute(tx.conn())
    .await;
    if let Err(e) = marked.and(cleared) {
        return error_page(e.into());
    }
    show(&state, &user, &headers, tx, n, Flash::plain()).await
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> Response {
    let (mut tx, student, n) = match open_receipt(&state, &user, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(AppError::NotFound),
        Err(e) => return error_page(e),
    };
    if !n.needs_confirmation {
        let flash = Flash::error(StatusCode::CONFLICT, "notices.no_confirmation");
        return show(&state, &user, &headers, tx, n, flash).await;
    }
    let done = async {
        let changed = sqlx::query(
            "update notice_recipients
                set confirmed_at = now(), read_at = coalesce(read_at, now()), attention = false
              where tenant_id = $1 and notice_id = $2 and student_id = $3 and confirmed_at is null",
        )
        .bind(tx.tenant().as_uuid())
        .bind(n.id)
        .bind(student)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed == 1 {
            let change = Change::new("notice.confirm", format!("notice:{}", n.id));
            xg_audit::record(&mut tx, &actor(&user.claims, addr), change).await?;
        }
        let reread = received(&mut tx, n.id, student).await?;
        Ok::<_, AppError>(reread)
    };
    match done.await {
        Ok(Some(n)) => {
            show(&state, &user, &headers, tx, n, Flash::notice("notices.confirmed")).await
        }
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}

pub async fn reply(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let (mut tx, student, n) = match open_receipt(&state, &user, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(AppError::NotFound),
        Err(e) => return error_page(e),
    };
    if !n.allow_reply {
        let flash = Flash::error(StatusCode::CONFLICT, "notices.no_reply");
        return show(&state, &user, &headers, tx, n, flash).await;
    }
    let Some(text) = clean_reply(form.get("reply").map(String::as_str).unwrap_or_default()) else {
        let flash = Flash::error(StatusCode::UNPROCESSABLE_ENTITY, "notices.invalid_reply");
        return show(&state, &user, &headers, tx, n, flash).await;
    };
    let done = async {
        sqlx::query(
            "update notice_recipients
                set reply = $4, replied_at = now(), read_at = coalesce(read_at, now())
              where tenant_id = $1 and notice_id = $2 and student_id = $3",
        )
        .bind(tx.tenant().as_uuid())
        .bind(n.id)
        .bind(student)
        .bind(&text)
        .execute(tx.conn())
        .await?;
        let change = Change::new("notice.reply", format!("notice:{}", n.id));
        xg_audit::record(&mut tx, &actor(&user.claims, addr), change).await?;
        Ok::<_, AppError>(received(&mut tx, n.id, student).await?)
    };
    match done.await {
        Ok(Some(n)) => show(&state, &user, &headers, tx, n, Flash::notice("notices.replied")).await,
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}

/// Student download: only for a notice they received.
pub async fn download(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id, attachment)): Path<(String, String, String)>,
) -> Response {
    let Ok(attachment) = attachment.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let found = async {
        let Some((mut tx, _, n)) = open_receipt(&state, &user, &id).await? else {
            return Ok(None);
        };
        Ok::<_, AppError>(attachment_of(&mut tx, n.id, attachment).await?)
    };
    match found.await {
        Ok(Some((name, content_type))) => {
            deliver(&state, user.school.id, attachment, &name, &content_type).await
        }
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}
