//! One student's record: fields with personal data masked, a reveal that needs its own
//! permission and is audited, the status change form and the full history.

use askama::Template;
use axum::Extension;
use axum::extract::Multipart;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::Date;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::i18n::Catalog;
use xg_kernel::text::has_control_characters;
use xg_kernel::{AppError, TenantTx};
use xg_storage::ObjectKey;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::csrf_error;
use xg_web::files::{clean_file_name, deliver, detect_type};
use xg_web::forms::{CsrfForm, csrf_ok};
use xg_web::{AppState, SchoolUser, error_page, render};

use super::reach_of;
use crate::export::{Revealed, reveal as open_record};
use crate::search::{gender_label, in_reach};
use crate::status::{self, HistoryEntry, Kind, Status};

#[derive(sqlx::FromRow)]
struct RecordRow {
    student_no: String,
    name: String,
    gender: Option<String>,
    birth_date: Option<Date>,
    ethnicity: Option<String>,
    id_type: String,
    id_number_masked: Option<String>,
    national_no: Option<String>,
    political_status: Option<String>,
    grade: Option<String>,
    college: Option<String>,
    major: Option<String>,
    class_name: Option<String>,
    study_length: Option<String>,
    study_form: Option<String>,
    entry_date: Option<String>,
    phone_masked: Option<String>,
    guardian_phone_masked: Option<String>,
    has_address: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "students_record.html")]
struct RecordPage {
    m: &'static Catalog,
    chrome: Chrome,
    id: Uuid,
    name: String,
    status_label: String,
    fields: Vec<(String, String)>,
    history: Vec<HistoryEntry>,
    kinds: Vec<(&'static str, String)>,
    revealed: Option<Revealed>,
    may_reveal: bool,
    may_change: bool,
    /// Staff see the register's navigation; a student on their own record does not.
    staff: bool,
}

async fn load(tx: &mut TenantTx, id: Uuid) -> Result<Option<RecordRow>, sqlx::Error> {
    sqlx::query_as(
        "select s.student_no, s.name, s.gender, s.birth_date, s.ethnicity, s.id_type,
                s.id_number_masked, s.national_no, s.political_status, s.grade, s.college, s.major,
                u.name as class_name, s.study_length, s.study_form, s.entry_date, s.phone_masked,
                s.guardian_phone_masked, s.address_sealed is not null as has_address, s.status
           from students s
           left join org_units u on u.tenant_id = s.tenant_id and u.id = s.org_unit_id
          where s.tenant_id = $1 and s.id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    id: Uuid,
    revealed: Option<Revealed>,
    outcome: Result<Option<String>, String>,
) -> Response {
    let m = Catalog::zh();
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        let row = load(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        let history = status::history(&mut tx, id).await?;
        let granted = xg_authz::grants::of_account(&mut tx, user.claims.sub).await?;
        Ok::<_, AppError>((row, history, granted))
    };
    let (r, history, granted) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let text = |v: Option<String>| v.unwrap_or_default();
    let fields = vec![
        (m.t("students.student_no").to_owned(), r.student_no),
        (m.t("students.gender").to_owned(), gender_label(r.gender.as_deref()).to_owned()),
        (
            m.t("students.birth_date").to_owned(),
            r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (m.t("students.ethnicity").to_owned(), text(r.ethnicity)),
        (m.t("students.id_type").to_owned(), r.id_type),
        (m.t("students.id_number").to_owned(), text(r.id_number_masked)),
        (m.t("students.national_no").to_owned(), text(r.national_no)),
        (m.t("students.political").to_owned(), text(r.political_status)),
        (m.t("students.grade").to_owned(), text(r.grade)),
        (m.t("students.college").to_owned(), text(r.college)),
        (m.t("students.major").to_owned(), text(r.major)),
        (m.t("students.class").to_owned(), text(r.class_name)),
        (m.t("students.study_length").to_owned(), text(r.study_length)),
        (m.t("students.study_form").to_owned(), text(r.study_form)),
        (m.t("students.entry_date").to_owned(), text(r.entry_date)),
        (m.t("students.phone").to_owned(), text(r.phone_masked)),
        (m.t("students.guardian_phone").to_owned(), text(r.guardian_phone_masked)),
        (
            m.t("students.address").to_owned(),
            if r.has_address { m.t("students.masked").to_owned() } else { String::new() },
        ),
    ];
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "students.record").await;
    let status_code = match &outcome {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match outcome {
        Ok(notice) => chrome.notice = notice,
        Err(error) => chrome.error = Some(error),
    }
    let page = RecordPage {
        m,
        chrome,
        id,
        name: r.name,
        status_label: Status::parse(&r.status).map(Status::label).unwrap_or_default(),
        fields,
        history,
        kinds: [Kind::Suspend, Kind::Resume, Kind::Withdraw, Kind::Graduate]
            .into_iter()
            .map(|k| (k.key(), m.t(&format!("students.kind.{}", k.key())).to_owned()))
            .collect(),
        revealed,
        may_reveal: granted.contains("students.reveal"),
        may_change: granted.contains("students.manage"),
        staff: granted.contains("students.view"),
    };
    csrf.attach(render(status_code, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    Path((_, id)): Path<(String, Uuid)>,
) -> Response {
    show(&state, &user, &headers, id, None, Ok(None)).await
}

/// A student's own record ("我的学籍"): the same page, reached through the account's link.
pub async fn mine(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let own = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "select student_id from school_accounts where tenant_id = $1 and id = $2",
        )
        .bind(user.school.id.as_uuid())
        .bind(user.claims.sub)
        .fetch_one(tx.conn())
        .await?;
        id.ok_or(AppError::NotFound)
    };
    match own.await {
        Ok(id) => show(&state, &user, &headers, id, None, Ok(None)).await,
        Err(e) => error_page(e),
    }
}

/// Shows the personal data in full once, and writes who saw it to the audit log.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path((_, id)): Path<(String, Uuid)>,
    CsrfForm(_): CsrfForm,
) -> Response {
    let opened = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        let key = state.keyring()?.for_school(&mut tx).await?;
        let revealed = open_record(&mut tx, &key, id).await?.ok_or(AppError::NotFound)?;
        xg_audit::record(
            &mut tx,
            &actor(&user.claims, addr),
            Change::new("students.reveal", id.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(revealed)
    };
    match opened.await {
        Ok(revealed) => show(&state, &user, &headers, id, Some(revealed), Ok(None)).await,
        Err(e) => error_page(e),
    }
}

/// The largest document attached to a status change (a scanned approval, 10 MB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The status form's fields and its optional document (name, bytes).
type StatusForm = (HashMap<String, String>, Option<(String, Bytes)>);

/// Reads the multipart status form; `None` when it is not a readable form or is too large.
async fn read_status_form(mut multipart: Multipart) -> Option<StatusForm> {
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(clean_file_name);
        let data = field.bytes().await.ok()?;
        match (name.as_str(), file_name) {
            ("document", Some(file_name)) if !data.is_empty() => file = Some((file_name, data)),
            ("document", _) => {}
            _ => {
                let text = String::from_utf8(data.to_vec()).ok()?;
                if has_control_characters(&text, true) {
                    return None;
                }
                fields.insert(name, text);
            }
        }
    }
    Some((fields, file))
}

/// Keeps a document in the school's attachment storage and records it; returns its id.
async fn keep_document(
    state: &AppState,
    tx: &mut TenantTx,
    file_name: &str,
    content_type: &str,
    bytes: Bytes,
) -> Result<Uuid, AppError> {
    let id = Uuid::new_v4();
    state
        .storage
        .put(&ObjectKey::new(tx.tenant(), id), bytes.clone(), content_type)
        .await
        .map_err(|e| AppError::Unavailable(format!("attachment storage: {e}")))?;
    sqlx::query(
        "insert into attachments (tenant_id, id, file_name, content_type, size_bytes, sha256)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(file_name)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(hex::encode(Sha256::digest(&bytes)))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub async fn change_status(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path((_, id)): Path<(String, Uuid)>,
    multipart: Multipart,
) -> Response {
    let m = Catalog::zh();
    let Some((form, document)) = read_status_form(multipart).await else {
        let message = m.fmt("students.document_too_large", &[("mb", "10")]);
        return show(&state, &user, &headers, id, None, Err(message)).await;
    };
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let Some(kind) = Kind::parse(&field("kind")) else {
        return show(
            &state,
            &user,
            &headers,
            id,
            None,
            Err(m.t("students.kind_required").to_owned()),
        )
        .await;
    };
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let Ok(effective_date) = Date::parse(&field("effective_date"), &date_format) else {
        return show(
            &state,
            &user,
            &headers,
            id,
            None,
            Err(m.t("students.date_required").to_owned()),
        )
        .await;
    };
    let document = match document {
        Some((name, bytes)) => match detect_type(&bytes, &name) {
            Some(content_type) => Some((name, content_type, bytes)),
            None => {
                return show(
                    &state,
                    &user,
                    &headers,
                    id,
                    None,
                    Err(m.t("students.document_type").to_owned()),
                )
                .await;
            }
        },
        None => None,
    };
    let applied = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        // Refuse a bad or impossible change before keeping its document.
        let mut request = status::Request {
            kind,
            reason: field("reason"),
            effective_date,
            document_no: Some(field("document_no")),
            approved_by: Some(field("approved_by")),
            attachment_id: None,
        };
        status::check_reason(&request.reason)?;
        status::check_short(&request)?;
        status::lock_and_check(&mut tx, id, kind).await?;
        let attachment_id = match document {
            Some((name, content_type, bytes)) => {
                Some(keep_document(&state, &mut tx, &name, content_type, bytes).await?)
            }
            None => None,
        };
        request.attachment_id = attachment_id;
        let to = status::apply(&mut tx, id, &request, &actor(&user.claims, addr)).await?;
        tx.commit().await?;
        Ok::<_, AppError>(to)
    };
    match applied.await {
        Ok(to) => {
            let notice = m.fmt("students.status_changed", &[("status", &to.label())]);
            show(&state, &user, &headers, id, None, Ok(Some(notice))).await
        }
        Err(AppError::Invalid { message, .. } | AppError::Conflict { message, .. }) => {
            show(&state, &user, &headers, id, None, Err(message)).await
        }
        Err(e) => error_page(e),
    }
}

/// A document attached to one of this student's status changes, for anyone who may see the
/// record.
pub async fn document(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id, attachment)): Path<(String, Uuid, Uuid)>,
) -> Response {
    let found = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let reach = reach_of(&mut tx, user.claims.sub).await?;
        if !in_reach(&mut tx, reach, id).await? {
            return Err(AppError::NotFound);
        }
        let row: Option<(String, String)> = sqlx::query_as(
            "select a.file_name, a.content_type from student_status_changes h
               join attachments a on a.tenant_id = h.tenant_id and a.id = h.attachment_id
              where h.tenant_id = $1 and h.student_id = $2 and h.attachment_id = $3",
        )
        .bind(user.school.id.as_uuid())
        .bind(id)
        .bind(attachment)
        .fetch_optional(tx.conn())
        .await?;
        row.ok_or(AppError::NotFound)
    };
    match found.await {
        Ok((name, content_type)) => {
            deliver(&state, user.school.id, attachment, &name, &content_type).await
        }
        Err(e) => error_page(e),
    }
}
