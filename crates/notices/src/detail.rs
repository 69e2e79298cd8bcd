//! One notice from the staff side: its content, attachments, statistics (by class, who has
//! not read or confirmed), revisions and reminders; and the sender's actions on it: publish,
//! withdraw, remind, and the receipt export.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::model::{category_label, status_label};
use crate::repo::{self, Notice, Published, Viewer};
use crate::staff::{can_publish, own_notice};
use crate::stats::{self, NoticeStats, Receipt};
use xg_web::files::content_disposition;

#[derive(Template)]
#[template(path = "notices_detail.html")]
struct DetailPage {
    m: &'static Catalog,
    chrome: Chrome,
    n: Notice,
    category: String,
    status: String,
    audience: Vec<(Uuid, String)>,
    attachments: Vec<(Uuid, String, String)>,
    is_sender: bool,
    stats: NoticeStats,
    unread: Vec<Receipt>,
    unread_total: usize,
    unconfirmed: Vec<Receipt>,
    unconfirmed_total: usize,
    replies: Vec<Receipt>,
    list_cap: usize,
    revisions: Vec<(i32, String, String, String)>,
    reminders: Vec<(String, String, i32)>,
    max_upload_mb: usize,
}

/// At most this many names per list on the page.
const LIST_CAP: usize = 300;

pub fn outcome_message(title: &str, outcome: Option<Published>) -> String {
    let m = Catalog::zh();
    match outcome {
        Some(Published::Now { recipients }) => {
            m.fmt("notices.published", &[("title", title), ("count", &recipients.to_string())])
        }
        Some(Published::Scheduled) => m.fmt("notices.scheduled", &[("title", title)]),
        None => m.fmt("notices.drafted", &[("title", title)]),
    }
}

/// File sizes as people read them.
pub fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    id: Uuid,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        repo::publish_due(&mut tx).await?;
        let viewer = Viewer::load(&mut tx, user.claims.sub).await?;
        let Some(n) = repo::find_for_staff(&mut tx, id, &viewer).await? else {
            return Err(AppError::NotFound);
        };
        let stats = stats::for_notice(&mut tx, &n, &viewer).await?;
        let audience = repo::audience(&mut tx, id).await?;
        let attachments = repo::attachments(&mut tx, id).await?;
        let revisions = repo::revisions(&mut tx, id).await?;
        let reminders = repo::reminders(&mut tx, id).await?;
        tx.commit().await?;
        Ok((n, stats, audience, attachments, revisions, reminders))
    };
    let (n, stats, audience, attachments, revisions, reminders) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    // Long lists are cut on the page; the export always has everyone.
    let pick = |keep: &dyn Fn(&Receipt) -> bool| -> (Vec<Receipt>, usize) {
        let all: Vec<&Receipt> = stats.receipts.iter().filter(|r| keep(r)).collect();
        (all.iter().take(LIST_CAP).map(|r| (*r).clone()).collect(), all.len())
    };
    let (unread, unread_total) = pick(&|r| r.read_at.is_none());
    let (unconfirmed, unconfirmed_total) =
        if n.needs_confirmation { pick(&|r| r.confirmed_at.is_none()) } else { (vec![], 0) };
    let (replies, _) = pick(&|r| r.reply.is_some());
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "notices.detail").await;
    chrome.notice = notice;
    chrome.error = error;
    let page = DetailPage {
        m: Catalog::zh(),
        chrome,
        category: category_label(&n.category),
        status: status_label(&n.status),
        is_sender: n.sender_id == user.claims.sub && can_publish(state, user).await,
        n,
        audience,
        attachments: attachments
            .into_iter()
            .map(|(id, name, size)| (id, name, human_size(size)))
            .collect(),
        stats,
        unread,
        unread_total,
        unconfirmed,
        unconfirmed_total,
        replies,
        list_cap: LIST_CAP,
        revisions,
        reminders,
        max_upload_mb: crate::files::MAX_UPLOAD_BYTES / (1024 * 1024),
    };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    show(&state, &user, &headers, id, StatusCode::OK, None, None).await
}

#[derive(Clone, Copy)]
enum Action {
    Publish,
    Withdraw,
    Remind,
}

async fn act(
    state: AppState,
    user: SchoolUser,
    id: String,
    addr: ClientAddr,
    headers: HeaderMap,
    action: Action,
) -> Response {
    let m = Catalog::zh();
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let notice = match own_notice(&mut tx, &user, &id).await? {
            Ok(n) => n,
            Err(page) => return Ok(Err(page)),
        };
        let (message, audit) = match action {
            Action::Publish => match repo::publish(&mut tx, notice.id, true).await? {
                Ok(p) => (Ok(outcome_message(&notice.title, Some(p))), "notice.publish"),
                Err(refusal) => (Err(m.t(refusal.key()).to_owned()), ""),
            },
            Action::Withdraw => match repo::withdraw(&mut tx, notice.id).await? {
                true => {
                    (Ok(m.fmt("notices.withdrawn", &[("title", &notice.title)])), "notice.withdraw")
                }
                false => (Err(m.t("notices.not_withdrawable").to_owned()), ""),
            },
            Action::Remind if notice.status != "published" => {
                (Err(m.t("notices.remind_unpublished").to_owned()), "")
            }
            Action::Remind => {
                let n =
                    repo::remind(&mut tx, notice.id, user.claims.sub, &user.claims.name).await?;
                (Ok(m.fmt("notices.reminded", &[("count", &n.to_string())])), "notice.remind")
            }
        };
        if message.is_ok() {
            let change = Change::new(audit, format!("notice:{}", notice.id))
                .before(serde_json::json!({ "status": notice.status }));
            xg_audit::record(&mut tx, &who, change).await?;
            tx.commit().await?;
        }
        Ok::<_, AppError>(Ok((notice.id, message)))
    };
    match result.await {
        Ok(Ok((id, Ok(notice)))) => {
            show(&state, &user, &headers, id, StatusCode::OK, Some(notice), None).await
        }
        Ok(Ok((id, Err(error)))) => {
            show(&state, &user, &headers, id, StatusCode::CONFLICT, None, Some(error)).await
        }
        Ok(Err(page)) => page,
        Err(e) => error_page(e),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> Response {
    act(state, user, id, addr, headers, Action::Publish).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> Response {
    act(state, user, id, addr, headers, Action::Withdraw).await
}

pub async fn remind(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> Response {
    act(state, user, id, addr, headers, Action::Remind).await
}

/// The receipts the viewer may see, as a CSV download.
pub async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let viewer = Viewer::load(&mut tx, user.claims.sub).await?;
        let Some(n) = repo::find_for_staff(&mut tx, id, &viewer).await? else {
            return Err(AppError::NotFound);
        };
        let receipts = stats::receipts(&mut tx, &n, &viewer).await?;
        Ok((n, receipts))
    };
    let (n, receipts) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let header: Vec<&str> =
        ["student_no", "name", "unit", "delivered", "read", "confirmed", "reply"]
            .iter()
            .map(|k| m.lookup(&format!("notices.csv.{k}")).unwrap_or(k))
            .collect();
    let body = stats::receipts_csv(&receipts, &header);
    let file_name = m.fmt("notices.csv.file_name", &[("title", &n.title)]);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition(&file_name)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
