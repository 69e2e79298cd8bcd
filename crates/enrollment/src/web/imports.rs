//! Roster import in the portal: upload (xlsx or csv) → dry run page with every problem → commit
//! → progress until the job is done. The template download sits beside the upload form.

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use uuid::Uuid;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::{CsrfForm, csrf_ok, see_other};
use xg_web::{AppState, SchoolUser, csrf_error, error_page, render};

use crate::export;
use crate::import::{self, Job, MAX_FILE_BYTES};
use xg_web::files::{clean_file_name, content_disposition};

#[derive(Template)]
#[template(path = "students_imports.html")]
struct ImportsPage {
    m: &'static Catalog,
    chrome: Chrome,
    jobs: Vec<Job>,
    max_mb: usize,
}

#[derive(Template)]
#[template(path = "students_import_job.html")]
struct JobPage {
    m: &'static Catalog,
    chrome: Chrome,
    job: Job,
    percent: i32,
    /// The page reloads itself while rows are being written.
    refreshing: bool,
    /// Only the first problems are kept; the count is exact.
    truncated: bool,
    status_key: String,
}

async fn show_list(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        Ok::<_, AppError>(import::recent(&mut tx).await?)
    };
    let jobs = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "students.imports").await;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    chrome.error = error;
    let page = ImportsPage { m: Catalog::zh(), chrome, jobs, max_mb: MAX_FILE_BYTES / 1024 / 1024 };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show_list(&state, &user, &headers, None).await
}

pub async fn template() -> Response {
    match export::template() {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, content_disposition("学生名册导入模板.xlsx")),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_page(AppError::Internal(e.into())),
    }
}

/// The multipart upload: `csrf`, `file`, and the `create_units` box.
pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    mut multipart: Multipart,
) -> Response {
    let m = Catalog::zh();
    let (mut csrf, mut file, mut create_units) = (None, None, false);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let Ok(data) = field.bytes().await else {
                    return show_list(
                        &state,
                        &user,
                        &headers,
                        Some(m.fmt(
                            "import.too_large",
                            &[("mb", &(MAX_FILE_BYTES / 1024 / 1024).to_string())],
                        )),
                    )
                    .await;
                };
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&data).into_owned()),
                    "file" => file = Some((clean_file_name(&file_name.unwrap_or_default()), data)),
                    "create_units" => create_units = true,
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                return show_list(
                    &state,
                    &user,
                    &headers,
                    Some(m.fmt(
                        "import.too_large",
                        &[("mb", &(MAX_FILE_BYTES / 1024 / 1024).to_string())],
                    )),
                )
                .await;
            }
        }
    }
    if !csrf_ok(&state, &headers, csrf.as_deref()) {
        return csrf_error();
    }
    let Some((file_name, data)) = file.filter(|(_, d): &(String, Bytes)| !d.is_empty()) else {
        return show_list(&state, &user, &headers, Some(m.t("import.no_file").to_owned())).await;
    };
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return error_page(e),
    };
    let staged = import::stage(
        &state.db,
        &state.storage,
        keyring,
        user.school.id,
        &file_name,
        data,
        create_units,
        &actor(&user.claims, addr),
    )
    .await;
    match staged {
        Ok(id) => see_other(&format!("{}students/imports/{id}", user.base)),
        Err(AppError::Invalid { message, .. }) => {
            show_list(&state, &user, &headers, Some(message)).await
        }
        Err(e) => error_page(e),
    }
}

pub async fn job_page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    Path((_, id)): Path<(String, Uuid)>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        import::find(&mut tx, id).await?.ok_or(AppError::NotFound)
    };
    let job = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "students.import_job").await;
    let percent = if job.total_rows > 0 { job.processed_rows * 100 / job.total_rows } else { 0 };
    let refreshing = job.status == "committing";
    let truncated = job.problem_count as usize > job.problems.len();
    let status_key = format!("students.job.{}", job.status);
    let page =
        JobPage { m: Catalog::zh(), chrome, job, percent, refreshing, truncated, status_key };
    csrf.attach(render(StatusCode::OK, &page))
}

pub async fn commit(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    Path((_, id)): Path<(String, Uuid)>,
    CsrfForm(_): CsrfForm,
) -> Response {
    let keyring = match state.keyring_arc() {
        Ok(k) => k,
        Err(e) => return error_page(e),
    };
    match import::commit(
        &state.db,
        &state.storage,
        &keyring,
        user.school.id,
        id,
        actor(&user.claims, addr),
    )
    .await
    {
        Ok(()) => see_other(&format!("{}students/imports/{id}", user.base)),
        Err(e) => error_page(e),
    }
}
