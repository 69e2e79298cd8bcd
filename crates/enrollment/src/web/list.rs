//! The register: filters, one page of students, and the export of what the filters select.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::TenantTx;
use xg_kernel::i18n::Catalog;
use xg_tenancy::org::list_units;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::{AppState, SchoolUser, error_page, render};

use super::reach_of;
use crate::export;
use crate::reference::{ethnic_names, political_names};
use crate::search::{Filter, Page, Reach, search};
use crate::status::Status;

#[derive(Template)]
#[template(path = "students_list.html")]
struct ListPage {
    m: &'static Catalog,
    chrome: Chrome,
    filter: Filter,
    page: Page,
    units: Vec<UnitChoice>,
    statuses: Vec<(&'static str, String)>,
    ethnicities: Vec<&'static str>,
    politicals: Vec<&'static str>,
    query: String,
}

/// An entry of the unit drop-down.
struct UnitChoice {
    id: Uuid,
    name: String,
    selected: bool,
}

/// The units the filter offers: those whose students the search can return. Staff with a
/// scope get their units and the units below them (a unit outside would always find nobody);
/// whole-school reach gets every unit of the school.
async fn unit_choices(
    tx: &mut TenantTx,
    reach: Reach,
    filter: &Filter,
) -> Result<Vec<UnitChoice>, sqlx::Error> {
    let units: Vec<(Uuid, String)> = match reach {
        Reach::WholeSchool => list_units(tx).await?.into_iter().map(|u| (u.id, u.name)).collect(),
        Reach::Scope(account) => xg_authz::scope::units_in_scope(tx, account)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect(),
    };
    let chosen = Uuid::parse_str(filter.unit.trim()).ok();
    Ok(units
        .into_iter()
        .map(|(id, name)| UnitChoice { id, name, selected: chosen == Some(id) })
        .collect())
}

/// The filter as a query string, for paging and export links.
fn query_of(f: &Filter) -> String {
    let pairs = [
        ("q", &f.q),
        ("unit", &f.unit),
        ("grade", &f.grade),
        ("major", &f.major),
        ("status", &f.status),
        ("political", &f.political),
        ("ethnicity", &f.ethnicity),
    ];
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let key = state.keyring()?.for_school(&mut tx).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        let page = search(&mut tx, &key, reach, &filter).await?;
        let units = unit_choices(&mut tx, reach, &filter).await?;
        tx.commit().await?;
        Ok::<_, AppError>((page, units))
    };
    let (page, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.students").await;
    let list = ListPage {
        m: Catalog::zh(),
        chrome,
        query: query_of(&filter),
        filter,
        page,
        units,
        statuses: Status::ALL.iter().map(|s| (s.key(), s.label())).collect(),
        ethnicities: ethnic_names(),
        politicals: political_names(),
    };
    csrf.attach(render(StatusCode::OK, &list))
}

#[derive(serde::Deserialize)]
pub struct Format {
    #[serde(default)]
    format: String,
}

/// The selected students in full (personal data included), as xlsx or CSV. Audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    Query(filter): Query<Filter>,
    Query(format): Query<Format>,
) -> Response {
    let csv = format.format == "csv";
    let built = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let key = state.keyring()?.for_school(&mut tx).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        let rows = export::rows(&mut tx, &key, reach, &filter).await?;
        let body = if csv {
            export::csv(&export::HEADERS, &rows).map_err(anyhow::Error::from)?
        } else {
            export::xlsx(&export::HEADERS, &rows).map_err(anyhow::Error::from)?
        };
        xg_audit::record(
            &mut tx,
            &actor(&user.claims, addr),
            Change::new("students.export", query_of(&filter))
                .after(serde_json::json!({ "rows": rows.len(), "format": if csv { "csv" } else { "xlsx" } })),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(body)
    };
    match built.await {
        Ok(body) => {
            let (mime, ext) = if csv {
                ("text/csv; charset=utf-8", "csv")
            } else {
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
            };
            let name = format!("学生名册.{ext}");
            (
                [
                    (header::CONTENT_TYPE, mime.to_owned()),
                    (header::CONTENT_DISPOSITION, xg_web::files::content_disposition(&name)),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => error_page(e),
    }
}
