//! What the award pages share: the engine's actor for the signed-in account, refusals that
//! become a Chinese message on the page, and the account's permissions.

use axum::http::StatusCode;
use xg_kernel::AppError;
use xg_web::SchoolUser;
use xg_workflow::{Actor, WfError};

/// Why a form was refused: a message for the person (with its status), or an internal error.
pub enum Refusal {
    User(StatusCode, &'static str),
    Internal(AppError),
}

impl From<WfError> for Refusal {
    fn from(e: WfError) -> Self {
        match e {
            WfError::Db(e) => Self::Internal(AppError::Internal(e.into())),
            other => Self::User(
                StatusCode::from_u16(other.status_code()).unwrap_or(StatusCode::CONFLICT),
                other.message_key(),
            ),
        }
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(AppError::Internal(e.into()))
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Self::Internal(e)
    }
}

pub fn refuse(status: StatusCode, key: &'static str) -> Refusal {
    Refusal::User(status, key)
}

pub fn invalid(key: &'static str) -> Refusal {
    Refusal::User(StatusCode::UNPROCESSABLE_ENTITY, key)
}

pub fn wf_actor(user: &SchoolUser) -> Actor {
    Actor { id: user.claims.sub, name: user.claims.name.clone() }
}

/// True if the account holds `permission` at this school.
pub async fn holds(state: &xg_web::AppState, user: &SchoolUser, permission: &str) -> bool {
    state
        .authz
        .permissions_of(&user.school, user.claims.sub)
        .await
        .map(|p| p.contains(&permission))
        .unwrap_or(false)
}
