//! Notice attachments. Uploads are read chunk by chunk up to a stated cap and stored only when
//! whole, so an oversized or broken upload leaves no object behind; the type is decided from
//! the bytes, never from the name. Downloads are authorised first (the caller proved the
//! notice is theirs to see), then served as a short-lived presigned URL (S3) or streamed from
//! local disk, with the Chinese file name in RFC 5987 form.
//!
//! Known limit: an accepted upload is held in memory (at most the cap) before it is stored.

use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::BytesMut;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::text::has_control_characters;
use xg_kernel::{AppError, TenantTx};
use xg_storage::ObjectKey;
use xg_web::client::{ClientAddr, actor};
use xg_web::files::{clean_file_name, deliver, detect_type};
use xg_web::forms::{CsrfForm, csrf_ok};
use xg_web::{AppState, SchoolUser, csrf_error, error_page, message_page};

use crate::repo::{self, Viewer};
use crate::staff::own_notice;

/// The largest attachment accepted (20 MB); larger uploads get 413.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// An oversized upload is read (and discarded) up to this much so the browser sees the answer;
/// past it the connection is dropped.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

enum Upload {
    File { name: String, bytes: bytes::Bytes },
    TooLarge,
    Refused(Response),
}

/// Reads the form: `csrf` first, then `file`, which is kept only while within the cap.
async fn read_upload(state: &AppState, headers: &HeaderMap, mut form: Multipart) -> Upload {
    let bad = || Upload::Refused(message_page(StatusCode::BAD_REQUEST, "notices.upload_bad"));
    let mut csrf = String::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => {
                return Upload::Refused(message_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "notices.upload_empty",
                ));
            }
            Err(_) => return bad(),
        };
        match field.name() {
            Some("csrf") => match field.text().await {
                Ok(t) if t.len() <= 200 => csrf = t,
                _ => return bad(),
            },
            Some("file") => {
                if !csrf_ok(state, headers, Some(&csrf)) {
                    return Upload::Refused(csrf_error());
                }
                let name = clean_file_name(field.file_name().unwrap_or_default());
                let mut buffer = BytesMut::new();
                let mut seen = 0usize;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            seen += chunk.len();
                            if seen > MAX_UPLOAD_BYTES {
                                buffer = BytesMut::new();
                                if seen > DRAIN_LIMIT {
                                    return Upload::TooLarge;
                                }
                            } else {
                                buffer.extend_from_slice(&chunk);
                            }
                        }
                        Ok(None) => break,
                        Err(_) if seen > MAX_UPLOAD_BYTES => return Upload::TooLarge,
                        Err(_) => return bad(),
                    }
                }
                if seen > MAX_UPLOAD_BYTES {
                    return Upload::TooLarge;
                }
                return Upload::File { name, bytes: buffer.freeze() };
            }
            _ => {}
        }
    }
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let m = xg_kernel::i18n::Catalog::zh();
    // Who may attach is settled before a byte of the file is read.
    let found = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        Ok::<_, AppError>(own_notice(&mut tx, &user, &id).await?)
    };
    let notice = match found.await {
        Ok(Ok(n)) if n.status == "withdrawn" => {
            return message_page(StatusCode::CONFLICT, "notices.withdrawn_no_edit");
        }
        Ok(Ok(n)) => n,
        Ok(Err(page)) => return page,
        Err(e) => return error_page(e),
    };
    let Ok(form) = form else { return message_page(StatusCode::BAD_REQUEST, "notices.upload_bad") };
    let (name, bytes) = match read_upload(&state, &headers, form).await {
        Upload::File { bytes, .. } if bytes.is_empty() => {
            return message_page(StatusCode::UNPROCESSABLE_ENTITY, "notices.upload_empty");
        }
        Upload::File { name, bytes } => (name, bytes),
        Upload::TooLarge => {
            return message_page(StatusCode::PAYLOAD_TOO_LARGE, "notices.upload_too_large");
        }
        Upload::Refused(page) => return page,
    };
    if has_control_characters(&name, false) {
        return message_page(StatusCode::UNPROCESSABLE_ENTITY, "notices.upload_bad");
    }
    let Some(content_type) = detect_type(&bytes, &name) else {
        return message_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "notices.upload_type");
    };
    let attachment = Uuid::new_v4();
    let key = ObjectKey::new(user.school.id, attachment);
    if let Err(e) = state.storage.put(&key, bytes.clone(), content_type).await {
        return error_page(AppError::Internal(e.into()));
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    let who = actor(&user.claims, addr);
    let saved = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        sqlx::query(
            "insert into attachments (tenant_id, id, file_name, content_type, size_bytes, sha256)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(attachment)
        .bind(&name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(&sha)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "insert into notice_attachments (tenant_id, notice_id, attachment_id)
             values ($1, $2, $3)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(notice.id)
        .bind(attachment)
        .execute(tx.conn())
        .await?;
        let after = serde_json::json!({
            "attachment": attachment, "size": bytes.len(), "type": content_type,
        });
        let change = Change::new("notice.attach", format!("notice:{}", notice.id)).after(after);
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = saved.await {
        // The row never landed: the object must not outlive it.
        let _ = state.storage.delete(&key).await;
        return error_page(e);
    }
    let notice_text = m.fmt("notices.attached", &[("name", &name)]);
    crate::detail::show(&state, &user, &headers, notice.id, StatusCode::OK, Some(notice_text), None)
        .await
}

/// Removes an attachment from a notice that has not gone out yet (what students received
/// stays as it was); the object goes once the rows are gone.
pub async fn remove(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id, attachment)): Path<(String, String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm,
) -> Response {
    let Ok(attachment) = attachment.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let notice = match own_notice(&mut tx, &user, &id).await? {
            Ok(n) => n,
            Err(page) => return Ok(Err(page)),
        };
        if !matches!(notice.status.as_str(), "draft" | "scheduled") {
            return Ok(Err(message_page(StatusCode::CONFLICT, "notices.attachment_locked")));
        }
        let Some((name, _)) = attachment_of(&mut tx, notice.id, attachment).await? else {
            return Ok(Err(error_page(AppError::NotFound)));
        };
        for sql in [
            "delete from notice_attachments where tenant_id = $1 and attachment_id = $2",
            "delete from attachments where tenant_id = $1 and id = $2",
        ] {
            sqlx::query(sql)
                .bind(tx.tenant().as_uuid())
                .bind(attachment)
                .execute(tx.conn())
                .await?;
        }
        let change = Change::new("notice.detach", format!("notice:{}", notice.id))
            .before(serde_json::json!({ "attachment": attachment }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok((notice.id, name)))
    };
    match result.await {
        Ok(Ok((id, name))) => {
            let key = ObjectKey::new(user.school.id, attachment);
            if let Err(e) = state.storage.delete(&key).await {
                // The rows are gone, so nothing links to the object any more.
                tracing::warn!(error.message = %e, "attachment object was not deleted");
            }
            let m = xg_kernel::i18n::Catalog::zh();
            let notice = Some(m.fmt("notices.detached", &[("name", &name)]));
            crate::detail::show(&state, &user, &headers, id, StatusCode::OK, notice, None).await
        }
        Ok(Err(page)) => page,
        Err(e) => error_page(e),
    }
}

/// The attachment's name and type if it belongs to this notice.
pub async fn attachment_of(
    tx: &mut TenantTx,
    notice: Uuid,
    attachment: Uuid,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select a.file_name, a.content_type from notice_attachments na
           join attachments a on a.tenant_id = na.tenant_id and a.id = na.attachment_id
          where na.tenant_id = $1 and na.notice_id = $2 and na.attachment_id = $3",
    )
    .bind(tx.tenant().as_uuid())
    .bind(notice)
    .bind(attachment)
    .fetch_optional(tx.conn())
    .await
}

/// Sends an attachment the caller has already been authorised for.
/// Staff download: the notice must be one they may see.
pub async fn staff_download(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id, attachment)): Path<(String, String, String)>,
) -> Response {
    let (Ok(id), Ok(attachment)) = (id.parse::<Uuid>(), attachment.parse::<Uuid>()) else {
        return error_page(AppError::NotFound);
    };
    let found = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let viewer = Viewer::load(&mut tx, user.claims.sub).await?;
        if repo::find_for_staff(&mut tx, id, &viewer).await?.is_none() {
            return Ok(None);
        }
        Ok::<_, AppError>(attachment_of(&mut tx, id, attachment).await?)
    };
    match found.await {
        Ok(Some((name, content_type))) => {
            deliver(&state, user.school.id, attachment, &name, &content_type).await
        }
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}
