//! The platform operator's pages: every district with its schools, creating districts, and
//! suspending or resuming a school.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, Slug};
use xg_tenancy::SchoolStatus;
use xg_tenancy::accounts::PlatformRole;
use xg_tenancy::registry::{self, RegistryError};

use super::views::{DistrictView, district_view};
use super::{csrf_error, error_page, render};
use xg_web::AppState;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::{CleanForm, Csrf, csrf_ok, see_other, signed_in};
use xg_web::session::{Claims, PLATFORM_COOKIE};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    m: &'static Catalog,
    districts: Vec<DistrictView>,
    csrf: String,
    signed_in: String,
    logout_action: &'static str,
    notice: Option<String>,
    error: Option<String>,
    can_suspend: bool,
}

/// The signed-in platform account with `role`, or the response to send instead: the sign-in
/// page for no session, 403 for the wrong role.
pub fn require(
    state: &AppState,
    headers: &HeaderMap,
    role: PlatformRole,
) -> Result<Claims, Response> {
    match signed_in(state, headers, PLATFORM_COOKIE) {
        None => Err(see_other("/login")),
        Some(c) if c.must_change => Err(see_other("/password")),
        Some(c) if c.kind == role.key() => Ok(c),
        Some(_) => Err(error_page(AppError::Forbidden)),
    }
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    who: &Claims,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.platform().await?;
        let districts = registry::list_districts(tx.conn()).await?;
        let schools = registry::list_schools(tx.conn(), None).await?;
        Ok::<_, AppError>(districts.iter().map(|d| district_view(d, &schools)).collect())
    };
    let districts = match loaded.await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let csrf = Csrf::for_page(state, headers);
    let page = AdminPage {
        m,
        districts,
        csrf: csrf.token.clone(),
        signed_in: m.fmt("app.signed_in_as", &[("name", &who.name)]),
        logout_action: "/logout",
        notice,
        error,
        can_suspend: true,
    };
    csrf.attach(render(status, &page))
}

pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, PlatformRole::Operator) {
        Ok(who) => page(&state, &headers, &who, StatusCode::OK, None, None).await,
        Err(res) => res,
    }
}

pub async fn create_district(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    CleanForm(form): CleanForm,
) -> Response {
    let who = match require(&state, &headers, PlatformRole::Operator) {
        Ok(who) => who,
        Err(res) => return res,
    };
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let m = Catalog::zh();
    let raw_slug = form.get("slug").map(|s| s.trim()).unwrap_or_default();
    let name = form.get("name").map(|s| s.trim()).unwrap_or_default();
    let invalid = |msg: String| {
        page(&state, &headers, &who, StatusCode::UNPROCESSABLE_ENTITY, None, Some(msg))
    };
    let Ok(slug) = Slug::parse(raw_slug) else {
        return invalid(m.fmt("admin.district_invalid_slug", &[("slug", raw_slug)])).await;
    };
    let created = async {
        let mut tx = state.db.platform().await?;
        let d = registry::create_district(tx.conn(), &actor(&who, addr), &slug, name).await?;
        tx.commit().await?;
        Ok::<_, RegistryError>(d)
    };
    match created.await {
        Ok(d) => {
            tracing::info!(district.slug = %d.slug, "district created");
            let notice = m.fmt("admin.district_created", &[("name", &d.name)]);
            page(&state, &headers, &who, StatusCode::OK, Some(notice), None).await
        }
        Err(RegistryError::DistrictExists(s)) => {
            let msg = m.fmt("admin.district_exists", &[("slug", &s)]);
            page(&state, &headers, &who, StatusCode::CONFLICT, None, Some(msg)).await
        }
        Err(RegistryError::EmptyName) => invalid(m.t("admin.district_empty_name").to_owned()).await,
        Err(RegistryError::Db(e)) => error_page(e.into()),
    }
}

pub async fn set_school_status(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    Path((slug, action)): Path<(String, String)>,
    CleanForm(form): CleanForm,
) -> Response {
    let who = match require(&state, &headers, PlatformRole::Operator) {
        Ok(who) => who,
        Err(res) => return res,
    };
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let (status, notice_key) = match action.as_str() {
        "suspend" => (SchoolStatus::Suspended, "admin.suspended"),
        "resume" => (SchoolStatus::Active, "admin.resumed"),
        _ => return error_page(AppError::NotFound),
    };
    let changed = async {
        let mut tx = state.db.platform().await?;
        let school = registry::set_status(tx.conn(), &actor(&who, addr), &slug, status).await?;
        tx.commit().await?;
        Ok::<_, AppError>(school)
    };
    match changed.await {
        Ok(Some(school)) => {
            state.schools.forget(&slug).await;
            tracing::info!(tenant = %school.slug, school.status = %status, "school status changed");
            let notice = Catalog::zh().fmt(notice_key, &[("name", &school.name)]);
            page(&state, &headers, &who, StatusCode::OK, Some(notice), None).await
        }
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}
