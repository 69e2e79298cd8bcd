//! Transfers as a school sees them: requests it filed (incoming) and requests for its students
//! (outgoing), with the form to file one and the sending school's approve/reject.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_tenancy::org::{OrgUnit, list_units};
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::transfer::{self, Case, NewRequest};

#[derive(Template)]
#[template(path = "students_transfers.html")]
struct TransfersPage {
    m: &'static Catalog,
    chrome: Chrome,
    cases: Vec<Case>,
    schools: Vec<(Uuid, String)>,
    units: Vec<OrgUnit>,
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    outcome: Result<Option<String>, String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let cases = transfer::list(&mut tx).await?;
        let schools: Vec<(Uuid, String)> = sqlx::query_as(
            "select s.id, s.name from schools s join schools me on me.district_id = s.district_id
              where me.id = $1 and s.id <> me.id and s.status = 'active' order by s.name",
        )
        .bind(user.school.id.as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let units = list_units(&mut tx).await?;
        Ok::<_, AppError>((cases, schools, units))
    };
    let (cases, schools, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "students.transfers").await;
    let status = if outcome.is_err() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    match outcome {
        Ok(n) => chrome.notice = n,
        Err(e) => chrome.error = Some(e),
    }
    csrf.attach(render(status, &TransfersPage { m: Catalog::zh(), chrome, cases, schools, units }))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, Ok(None)).await
}

fn outcome_of(
    result: Result<(), AppError>,
    done_key: &str,
) -> Result<Result<Option<String>, String>, AppError> {
    match result {
        Ok(()) => Ok(Ok(Some(Catalog::zh().t(done_key).to_owned()))),
        Err(AppError::Invalid { message, .. } | AppError::Conflict { message, .. }) => {
            Ok(Err(message))
        }
        Err(e) => Err(e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    CsrfForm(form): CsrfForm,
) -> Response {
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (Ok(from_school), Ok(target_unit)) =
        (field("from_school").parse::<Uuid>(), field("target_unit").parse::<Uuid>())
    else {
        return show(
            &state,
            &user,
            &headers,
            Err(Catalog::zh().t("transfers.incomplete").to_owned()),
        )
        .await;
    };
    let request = NewRequest {
        from_school,
        student_name: field("student_name"),
        student_no: field("student_no"),
        id_number: field("id_number"),
        target_unit,
        reason: field("reason"),
    };
    let result = match state.keyring() {
        Ok(keyring) => transfer::request(
            &state.db,
            keyring,
            user.school.id,
            &request,
            &actor(&user.claims, addr),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome_of(result, "transfers.requested") {
        Ok(outcome) => show(&state, &user, &headers, outcome).await,
        Err(e) => error_page(e),
    }
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path((_, id)): Path<(String, Uuid)>,
    CsrfForm(form): CsrfForm,
) -> Response {
    let approve = form.get("decision").map(String::as_str) == Some("approve");
    let comment = form.get("comment").cloned().unwrap_or_default();
    let result = transfer::sender_decide(
        &state.db,
        user.school.id,
        id,
        approve,
        &comment,
        &actor(&user.claims, addr),
    )
    .await;
    match outcome_of(result, "transfers.decided") {
        Ok(outcome) => show(&state, &user, &headers, outcome).await,
        Err(e) => error_page(e),
    }
}
