//! The organization module (组织机构): the org tree, each staff member's data scope, the
//! school's roles and permissions, staff accounts, and the audit log. Every page here sits
//! behind a signed-in session and a permission from the catalogue.

mod accounts;
mod audit;
mod handovers;
mod roles;
mod scope;
mod tree;
mod units;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use xg_web::AppState;
use xg_web::api::require_api_user;
use xg_web::guard::{require_permission, require_school_user};

pub use xg_web::chrome::nav_for;

pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/s/{slug}/api/scope/students", get(scope::students_json))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_api_user));
    let pages = Router::new()
        .route("/s/{slug}/org", get(tree::page))
        .route("/s/{slug}/org/units", post(tree::create))
        .route("/s/{slug}/org/units/{id}", get(tree::edit_page).post(tree::edit))
        .route("/s/{slug}/org/units/{id}/delete", post(tree::delete))
        .route("/s/{slug}/scope", get(scope::page))
        .route("/s/{slug}/handovers", get(handovers::page).post(handovers::create))
        .route("/s/{slug}/handovers/{id}/accept", post(handovers::accept))
        .route("/s/{slug}/handovers/{id}/return", post(handovers::give_back))
        .route("/s/{slug}/roles", get(roles::page).post(roles::create))
        .route("/s/{slug}/roles/{key}", post(roles::update))
        .route("/s/{slug}/roles/{key}/delete", post(roles::delete))
        .route("/s/{slug}/accounts", get(accounts::page).post(accounts::create))
        .route("/s/{slug}/accounts/assign", post(accounts::assign))
        .route("/s/{slug}/accounts/{id}/reset-password", post(accounts::reset_password))
        .route("/s/{slug}/audit", get(audit::page))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_school_user));
    pages.merge(api)
}
