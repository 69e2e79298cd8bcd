//! The school's notice report: notices sent and the average read rate, by month and category.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::repo;
use crate::stats::{self, MonthRow};

#[derive(Template)]
#[template(path = "notices_report.html")]
struct ReportPage {
    m: &'static Catalog,
    chrome: Chrome,
    rows: Vec<MonthRow>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        repo::publish_due(&mut tx).await?;
        let rows = stats::school_report(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AppError>(rows)
    };
    let rows = match loaded.await {
        Ok(rows) => rows,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.notice_report").await;
    csrf.attach(render(StatusCode::OK, &ReportPage { m: Catalog::zh(), chrome, rows }))
}
