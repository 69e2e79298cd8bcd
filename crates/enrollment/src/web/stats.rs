//! Head counts by every dimension, as tables with bars (drawn in CSS, no script needed).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::{AppState, SchoolUser, error_page, render};

use super::reach_of;
use crate::stats::{Count, Dimension, counts};

pub struct Table {
    pub title: String,
    pub total: i64,
    /// (label, count, bar width in percent of the largest)
    pub rows: Vec<(String, i64, i64)>,
}

pub fn table(title: String, counts: Vec<Count>) -> Table {
    let max = counts.iter().map(|c| c.count).max().unwrap_or(0).max(1);
    Table {
        title,
        total: counts.iter().map(|c| c.count).sum(),
        rows: counts.into_iter().map(|c| (c.label, c.count, c.count * 100 / max)).collect(),
    }
}

#[derive(Template)]
#[template(path = "students_stats.html")]
struct StatsPage {
    m: &'static Catalog,
    chrome: Chrome,
    tables: Vec<Table>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let m = Catalog::zh();
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        let mut tables = Vec::new();
        for dim in Dimension::ALL {
            let title = m.t(&format!("students.by.{}", dim.key())).to_owned();
            tables.push(table(title, counts(&mut tx, reach, dim).await?));
        }
        Ok::<_, AppError>(tables)
    };
    let tables = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "students.stats").await;
    csrf.attach(render(StatusCode::OK, &StatsPage { m, chrome, tables }))
}
