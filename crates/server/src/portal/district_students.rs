//! The district's view of student records: head counts of its schools side by side, by any
//! dimension, and the transfers waiting for its approval. It reads through the district read
//! policy; approving a transfer moves the record between the two schools in one transaction.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_enrollment::stats::{Dimension, district_counts};
use xg_enrollment::transfer::{self, Case};
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, DistrictId};
use xg_tenancy::accounts::PlatformRole;
use xg_web::AppState;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::{Csrf, CsrfForm};
use xg_web::session::Claims;

use super::operator::require;
use super::{error_page, render};

#[derive(Template)]
#[template(path = "district_students.html")]
struct DistrictStudentsPage {
    m: &'static Catalog,
    csrf: String,
    signed_in: String,
    logout_action: &'static str,
    notice: Option<String>,
    error: Option<String>,
    dimension: &'static str,
    dimensions: Vec<(&'static str, String)>,
    /// Column labels, then one row per school: (school, counts per label, total).
    labels: Vec<String>,
    rows: Vec<(String, Vec<i64>, i64)>,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize, Default)]
pub struct Dim {
    #[serde(default)]
    dim: String,
}

async fn show(
    state: &AppState,
    headers: &HeaderMap,
    who: &Claims,
    dim: Dimension,
    outcome: Result<Option<String>, String>,
) -> Response {
    let Some(district) = who.district.map(DistrictId::from_uuid) else {
        return error_page(AppError::Forbidden);
    };
    let loaded = async {
        let mut tx = state.db.district(district).await?;
        let counts = district_counts(&mut tx, dim).await?;
        let cases = transfer::awaiting_district(&mut tx).await?;
        Ok::<_, AppError>((counts, cases))
    };
    let (counts, cases) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let mut labels: Vec<String> = counts.iter().map(|c| c.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let mut by_school: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in &counts {
        let row = by_school.entry(c.school.clone()).or_insert_with(|| vec![0; labels.len()]);
        if let Ok(i) = labels.binary_search(&c.label) {
            row[i] += c.count;
        }
    }
    let rows = by_school
        .into_iter()
        .map(|(school, counts)| {
            let total = counts.iter().sum();
            (school, counts, total)
        })
        .collect();
    let m = Catalog::zh();
    let csrf = Csrf::for_page(state, headers);
    let (status, notice, error) = match outcome {
        Ok(n) => (StatusCode::OK, n, None),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, None, Some(e)),
    };
    let page = DistrictStudentsPage {
        m,
        csrf: csrf.token.clone(),
        signed_in: m.fmt("app.signed_in_as", &[("name", &who.name)]),
        logout_action: "/logout",
        notice,
        error,
        dimension: dim.key(),
        dimensions: Dimension::ALL
            .iter()
            .map(|d| (d.key(), m.t(&format!("students.by.{}", d.key())).to_owned()))
            .collect(),
        labels,
        rows,
        cases,
    };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(dim): Query<Dim>,
) -> Response {
    match require(&state, &headers, PlatformRole::DistrictAdmin) {
        Ok(who) => {
            show(
                &state,
                &headers,
                &who,
                Dimension::parse(&dim.dim).unwrap_or(Dimension::Grade),
                Ok(None),
            )
            .await
        }
        Err(res) => res,
    }
}

pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = match require(&state, &headers, PlatformRole::DistrictAdmin) {
        Ok(who) => who,
        Err(res) => return res,
    };
    let Some(district) = who.district.map(DistrictId::from_uuid) else {
        return error_page(AppError::Forbidden);
    };
    let approve = form.get("decision").map(String::as_str) == Some("approve");
    let comment = form.get("comment").cloned().unwrap_or_default();
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return error_page(e),
    };
    let result = transfer::district_decide(
        &state.db,
        keyring,
        district,
        id,
        approve,
        &comment,
        &actor(&who, addr),
    )
    .await;
    let outcome = match result {
        Ok(()) => Ok(Some(Catalog::zh().t("transfers.decided").to_owned())),
        Err(AppError::Invalid { message, .. } | AppError::Conflict { message, .. }) => Err(message),
        Err(e) => return error_page(e),
    };
    show(&state, &headers, &who, Dimension::Grade, outcome).await
}
