//! The staff side: the notice list with the compose form, creating (as a draft, published at
//! once, or scheduled), and editing with a kept revision. Only a notice's sender edits it.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_authz::scope;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, TenantTx};
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::detail;
use crate::form::{FormValues, UnitChoice, categories, unit_choices};
use crate::model::{category_label, parse_form, status_label, ticked_units};
use crate::repo::{self, Notice, Published, Viewer};
use crate::stats;

pub struct ListItem {
    pub id: Uuid,
    pub title: String,
    pub category: String,
    pub status: String,
    pub published_at: String,
    pub sender: String,
    pub delivered: i64,
    pub read_rate: String,
    pub confirmed: i64,
}

#[derive(Template)]
#[template(path = "notices_list.html")]
struct ListPage {
    m: &'static Catalog,
    chrome: Chrome,
    items: Vec<ListItem>,
    can_publish: bool,
    form: FormValues,
    units: Vec<UnitChoice>,
    categories: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "notices_edit.html")]
struct EditPage {
    m: &'static Catalog,
    chrome: Chrome,
    id: Uuid,
    form: FormValues,
    units: Vec<UnitChoice>,
    categories: Vec<(&'static str, String)>,
}

/// Notices the account sent, and published ones that reached students in its units.
async fn visible_notices(tx: &mut TenantTx, viewer: &Viewer) -> Result<Vec<Notice>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {} from notices n
          where n.tenant_id = $1
            and (n.sender_id = $2 or exists (
                 select 1 from notice_recipients r
                  where r.tenant_id = $1 and r.notice_id = n.id and r.org_unit_id = any($3)))
          order by coalesce(n.published_at, n.updated_at) desc limit 200",
        repo::NOTICE_COLUMNS
    ))
    .bind(tx.tenant().as_uuid())
    .bind(viewer.account)
    .bind(&viewer.units)
    .fetch_all(tx.conn())
    .await
}

pub async fn can_publish(state: &AppState, user: &SchoolUser) -> bool {
    let granted = state.authz.permissions_of(&user.school, user.claims.sub).await;
    granted.unwrap_or_default().contains(&"notices.publish")
}

async fn show_list(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    form: FormValues,
    checked: Vec<Uuid>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        repo::publish_due(&mut tx).await?;
        let viewer = Viewer::load(&mut tx, user.claims.sub).await?;
        let notices = visible_notices(&mut tx, &viewer).await?;
        let ids: Vec<Uuid> = notices.iter().map(|n| n.id).collect();
        let counts = stats::list_counts(&mut tx, &ids, &viewer).await?;
        let units = scope::units_in_scope(&mut tx, user.claims.sub).await?;
        tx.commit().await?;
        Ok::<_, AppError>((notices, counts, units))
    };
    let (notices, counts, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let items = notices
        .into_iter()
        .map(|n| {
            let (delivered, read, confirmed) =
                counts.iter().find(|c| c.0 == n.id).map_or((0, 0, 0), |c| (c.1, c.2, c.3));
            ListItem {
                id: n.id,
                title: n.title,
                category: category_label(&n.category),
                status: status_label(&n.status),
                published_at: n.published_at.unwrap_or_default(),
                sender: n.sender_name,
                delivered,
                read_rate: crate::model::rate(read, delivered),
                confirmed,
            }
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.notices").await;
    chrome.error = error;
    let page = ListPage {
        m: Catalog::zh(),
        chrome,
        items,
        can_publish: can_publish(state, user).await,
        form,
        units: unit_choices(units, &checked),
        categories: categories(),
    };
    csrf.attach(render(status, &page))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show_list(&state, &user, &headers, StatusCode::OK, FormValues::empty(), vec![], None).await
}

/// Creates a notice from the compose form: `action=publish` publishes (or schedules, when a
/// future publish time is given), anything else saves a draft.
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let refuse = |status, key: &str| {
        let values = FormValues::submitted(&form);
        let error = Some(m.t(key).to_owned());
        show_list(&state, &user, &headers, status, values, ticked_units(&form), error)
    };
    let input = match parse_form(&form) {
        Ok(input) => input,
        Err(key) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, key).await,
    };
    let publish_now = form.get("action").is_some_and(|a| a == "publish");
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let scope = Viewer::load(&mut tx, user.claims.sub).await?.units;
        if input.units.iter().any(|u| !scope.contains(u)) {
            return Ok(Err("notices.outside_scope"));
        }
        let id = repo::create_draft(&mut tx, &input, user.claims.sub, &user.claims.name).await?;
        let mut outcome = None;
        if publish_now {
            match repo::publish(&mut tx, id, true).await? {
                Ok(p) => outcome = Some(p),
                Err(refusal) => return Ok(Err(refusal.key())),
            }
        }
        let after = serde_json::json!({
            "title": input.title, "category": input.category, "units": input.units,
            "published": matches!(outcome, Some(Published::Now { .. })),
        });
        xg_audit::record(
            &mut tx,
            &who,
            Change::new("notice.create", format!("notice:{id}")).after(after),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok((id, outcome)))
    };
    match result.await {
        Ok(Ok((id, outcome))) => {
            let notice = detail::outcome_message(&input.title, outcome);
            detail::show(&state, &user, &headers, id, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err(key)) => refuse(StatusCode::UNPROCESSABLE_ENTITY, key).await,
        Err(e) => error_page(e),
    }
}

/// The notice if this account sent it: `Err` carries the page to answer otherwise (404 when
/// it cannot see the notice at all, 403 when it can but did not send it).
pub async fn own_notice(
    tx: &mut TenantTx,
    user: &SchoolUser,
    id: &str,
) -> Result<Result<Notice, Response>, sqlx::Error> {
    let Ok(id) = id.parse::<Uuid>() else { return Ok(Err(error_page(AppError::NotFound))) };
    let viewer = Viewer::load(tx, user.claims.sub).await?;
    match repo::find_for_staff(tx, id, &viewer).await? {
        None => Ok(Err(error_page(AppError::NotFound))),
        Some(n) if n.sender_id != user.claims.sub => {
            Ok(Err(xg_web::message_page(StatusCode::FORBIDDEN, "notices.only_sender")))
        }
        Some(n) => Ok(Ok(n)),
    }
}

async fn show_edit(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    notice: &Notice,
    status: StatusCode,
    submitted: Option<&HashMap<String, String>>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let units = scope::units_in_scope(&mut tx, user.claims.sub).await?;
        let audience: Vec<Uuid> =
            repo::audience(&mut tx, notice.id).await?.into_iter().map(|u| u.0).collect();
        Ok::<_, AppError>((units, audience))
    };
    let (units, audience) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (mut form, checked) = match submitted {
        Some(f) => (FormValues::submitted(f), ticked_units(f)),
        None => (FormValues::of(notice), audience),
    };
    form.audience_locked = !matches!(notice.status.as_str(), "draft" | "scheduled");
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "notices.edit").await;
    chrome.error = error;
    let page = EditPage {
        m: Catalog::zh(),
        chrome,
        id: notice.id,
        form,
        units: unit_choices(units, &checked),
        categories: categories(),
    };
    csrf.attach(render(status, &page))
}

pub async fn edit_page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let found = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        Ok::<_, AppError>(own_notice(&mut tx, &user, &id).await?)
    };
    match found.await {
        Ok(Ok(n)) if n.status == "withdrawn" => {
            xg_web::message_page(StatusCode::CONFLICT, "notices.withdrawn_no_edit")
        }
        Ok(Ok(n)) => show_edit(&state, &user, &headers, &n, StatusCode::OK, None, None).await,
        Ok(Err(page)) => page,
        Err(e) => error_page(e),
    }
}

/// Saves an edit; the previous content is kept as a revision.
pub async fn save(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let notice = match own_notice(&mut tx, &user, &id).await? {
            Ok(n) => n,
            Err(page) => return Ok(Err(page)),
        };
        if notice.status == "withdrawn" {
            let page = xg_web::message_page(StatusCode::CONFLICT, "notices.withdrawn_no_edit");
            return Ok(Err(page));
        }
        let input = match parse_form(&form) {
            Ok(input) => input,
            Err(key) => return Ok(Ok(Err((notice, key)))),
        };
        let scope = Viewer::load(&mut tx, user.claims.sub).await?.units;
        if input.units.iter().any(|u| !scope.contains(u)) {
            return Ok(Ok(Err((notice, "notices.outside_scope"))));
        }
        repo::update(&mut tx, &notice, &input, user.claims.sub, &user.claims.name).await?;
        let change = Change::new("notice.update", format!("notice:{}", notice.id))
            .before(serde_json::json!({ "title": notice.title, "revision": notice.revision }))
            .after(serde_json::json!({ "title": input.title, "revision": notice.revision + 1 }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(Ok(notice.id)))
    };
    match result.await {
        Ok(Ok(Ok(id))) => {
            let notice = m.t("notices.saved").to_owned();
            detail::show(&state, &user, &headers, id, StatusCode::OK, Some(notice), None).await
        }
        Ok(Ok(Err((notice, key)))) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let error = Some(m.t(key).to_owned());
            show_edit(&state, &user, &headers, &notice, status, Some(&form), error).await
        }
        Ok(Err(page)) => page,
        Err(e) => error_page(e),
    }
}
