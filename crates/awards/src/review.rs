//! The reviewer's side: the to-do inbox of award applications waiting for this account, the
//! decision form (approve, reject, return; a comment always), and an application's page with its
//! whole history. Each inbox form carries the version it showed and a fresh idempotency key, so
//! a second click or a colleague's simultaneous decision cannot move the application twice.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};
use xg_workflow::{Decision, InboxItem, Outcome};

use crate::common::{Refusal, holds, invalid, refuse, wf_actor};
use crate::portal::status_label;

pub struct Task {
    item: InboxItem,
    statement: String,
    idem: String,
}

#[derive(Template)]
#[template(path = "awards_inbox.html")]
struct InboxPage {
    m: &'static Catalog,
    chrome: Chrome,
    tasks: Vec<Task>,
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let items = xg_workflow::inbox(&mut tx, user.claims.sub, "award:")
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
        let statements: Vec<(Uuid, String)> = sqlx::query_as(
            "select application_id, statement from award_applications
              where tenant_id = $1 and application_id = any($2)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&ids)
        .fetch_all(tx.conn())
        .await?;
        Ok::<_, AppError>((items, statements))
    };
    let (items, statements) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let tasks = items
        .into_iter()
        .map(|item| Task {
            statement: statements
                .iter()
                .find(|s| s.0 == item.id)
                .map(|s| s.1.clone())
                .unwrap_or_default(),
            idem: Uuid::new_v4().simple().to_string(),
            item,
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.awards_inbox").await;
    chrome.notice = notice;
    chrome.error = error;
    let page = InboxPage { m: Catalog::zh(), chrome, tasks };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

pub async fn act(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, app_id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        let app_id: Uuid =
            app_id.parse().map_err(|_| refuse(StatusCode::NOT_FOUND, "error.not_found"))?;
        let decision = Decision::parse(&field("decision")).ok_or(invalid("awards.bad_decision"))?;
        let version: i32 = field("version").parse().map_err(|_| invalid("awards.bad_decision"))?;
        let idem = field("idem");
        if idem.len() > 64 {
            return Err(invalid("awards.bad_decision"));
        }
        let idem = (!idem.is_empty()).then_some(idem);
        let mut tx = state.db.tenant(user.school.id).await?;
        let is_award: bool = sqlx::query_scalar(
            "select exists (select 1 from award_applications
                             where tenant_id = $1 and application_id = $2)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(app_id)
        .fetch_one(tx.conn())
        .await?;
        if !is_award {
            return Err(refuse(StatusCode::NOT_FOUND, "error.not_found"));
        }
        let comment = field("comment");
        let outcome = xg_workflow::act(
            &mut tx,
            &wf_actor(&user),
            app_id,
            decision,
            &comment,
            version,
            idem.as_deref(),
        )
        .await?;
        if let Outcome::Moved(status, step) = outcome {
            let change = Change::new("award.review", format!("application:{app_id}"))
                .after(serde_json::json!({ "decision": field("decision"), "status": status.key(),
                                    "step": step }));
            xg_audit::record(&mut tx, &who, change).await?;
        }
        tx.commit().await?;
        Ok(Catalog::zh().t(match outcome {
            Outcome::Moved(..) => "awards.reviewed",
            Outcome::Replayed => "awards.already_done",
        }))
    };
    let m = Catalog::zh();
    match result.await {
        Ok(key) => show(&state, &user, &headers, StatusCode::OK, Some(key.to_owned()), None).await,
        Err(Refusal::User(status, key)) => {
            show(&state, &user, &headers, status, None, Some(m.t(key).to_owned())).await
        }
        Err(Refusal::Internal(e)) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "awards_application.html")]
struct ApplicationPage {
    m: &'static Catalog,
    chrome: Chrome,
    title: String,
    status: String,
    rule: String,
    statement: String,
    /// (time, who, step, action, comment)
    history: Vec<(String, String, i16, &'static str, String)>,
}

/// One application with its history: for the applicant, staff whose scope covers the
/// applicant's unit, and the award office.
pub async fn detail(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, app_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(app_id) = app_id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let manager = holds(&state, &user, "awards.manage").await;
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        xg_workflow::lock_closed(&mut tx).await.map_err(|e| AppError::Internal(e.into()))?;
        let Some(app) =
            xg_workflow::get(&mut tx, app_id).await.map_err(|e| AppError::Internal(e.into()))?
        else {
            return Err(AppError::NotFound);
        };
        let covers: bool = sqlx::query_scalar("select wf_covers($1, $2, $3)")
            .bind(tx.tenant().as_uuid())
            .bind(user.claims.sub)
            .bind(app.org_unit_id)
            .fetch_one(tx.conn())
            .await?;
        if !(manager || covers || app.applicant_id == user.claims.sub) {
            return Err(AppError::NotFound);
        }
        let found: Option<(String, bool)> = sqlx::query_as(
            "select aa.statement, exists (select 1 from award_payments p
                   where p.tenant_id = aa.tenant_id and p.application_id = aa.application_id)
               from award_applications aa where aa.tenant_id = $1 and aa.application_id = $2",
        )
        .bind(tx.tenant().as_uuid())
        .bind(app_id)
        .fetch_optional(tx.conn())
        .await?;
        let (statement, paid) = found.ok_or(AppError::NotFound)?;
        let history = xg_workflow::history(&mut tx, app_id)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let steps = xg_workflow::steps_of(&mut tx, app.definition_id)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tx.commit().await?;
        Ok((app, statement, paid, history, steps.len()))
    };
    let (app, statement, paid, history, steps) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let rule = m.fmt(
        "awards.rule_of_application",
        &[("version", &app.definition_version.to_string()), ("steps", &steps.to_string())],
    );
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "awards.application").await;
    let page = ApplicationPage {
        m,
        chrome,
        title: app.title,
        status: status_label(app.status.key(), app.step, paid),
        rule,
        statement,
        history: history
            .into_iter()
            .map(|h| (h.at, h.actor_name, h.step, action_label(&h.action), h.comment))
            .collect(),
    };
    csrf.attach(render(StatusCode::OK, &page))
}

/// The label of a history entry's action.
pub fn action_label(action: &str) -> &'static str {
    let m = Catalog::zh();
    match action {
        "submit" | "approve" | "reject" | "return" | "resubmit" | "object" | "uphold"
        | "dismiss" | "lock" => m.lookup(&format!("awards.action_{action}")).unwrap_or(""),
        _ => "",
    }
}
