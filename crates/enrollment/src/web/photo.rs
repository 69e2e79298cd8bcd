//! A student's photo: uploaded by the registrar (JPEG or PNG, checked by content, at most
//! 2 MB), shown on the record to anyone who may see the record, and never served to another
//! school (the object sits under the school's prefix and the row is behind RLS).

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::client::{ClientAddr, actor};
use xg_web::files::{deliver, detect_type};
use xg_web::forms::{csrf_ok, see_other};
use xg_web::{AppState, SchoolUser, csrf_error, error_page};

use super::reach_of;
use super::record::keep_document;
use crate::search::in_reach;

pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path((_, id)): Path<(String, Uuid)>,
    mut multipart: Multipart,
) -> Response {
    let m = Catalog::zh();
    let (mut csrf, mut photo) = (None, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let Ok(data) = field.bytes().await else {
                    return error_page(AppError::invalid(
                        "photo_too_large",
                        m.t("students.photo_invalid"),
                    ));
                };
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&data).into_owned()),
                    "photo" if !data.is_empty() => photo = Some(data),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                return error_page(AppError::invalid(
                    "photo_too_large",
                    m.t("students.photo_invalid"),
                ));
            }
        }
    }
    if !csrf_ok(&state, &headers, csrf.as_deref()) {
        return csrf_error();
    }
    let Some(bytes) = photo else {
        return error_page(AppError::invalid("photo_missing", m.t("students.photo_invalid")));
    };
    let content_type = match detect_type(&bytes, "photo") {
        Some(t @ ("image/jpeg" | "image/png")) => t,
        _ => return error_page(AppError::invalid("photo_type", m.t("students.photo_invalid"))),
    };
    let saved = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        let attachment = keep_document(&state, &mut tx, "照片", content_type, bytes).await?;
        sqlx::query(
            "update students set photo_attachment_id = $3, updated_at = now()
              where tenant_id = $1 and id = $2",
        )
        .bind(user.school.id.as_uuid())
        .bind(id)
        .bind(attachment)
        .execute(tx.conn())
        .await?;
        xg_audit::record(
            &mut tx,
            &actor(&user.claims, addr),
            Change::new("students.photo", id.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    match saved.await {
        Ok(()) => see_other(&format!("{}student/{id}", user.base)),
        Err(e) => error_page(e),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, Uuid)>,
) -> Response {
    let found = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        let row: Option<(Uuid, String)> = sqlx::query_as(
            "select a.id, a.content_type from students s
               join attachments a on a.tenant_id = s.tenant_id and a.id = s.photo_attachment_id
              where s.tenant_id = $1 and s.id = $2",
        )
        .bind(user.school.id.as_uuid())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        row.ok_or(AppError::NotFound)
    };
    match found.await {
        Ok((attachment, content_type)) => {
            deliver(&state, user.school.id, attachment, "photo", &content_type).await
        }
        Err(e) => error_page(e),
    }
}
