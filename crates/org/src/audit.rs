//! Browsing the school's own audit log, newest first, filtered by action and actor, with the
//! hash chain verified on every view.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use time::OffsetDateTime;
use time::macros::format_description;
use xg_audit::Filter;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::{AppState, SchoolUser, error_page, render};

use xg_web::chrome::Chrome;

const PAGE_SIZE: i64 = 50;

pub struct Row {
    seq: i64,
    when: String,
    actor: String,
    action: String,
    target: String,
    from: String,
}

#[derive(Template)]
#[template(path = "org_audit.html")]
struct AuditPage {
    m: &'static Catalog,
    chrome: Chrome,
    action: String,
    actor: String,
    entries: Vec<Row>,
    next_page: Option<i64>,
    chain: String,
}

fn beijing_time(micros: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("UTC+8 is a valid offset"));
    at.format(&format).unwrap_or_default()
}

/// "中文说明（code）" when the catalog knows the action, the code alone otherwise.
fn action_label(code: &str) -> String {
    match Catalog::zh().lookup(&format!("audit.actions.{}", code.replace('.', "_"))) {
        Some(label) => format!("{label}（{code}）"),
        None => code.to_owned(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    // Filters are free text from the address bar; anything invisible is dropped, not queried.
    let text = |k: &str| {
        query
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && v.chars().count() <= 100)
            .filter(|v| !xg_kernel::text::has_control_characters(v, false))
    };
    let filter = Filter {
        action_prefix: text("action"),
        actor: text("actor"),
        before_seq: text("before").and_then(|v| v.parse().ok()),
        limit: PAGE_SIZE,
    };
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let entries = xg_audit::list(&mut tx, &filter).await?;
        let report = xg_audit::verify(&mut tx).await?;
        Ok::<_, AppError>((entries, report))
    };
    let (entries, report) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let chain = match report.first_broken {
        None => m.fmt("audit.chain_ok", &[("count", &report.entries.to_string())]),
        Some(seq) => m.fmt("audit.chain_broken", &[("seq", &seq.to_string())]),
    };
    let next_page =
        (entries.len() as i64 == PAGE_SIZE).then(|| entries.last().map(|e| e.seq)).flatten();
    let rows = entries
        .into_iter()
        .map(|e| Row {
            seq: e.seq,
            when: beijing_time(e.at_micros),
            actor: e.actor_name,
            action: action_label(&e.action),
            target: e.target,
            from: e.client_addr.unwrap_or_default(),
        })
        .collect();
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.audit").await;
    let page = AuditPage {
        m,
        chrome,
        action: filter.action_prefix.unwrap_or_default(),
        actor: filter.actor.unwrap_or_default(),
        entries: rows,
        next_page,
        chain,
    };
    csrf.attach(render(StatusCode::OK, &page))
}
