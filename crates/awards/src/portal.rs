//! The student's side: open items, applying within the window (one application per item and
//! academic year; items of one exclusive group at most once a year), resubmitting a returned
//! application, and the notifications about each change.

use std::collections::HashMap;

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
use xg_workflow::Notification;

use crate::common::{Refusal, invalid, refuse, wf_actor};
use crate::model::{CATEGORIES, label, yuan};

pub struct OpenItem {
    id: Uuid,
    name: String,
    category: &'static str,
    amount: String,
    criteria: String,
    attachment_note: String,
    closes: String,
}

pub struct MyApplication {
    id: Uuid,
    item: String,
    status: String,
    returned: bool,
    statement: String,
}

#[derive(Template)]
#[template(path = "awards_portal.html")]
struct PortalPage {
    m: &'static Catalog,
    chrome: Chrome,
    is_student: bool,
    items: Vec<OpenItem>,
    mine: Vec<MyApplication>,
    notifications: Vec<Notification>,
}

/// The student record linked to the account: (student id, name, org unit).
async fn student_of(
    tx: &mut TenantTx,
    account: Uuid,
) -> Result<Option<(Uuid, String, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "select st.id, st.name, st.org_unit_id from school_accounts a
           join students st on st.tenant_id = a.tenant_id and st.id = a.student_id
          where a.tenant_id = $1 and a.id = $2 and st.org_unit_id is not null",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_optional(tx.conn())
    .await
}

/// The status shown for an application, including whether it has been paid.
pub fn status_label(status: &str, step: i16, paid: bool) -> String {
    let m = Catalog::zh();
    match status {
        "approved" if paid => m.t("awards.status_paid").to_owned(),
        "in_review" => m.fmt("awards.status_in_review", &[("step", &step.to_string())]),
        other => m.t(&format!("awards.status_{other}")).to_owned(),
    }
}

type MineRow = (Uuid, String, String, i16, bool, String);

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
        xg_workflow::lock_closed(&mut tx).await.map_err(|e| AppError::Internal(e.into()))?;
        let student = student_of(&mut tx, user.claims.sub).await?;
        let items: Vec<(Uuid, String, String, i64, String, String, String)> = sqlx::query_as(
            "select id, name, category, amount_fen, criteria, attachment_note,
                    to_char(closes_at at time zone 'Asia/Shanghai' - interval '1 second', 'YYYY-MM-DD')
               from award_items where tenant_id = $1 and now() >= opens_at and now() < closes_at
              order by name",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let mine: Vec<MineRow> = sqlx::query_as(
            "select a.id, i.name, a.status, a.step,
                    exists (select 1 from award_payments p
                             where p.tenant_id = a.tenant_id and p.application_id = a.id),
                    aa.statement
               from wf_applications a
               join award_applications aa on aa.tenant_id = a.tenant_id and aa.application_id = a.id
               join award_items i on i.tenant_id = a.tenant_id and i.id = aa.item_id
              where a.tenant_id = $1 and a.applicant_id = $2 order by a.created_at desc",
        )
        .bind(tx.tenant().as_uuid())
        .bind(user.claims.sub)
        .fetch_all(tx.conn())
        .await?;
        let notes = xg_workflow::notifications(&mut tx, user.claims.sub, 20)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tx.commit().await?;
        Ok::<_, AppError>((student.is_some(), items, mine, notes))
    };
    let (is_student, items, mine, notifications) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let items = items
        .into_iter()
        .map(|(id, name, category, amount, criteria, attachment_note, closes)| OpenItem {
            id,
            name,
            category: label(CATEGORIES, &category),
            amount: yuan(amount),
            criteria,
            attachment_note,
            closes,
        })
        .collect();
    let mine = mine
        .into_iter()
        .map(|(id, item, status, step, paid, statement)| MyApplication {
            id,
            item,
            returned: status == "returned",
            status: status_label(&status, step, paid),
            statement,
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.awards").await;
    chrome.notice = notice;
    chrome.error = error;
    let m = Catalog::zh();
    let page = PortalPage { m, chrome, is_student, items, mine, notifications };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

async fn finish(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    result: Result<String, Refusal>,
) -> Response {
    match result {
        Ok(notice) => show(state, user, headers, StatusCode::OK, Some(notice), None).await,
        Err(Refusal::User(status, key)) => {
            let message = Catalog::zh().t(key).to_owned();
            show(state, user, headers, status, None, Some(message)).await
        }
        Err(Refusal::Internal(e)) => error_page(e),
    }
}

fn statement(form: &HashMap<String, String>) -> Result<String, Refusal> {
    let text = form.get("statement").map(|s| s.trim().to_owned()).unwrap_or_default();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(invalid("awards.bad_statement"));
    }
    Ok(text)
}

type ItemRow = (String, Option<String>, Option<i32>, String, bool, i32);

pub async fn apply(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, item_id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let item_id: Uuid =
            item_id.parse().map_err(|_| refuse(StatusCode::NOT_FOUND, "error.not_found"))?;
        let statement = statement(&form)?;
        let mut tx = state.db.tenant(user.school.id).await?;
        let (student, name, unit) = student_of(&mut tx, user.claims.sub)
            .await?
            .ok_or(refuse(StatusCode::FORBIDDEN, "awards.not_student"))?;
        let item: Option<ItemRow> = sqlx::query_as(
            "select name, exclusive_group, class_quota, workflow_key,
                    now() >= opens_at and now() < closes_at,
                    extract(year from (now() at time zone 'Asia/Shanghai') - interval '8 months')::int
               from award_items where tenant_id = $1 and id = $2",
        )
        .bind(tx.tenant().as_uuid())
        .bind(item_id)
        .fetch_optional(tx.conn())
        .await?;
        let (item_name, group, quota, workflow_key, open, year) =
            item.ok_or(refuse(StatusCode::NOT_FOUND, "error.not_found"))?;
        if !open {
            return Err(refuse(StatusCode::CONFLICT, "awards.window_closed"));
        }
        // Serialise this student's applications so the checks below cannot race.
        sqlx::query("select 1 from students where tenant_id = $1 and id = $2 for update")
            .bind(tx.tenant().as_uuid())
            .bind(student)
            .execute(tx.conn())
            .await?;
        let clash: bool = sqlx::query_scalar(
            "select exists (
                 select 1 from award_applications aa
                   join award_items i on i.tenant_id = aa.tenant_id and i.id = aa.item_id
                   join wf_applications a on a.tenant_id = aa.tenant_id and a.id = aa.application_id
                  where aa.tenant_id = $1 and aa.student_id = $2 and aa.academic_year = $3
                    and (aa.item_id = $4
                         or (i.exclusive_group = $5 and a.status <> 'rejected')))",
        )
        .bind(tx.tenant().as_uuid())
        .bind(student)
        .bind(year)
        .bind(item_id)
        .bind(&group)
        .fetch_one(tx.conn())
        .await?;
        if clash {
            return Err(refuse(StatusCode::CONFLICT, "awards.already_applied"));
        }
        let title = format!("{item_name} · {name}");
        let app = xg_workflow::submit(
            &mut tx,
            &wf_actor(&user),
            &workflow_key,
            &format!("award:{item_id}"),
            &title,
            unit,
            quota,
            &statement,
        )
        .await?;
        sqlx::query(
            "insert into award_applications
                 (tenant_id, application_id, item_id, student_id, academic_year, statement)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(app)
        .bind(item_id)
        .bind(student)
        .bind(year)
        .bind(&statement)
        .execute(tx.conn())
        .await?;
        let change = Change::new("award.apply", format!("application:{app}"))
            .after(serde_json::json!({ "item": item_id, "student": student }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(Catalog::zh().fmt("awards.applied", &[("item", &item_name)]))
    };
    finish(&state, &user, &headers, result.await).await
}

pub async fn resubmit(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, app_id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let app_id: Uuid =
            app_id.parse().map_err(|_| refuse(StatusCode::NOT_FOUND, "error.not_found"))?;
        let statement = statement(&form)?;
        let comment = form.get("comment").cloned().unwrap_or_default();
        let mut tx = state.db.tenant(user.school.id).await?;
        xg_workflow::resubmit(&mut tx, &wf_actor(&user), app_id, &comment).await?;
        sqlx::query(
            "update award_applications set statement = $3 where tenant_id = $1 and application_id = $2",
        )
        .bind(tx.tenant().as_uuid())
        .bind(app_id)
        .bind(&statement)
        .execute(tx.conn())
        .await?;
        let change = Change::new("award.resubmit", format!("application:{app_id}"));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(Catalog::zh().t("awards.resubmitted").to_owned())
    };
    finish(&state, &user, &headers, result.await).await
}
