//! The public notice (公示) of award results: every account of the school sees the results in
//! their window and may file a real-name objection; the award office resolves objections on
//! record. Results lock when the window closes with nothing open (checked on every visit).

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
use xg_workflow::ObjectionRecord;

use crate::common::{Refusal, holds, invalid, refuse, wf_actor};
use crate::model::yuan;

pub struct Listed {
    id: Uuid,
    item: String,
    student: String,
    unit: String,
    amount: String,
    ends: String,
    objections: Vec<ObjectionRecord>,
}

#[derive(Template)]
#[template(path = "awards_notice.html")]
struct NoticePage {
    m: &'static Catalog,
    chrome: Chrome,
    listed: Vec<Listed>,
    can_resolve: bool,
}

type Row = (Uuid, String, String, String, i64, String);

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let can_resolve = holds(state, user, "awards.manage").await;
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        xg_workflow::lock_closed(&mut tx).await.map_err(|e| AppError::Internal(e.into()))?;
        let rows: Vec<Row> = sqlx::query_as(
            "select a.id, i.name, st.name, u.name, i.amount_fen,
                    to_char(a.notice_ends_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               from wf_applications a
               join award_applications aa on aa.tenant_id = a.tenant_id and aa.application_id = a.id
               join award_items i on i.tenant_id = a.tenant_id and i.id = aa.item_id
               join students st on st.tenant_id = a.tenant_id and st.id = aa.student_id
               join org_units u on u.tenant_id = a.tenant_id and u.id = a.org_unit_id
              where a.tenant_id = $1 and a.status = 'in_notice'
              order by i.name, u.code, st.student_no",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let objections = xg_workflow::objections(&mut tx, &ids)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tx.commit().await?;
        Ok::<_, AppError>((rows, objections))
    };
    let (rows, objections) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let listed = rows
        .into_iter()
        .map(|(id, item, student, unit, amount, ends)| Listed {
            id,
            item,
            student,
            unit,
            amount: yuan(amount),
            ends,
            objections: objections.iter().filter(|o| o.application_id == id).cloned().collect(),
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.awards_notice").await;
    chrome.notice = notice;
    chrome.error = error;
    let page = NoticePage { m: Catalog::zh(), chrome, listed, can_resolve };
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
    result: Result<&'static str, Refusal>,
) -> Response {
    let m = Catalog::zh();
    match result {
        Ok(key) => {
            show(state, user, headers, StatusCode::OK, Some(m.t(key).to_owned()), None).await
        }
        Err(Refusal::User(status, key)) => {
            show(state, user, headers, status, None, Some(m.t(key).to_owned())).await
        }
        Err(Refusal::Internal(e)) => error_page(e),
    }
}

async fn is_award(tx: &mut xg_kernel::TenantTx, app: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from award_applications
                         where tenant_id = $1 and application_id = $2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app)
    .fetch_one(tx.conn())
    .await
}

pub async fn object(
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
        let mut tx = state.db.tenant(user.school.id).await?;
        if !is_award(&mut tx, app_id).await? {
            return Err(refuse(StatusCode::NOT_FOUND, "error.not_found"));
        }
        let reason = form.get("reason").cloned().unwrap_or_default();
        let id = xg_workflow::object(&mut tx, &wf_actor(&user), app_id, &reason).await?;
        let change = Change::new("award.object", format!("application:{app_id}"))
            .after(serde_json::json!({ "objection": id }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok("awards.objection_filed")
    };
    finish(&state, &user, &headers, result.await).await
}

pub async fn resolve(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, objection)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let objection: Uuid =
            objection.parse().map_err(|_| refuse(StatusCode::NOT_FOUND, "error.not_found"))?;
        let upheld = match form.get("outcome").map(String::as_str) {
            Some("upheld") => true,
            Some("dismissed") => false,
            _ => return Err(invalid("awards.bad_outcome")),
        };
        let resolution = form.get("resolution").cloned().unwrap_or_default();
        let mut tx = state.db.tenant(user.school.id).await?;
        // Only objections to award results are the award office's to resolve.
        let on_award: bool = sqlx::query_scalar(
            "select exists (select 1 from wf_objections o
                              join award_applications aa on aa.tenant_id = o.tenant_id
                                                        and aa.application_id = o.application_id
                             where o.tenant_id = $1 and o.id = $2)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(objection)
        .fetch_one(tx.conn())
        .await?;
        if !on_award {
            return Err(refuse(StatusCode::NOT_FOUND, "error.not_found"));
        }
        let app =
            xg_workflow::resolve(&mut tx, &wf_actor(&user), objection, upheld, &resolution).await?;
        let change = Change::new("award.objection_resolve", format!("application:{app}"))
            .after(serde_json::json!({ "objection": objection, "upheld": upheld }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok("awards.objection_resolved")
    };
    finish(&state, &user, &headers, result.await).await
}
