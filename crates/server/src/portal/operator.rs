//! The platform operator's pages: every district with its schools, creating districts, and
//! suspending or resuming a school.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::i18n::Catalog;
use xg_kernel::password;
use xg_kernel::{AppError, Slug};
use xg_tenancy::SchoolStatus;
use xg_tenancy::accounts::{self, PlatformRole};
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
    show_counts: bool,
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
        show_counts: false,
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

/// Creates a district admin account with a generated initial password, shown once.
pub async fn create_bureau_account(
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
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (username, display_name, district) =
        (field("username"), field("display_name"), field("district"));
    let invalid = |key: &str| {
        page(
            &state,
            &headers,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m.t(key).to_owned()),
        )
    };
    let username_ok = (2..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !username_ok {
        return invalid("accounts.invalid_username").await;
    }
    if display_name.is_empty()
        || display_name.chars().count() > 100
        || xg_kernel::text::has_control_characters(&display_name, false)
    {
        return invalid("accounts.invalid_display_name").await;
    }
    let initial = password::generate_initial();
    let Ok(hash) = password::hash(&initial) else {
        return error_page(AppError::Internal(anyhow::anyhow!("hashing failed")));
    };
    let created = async {
        let mut tx = state.db.platform().await?;
        let Some(d) = registry::find_district(tx.conn(), &district).await? else {
            return Ok(Err("admin.unknown_district"));
        };
        let new = accounts::NewPlatformAccount {
            username: &username,
            display_name: &display_name,
            password_hash: &hash,
            role: PlatformRole::DistrictAdmin,
            district: Some(d.id),
            must_change_password: true,
        };
        match accounts::create_platform_account(tx.conn(), &actor(&who, addr), new).await {
            Ok(_) => {}
            Err(accounts::AccountError::Exists(_)) => return Ok(Err("taken")),
            Err(accounts::AccountError::Db(e)) => return Err(AppError::from(e)),
            Err(e) => return Err(AppError::Internal(e.into())),
        }
        tx.commit().await?;
        Ok::<_, AppError>(Ok(()))
    };
    match created.await {
        Ok(Ok(())) => {
            let notice = m.fmt(
                "admin.bureau_account_created",
                &[("username", &username), ("password", &initial)],
            );
            page(&state, &headers, &who, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err("taken")) => {
            let msg = m.fmt("accounts.username_taken", &[("username", &username)]);
            page(&state, &headers, &who, StatusCode::CONFLICT, None, Some(msg)).await
        }
        Ok(Err(key)) => invalid(key).await,
        Err(e) => error_page(e),
    }
}
