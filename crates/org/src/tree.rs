//! The org tree page: every unit of the school, and for those allowed, adding, renaming and
//! deleting units.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_tenancy::org::{self, OrgLevel};
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::units::{self, UnitEdit, UnitError};
use xg_web::chrome::Chrome;

pub struct UnitLine {
    id: Uuid,
    depth: i16,
    code: String,
    name: String,
    leader: Option<String>,
    phone: String,
}

#[derive(Template)]
#[template(path = "org_tree.html")]
struct TreePage {
    m: &'static Catalog,
    chrome: Chrome,
    levels: Vec<OrgLevel>,
    units: Vec<UnitLine>,
    can_manage: bool,
}

/// Depth-first order, so each unit follows its parent.
fn tree_order(units: Vec<org::OrgUnit>) -> Vec<UnitLine> {
    let mut out = Vec::with_capacity(units.len());
    let mut stack: Vec<&org::OrgUnit> =
        units.iter().filter(|u| u.parent_id.is_none()).rev().collect();
    while let Some(u) = stack.pop() {
        out.push(UnitLine {
            id: u.id,
            depth: u.depth,
            code: u.code.clone(),
            name: u.name.clone(),
            leader: u.leader_name.clone(),
            phone: u.office_phone.clone(),
        });
        let mut kids: Vec<&org::OrgUnit> =
            units.iter().filter(|c| c.parent_id == Some(u.id)).collect();
        kids.sort_by(|a, b| b.code.cmp(&a.code));
        stack.extend(kids);
    }
    out
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
        let levels = org::list_levels(&mut tx).await?;
        let units = org::list_units(&mut tx).await?;
        Ok::<_, AppError>((levels, units))
    };
    let (levels, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let can_manage = state
        .authz
        .allows(&user.school, user.claims.sub, "POST", "/org/units")
        .await
        .unwrap_or(false);
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.org").await;
    chrome.notice = notice;
    chrome.error = error;
    let page = TreePage { m: Catalog::zh(), chrome, levels, units: tree_order(units), can_manage };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

fn unit_error_zh(e: &UnitError) -> (StatusCode, String) {
    let m = Catalog::zh();
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let conflict = StatusCode::CONFLICT;
    match e {
        UnitError::InvalidName => (invalid, m.t("org.invalid_name").to_owned()),
        UnitError::InvalidCode => (invalid, m.t("org.invalid_code").to_owned()),
        UnitError::CodeTaken(c) => (conflict, m.fmt("org.code_taken", &[("code", c)])),
        UnitError::UnknownParent | UnitError::NotFound => {
            (StatusCode::NOT_FOUND, m.t("org.unknown_parent").to_owned())
        }
        UnitError::NoLevel => (invalid, m.t("org.no_level").to_owned()),
        UnitError::TooDeep(p) => (invalid, m.fmt("org.too_deep", &[("parent", p)])),
        UnitError::HasChildren(n) => (conflict, m.fmt("org.has_children", &[("name", n)])),
        UnitError::HasStudents(n, c) => {
            (conflict, m.fmt("org.has_students", &[("name", n), ("count", &c.to_string())]))
        }
        UnitError::HasStaff(n, c) => {
            (conflict, m.fmt("org.has_staff", &[("name", n), ("count", &c.to_string())]))
        }
        UnitError::InvalidPhone => (invalid, m.t("org.invalid_phone").to_owned()),
        UnitError::InvalidLocation => (invalid, m.t("org.invalid_location").to_owned()),
        UnitError::BadMove => (invalid, m.t("org.bad_move").to_owned()),
        UnitError::UnknownLeader => (invalid, m.t("org.unknown_leader").to_owned()),
        UnitError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, m.t("error.internal").to_owned()),
    }
}

async fn apply(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    done_key: &str,
    change: impl AsyncFnOnce(&mut xg_kernel::TenantTx) -> Result<String, UnitError>,
) -> Response {
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let name = change(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, UnitError>(name)
    };
    match result.await {
        Ok(name) => {
            let notice = Catalog::zh().fmt(done_key, &[("name", &name)]);
            show(state, user, headers, StatusCode::OK, Some(notice), None).await
        }
        Err(UnitError::Db(e)) => error_page(e.into()),
        Err(e) => {
            let (status, text) = unit_error_zh(&e);
            show(state, user, headers, status, None, Some(text)).await
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (code, name) = (field("code"), field("name"));
    let parent = match field("parent").trim() {
        "" => None,
        raw => match raw.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => return error_page(AppError::NotFound),
        },
    };
    let who = actor(&user.claims, addr);
    apply(&state, &user, &headers, "org.created", async |tx| {
        units::create(tx, &who, &code, &name, parent).await.map(|_| name.trim().to_owned())
    })
    .await
}

#[derive(Template)]
#[template(path = "org_unit_edit.html")]
struct EditPage {
    m: &'static Catalog,
    chrome: Chrome,
    id: Uuid,
    code: String,
    name: String,
    office_phone: String,
    office_location: String,
    /// (id, label, selected): units one level up.
    parents: Vec<(Uuid, String, bool)>,
    /// (id, label, selected): the school's staff.
    leaders: Vec<(Uuid, String, bool)>,
}

pub async fn edit_page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let units = org::list_units(&mut tx).await?;
        let staff: Vec<(Uuid, String, String)> = sqlx::query_as(
            "select id, display_name, username from school_accounts
              where tenant_id = $1 and student_id is null order by username",
        )
        .bind(user.school.id.as_uuid())
        .fetch_all(tx.conn())
        .await?;
        Ok::<_, AppError>((units, staff))
    };
    let (units, staff) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let Some(unit) = units.iter().find(|u| u.id == id) else {
        return error_page(AppError::NotFound);
    };
    let parents = units
        .iter()
        .filter(|p| p.depth == unit.depth - 1)
        .map(|p| (p.id, format!("{}（{}）", p.name, p.code), Some(p.id) == unit.parent_id))
        .collect();
    let leaders = staff
        .into_iter()
        .map(|(sid, name, username)| {
            (sid, format!("{name}（{username}）"), Some(sid) == unit.leader_id)
        })
        .collect();
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "org.edit_title").await;
    let page = EditPage {
        m: Catalog::zh(),
        chrome,
        id,
        code: unit.code.clone(),
        name: unit.name.clone(),
        office_phone: unit.office_phone.clone(),
        office_location: unit.office_location.clone(),
        parents,
        leaders,
    };
    csrf.attach(render(StatusCode::OK, &page))
}

pub async fn edit(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let optional_id = |k: &str| -> Result<Option<Uuid>, ()> {
        match field(k).trim() {
            "" => Ok(None),
            raw => raw.parse().map(Some).map_err(|_| ()),
        }
    };
    let (Ok(parent), Ok(leader)) = (optional_id("parent"), optional_id("leader")) else {
        return error_page(AppError::NotFound);
    };
    let change = UnitEdit {
        name: field("name"),
        parent,
        leader,
        office_phone: field("office_phone"),
        office_location: field("office_location"),
    };
    let who = actor(&user.claims, addr);
    apply(&state, &user, &headers, "org.saved", async |tx| units::edit(tx, &who, id, change).await)
        .await
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    _: CsrfForm,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let who = actor(&user.claims, addr);
    apply(&state, &user, &headers, "org.deleted", async |tx| units::delete(tx, &who, id).await)
        .await
}
