//! "My scope": the org units a staff member works in and the students in them. A student
//! account sees only its own record; an account without an assignment sees nobody.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use xg_authz::scope::{self, ScopedStudent, ScopedUnit};
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::{AppState, SchoolUser, error_page, render};

use xg_web::chrome::Chrome;

#[derive(Template)]
#[template(path = "org_scope.html")]
struct ScopePage {
    m: &'static Catalog,
    chrome: Chrome,
    units: Vec<ScopedUnit>,
    students: Vec<ScopedStudent>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let units = scope::units_in_scope(&mut tx, user.claims.sub).await?;
        let students = scope::students_in_scope(&mut tx, user.claims.sub).await?;
        Ok::<_, AppError>((units, students))
    };
    let (units, students) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.scope").await;
    let page = ScopePage { m: Catalog::zh(), chrome, units, students };
    csrf.attach(render(StatusCode::OK, &page))
}

/// The same scope as JSON, for API clients with a bearer token.
pub async fn students_json(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        Ok::<_, AppError>(scope::students_in_scope(&mut tx, user.claims.sub).await?)
    };
    match loaded.await {
        Ok(students) => axum::Json(serde_json::json!({ "students": students })).into_response(),
        Err(e) => e.into_response(),
    }
}
