//! The student records pages: the register (search, record, status changes, reveal), roster
//! imports, statistics, exports and transfers. Every route sits behind a signed-in session and a
//! permission; staff without `students.manage` reach only the students of their data scope.

mod imports;
mod list;
mod record;
mod stats;
mod transfers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_tenancy::Module;
use xg_web::AppState;
use xg_web::guard::{require_permission, require_school_user};
use xg_web::schools::require_module;

use crate::import::MAX_FILE_BYTES;
use crate::search::Reach;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/s/{slug}/me", get(record::mine))
        .route("/s/{slug}/students", get(list::page))
        .route("/s/{slug}/students/export", get(list::export))
        .route("/s/{slug}/students/stats", get(stats::page))
        .route("/s/{slug}/students/template", get(imports::template))
        .route(
            "/s/{slug}/students/imports",
            get(imports::page)
                .post(imports::upload)
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/s/{slug}/students/imports/{id}", get(imports::job_page))
        .route("/s/{slug}/students/imports/{id}/commit", post(imports::commit))
        .route("/s/{slug}/students/transfers", get(transfers::page).post(transfers::create))
        .route("/s/{slug}/students/transfers/{id}/decide", post(transfers::decide))
        .route("/s/{slug}/student/{id}", get(record::page))
        .route(
            "/s/{slug}/student/{id}/status",
            post(record::change_status)
                .layer(DefaultBodyLimit::max(record::MAX_DOCUMENT_BYTES + 64 * 1024)),
        )
        .route("/s/{slug}/student/{id}/documents/{attachment}", get(record::document))
        .route("/s/{slug}/student/{id}/reveal", post(record::reveal))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_school_user))
        .route_layer(middleware::from_fn(|req, next| require_module(Module::Enrollment, req, next)))
}

/// Holders of `students.manage` (the registrar) reach the whole school; everyone else their scope.
async fn reach_of(tx: &mut TenantTx, account: Uuid) -> Result<Reach, sqlx::Error> {
    let granted = xg_authz::grants::of_account(tx, account).await?;
    Ok(if granted.contains("students.manage") { Reach::WholeSchool } else { Reach::Scope(account) })
}

#[cfg(test)]
mod tests {
    /// Permissions match routes by pattern, so a record route of the form `/students/:id`
    /// would also match `/students/export` and hand the export to anyone who may view a record.
    #[test]
    fn no_permission_pattern_swallows_another_permissions_route() {
        let students =
            xg_authz::catalogue::PERMISSIONS.iter().filter(|p| p.key.starts_with("students."));
        for p in students {
            for (_, pattern) in p.routes {
                assert!(!pattern.ends_with("/students/:id"), "{pattern}");
            }
        }
    }
}
