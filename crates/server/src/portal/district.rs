//! The district bureau's pages: its own schools, and onboarding a new school from a form. The
//! form is turned into a manifest and goes through exactly the validation and transactional
//! onboarding that `xuegong tenant onboard` uses.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, DistrictId};
use xg_tenancy::accounts::PlatformRole;
use xg_tenancy::onboard::{OnboardError, onboard_new};
use xg_tenancy::{District, Manifest, ManifestError, Module, Problem, SchoolKind, registry};

use super::operator::require;
use super::views::{DistrictView, district_view};
use super::{csrf_error, error_page, render};
use xg_web::AppState;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::{CleanForm, Csrf, csrf_ok};
use xg_web::session::Claims;

#[derive(Default)]
pub struct OnboardForm {
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub subdomain: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub modules: Vec<String>,
}

#[derive(Template)]
#[template(path = "district.html")]
struct DistrictPage {
    m: &'static Catalog,
    d: DistrictView,
    csrf: String,
    signed_in: String,
    logout_action: &'static str,
    notice: Option<String>,
    errors: Vec<String>,
    form: OnboardForm,
    kinds: Vec<(&'static str, &'static str)>,
    /// (key, label, checked)
    modules: Vec<(&'static str, &'static str, bool)>,
    can_suspend: bool,
    show_counts: bool,
}

struct Outcome {
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
    form: OnboardForm,
}

async fn page(state: &AppState, headers: &HeaderMap, who: &Claims, out: Outcome) -> Response {
    let Some(district_id) = who.district.map(DistrictId::from_uuid) else {
        return error_page(AppError::Forbidden);
    };
    let loaded = async {
        let mut tx = state.db.platform().await?;
        let district = registry::district_by_id(tx.conn(), district_id).await?;
        let schools = registry::list_schools(tx.conn(), Some(district_id)).await?;
        drop(tx);
        let counts = district_counts(state, district_id).await?;
        let view = district.map(|d| {
            let mut view = district_view(&d, &schools);
            for (row, school) in
                view.schools.iter_mut().zip(schools.iter().filter(|s| s.district_id == d.id))
            {
                row.counts = Some(counts.get(&school.id.as_uuid()).copied().unwrap_or((0, 0)));
            }
            view
        });
        Ok::<_, AppError>(view)
    };
    let d = match loaded.await {
        Ok(Some(d)) => d,
        Ok(None) => return error_page(AppError::Forbidden),
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let csrf = Csrf::for_page(state, headers);
    let checked = |key: &str| {
        if out.form.modules.is_empty() && out.errors.is_empty() {
            // Party work is for colleges; other schools opt in.
            key != Module::Party.key()
        } else {
            out.form.modules.iter().any(|k| k == key)
        }
    };
    let modules = Module::ALL
        .iter()
        .filter(|md| **md != Module::Organization)
        .map(|md| (md.key(), md.label_zh(), checked(md.key())))
        .collect();
    let page = DistrictPage {
        m,
        d,
        csrf: csrf.token.clone(),
        signed_in: m.fmt("app.signed_in_as", &[("name", &who.name)]),
        logout_action: "/logout",
        notice: out.notice,
        errors: out.errors,
        form: out.form,
        kinds: SchoolKind::ALL.iter().map(|k| (k.key(), super::views::kind_label(*k))).collect(),
        modules,
        can_suspend: false,
        show_counts: true,
    };
    csrf.attach(render(out.status, &page))
}

pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, PlatformRole::DistrictAdmin) {
        Ok(who) => {
            let out = Outcome {
                status: StatusCode::OK,
                notice: None,
                errors: Vec::new(),
                form: OnboardForm { kind: "senior_high".into(), ..Default::default() },
            };
            page(&state, &headers, &who, out).await
        }
        Err(res) => res,
    }
}

pub async fn onboard_school(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    CleanForm(raw): CleanForm,
) -> Response {
    let who = match require(&state, &headers, PlatformRole::DistrictAdmin) {
        Ok(who) => who,
        Err(res) => return res,
    };
    if !csrf_ok(&state, &headers, raw.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let field = |k: &str| raw.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let form = OnboardForm {
        name: field("name"),
        slug: field("slug"),
        kind: field("kind"),
        subdomain: field("subdomain"),
        admin_username: field("admin_username"),
        admin_display_name: field("admin_display_name"),
        modules: Module::ALL
            .iter()
            .map(|m| m.key().to_owned())
            .filter(|k| raw.contains_key(&format!("module.{k}")))
            .collect(),
    };
    let m = Catalog::zh();
    let fail = |status, errors, form| Outcome { status, notice: None, errors, form };

    let district = {
        let lookup = async {
            let mut tx = state.db.platform().await?;
            let id = who.district.map(DistrictId::from_uuid).ok_or(AppError::Forbidden)?;
            Ok::<_, AppError>(registry::district_by_id(tx.conn(), id).await?)
        };
        match lookup.await {
            Ok(Some(d)) => d,
            Ok(None) => return error_page(AppError::Forbidden),
            Err(e) => return error_page(e),
        }
    };

    let manifest = match manifest_from_form(&form, &district) {
        Ok(manifest) => manifest,
        Err(errors) => {
            let errors = errors.iter().map(problem_zh).collect();
            return page(
                &state,
                &headers,
                &who,
                fail(StatusCode::UNPROCESSABLE_ENTITY, errors, form),
            )
            .await;
        }
    };
    match onboard_new(&state.db, &actor(&who, addr), &manifest).await {
        Ok(report) => {
            tracing::info!(tenant = %report.school.slug, "school onboarded from the portal");
            let password = report.generated_admin_password.unwrap_or_default();
            let notice = m.fmt(
                "district.onboarded",
                &[
                    ("name", &report.school.name),
                    ("username", &manifest.admin_username),
                    ("password", &password),
                ],
            );
            let out = Outcome {
                status: StatusCode::OK,
                notice: Some(notice),
                errors: Vec::new(),
                form: OnboardForm { kind: "senior_high".into(), ..Default::default() },
            };
            page(&state, &headers, &who, out).await
        }
        Err(OnboardError::Manifest(errors)) => {
            let taken = errors
                .iter()
                .any(|e| matches!(e.problem, Problem::SlugTaken(_) | Problem::SubdomainTaken(..)));
            let status =
                if taken { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            let errors = errors.iter().map(problem_zh).collect();
            page(&state, &headers, &who, fail(status, errors, form)).await
        }
        Err(OnboardError::Internal(e)) => error_page(AppError::Internal(e)),
    }
}

/// Students and org units per school, read through the district policy (RLS admits this
/// district's schools only, read-only).
async fn district_counts(
    state: &AppState,
    district: DistrictId,
) -> Result<std::collections::HashMap<uuid::Uuid, (i64, i64)>, AppError> {
    let mut tx = state.db.district(district).await?;
    let rows: Vec<(uuid::Uuid, i64, i64)> = sqlx::query_as(
        "select s.id,
                (select count(*) from students st where st.tenant_id = s.id),
                (select count(*) from org_units u where u.tenant_id = s.id)
           from schools s where s.district_id = $1",
    )
    .bind(district.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|(id, students, units)| (id, (students, units))).collect())
}

/// The org levels a new school starts with; its admin refines the tree afterwards.
fn default_levels(kind: SchoolKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        SchoolKind::College => &[("college", "院系"), ("major", "专业"), ("class", "班级")],
        SchoolKind::Vocational => &[("grade", "年级"), ("major", "专业"), ("class", "班级")],
        _ => &[("grade", "年级"), ("class", "班级")],
    }
}

/// Builds the manifest as a TOML document (never by string pasting, so no input can inject
/// keys) and parses it like a file.
fn manifest_from_form(
    form: &OnboardForm,
    district: &District,
) -> Result<Manifest, Vec<ManifestError>> {
    use toml::{Table, Value};
    let s = |v: &str| Value::String(v.to_owned());
    let mut school = Table::new();
    school.insert("slug".into(), s(&form.slug));
    school.insert("name".into(), s(&form.name));
    school.insert("kind".into(), s(&form.kind));
    school.insert("district".into(), s(district.slug.as_str()));
    if !form.subdomain.is_empty() {
        school.insert("subdomain".into(), s(&form.subdomain));
    }
    let kind = form.kind.parse::<SchoolKind>().unwrap_or(SchoolKind::SeniorHigh);
    let levels = default_levels(kind)
        .iter()
        .map(|(key, name)| {
            Value::Table(Table::from_iter([
                ("key".to_owned(), s(key)),
                ("name".to_owned(), s(name)),
            ]))
        })
        .collect();
    let mut org = Table::new();
    org.insert("levels".into(), Value::Array(levels));
    let mut admin = Table::new();
    admin.insert("username".into(), s(&form.admin_username));
    admin.insert("display_name".into(), s(&form.admin_display_name));

    let mut doc = Table::new();
    doc.insert("modules".into(), Value::Array(form.modules.iter().map(|k| s(k)).collect()));
    doc.insert("school".into(), Value::Table(school));
    doc.insert("org".into(), Value::Table(org));
    doc.insert("admin".into(), Value::Table(admin));
    let text = toml::to_string(&doc).expect("a TOML table always serialises");
    Manifest::parse("web form", &text)
}

/// One manifest problem as a Chinese sentence naming the form field.
pub fn problem_zh(e: &ManifestError) -> String {
    let m = Catalog::zh();
    let key = format!("manifest.field.{}", e.field);
    let label = if m.contains(&key) { m.t(&key).to_owned() } else { e.field.clone() };
    let with = |k: &str, v: &str| m.fmt(k, &[("value", v)]);
    let message = match &e.problem {
        Problem::Empty => m.t("manifest.problem.empty").to_owned(),
        Problem::InvalidSlug(v) => with("manifest.problem.invalid_slug", v),
        Problem::UnknownKind(v, _) => with("manifest.problem.unknown_kind", v),
        Problem::UnknownModule(v, _) => with("manifest.problem.unknown_module", v),
        Problem::Duplicate(v) => with("manifest.problem.duplicate", v),
        Problem::InvalidKey(v) => with("manifest.problem.invalid_key", v),
        Problem::InvalidUsername(v) => with("manifest.problem.invalid_username", v),
        Problem::PasswordTooShort => m.t("manifest.problem.password_too_short").to_owned(),
        Problem::UnknownDistrict(v) => with("manifest.problem.unknown_district", v),
        Problem::DistrictMismatch(v, _) => with("manifest.problem.district_mismatch", v),
        Problem::SubdomainTaken(v, _) => with("manifest.problem.subdomain_taken", v),
        Problem::SlugTaken(v) => with("manifest.problem.slug_taken", v),
        Problem::ReservedSubdomain(v) => with("manifest.problem.reserved_subdomain", v),
        Problem::TooLong(n) => with("manifest.problem.too_long", &n.to_string()),
        Problem::ControlCharacters => m.t("manifest.problem.control_characters").to_owned(),
        other => with("manifest.problem.other", &other.to_string()),
    };
    format!("{label}：{message}")
}
