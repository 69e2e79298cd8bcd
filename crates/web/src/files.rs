//! Files people upload and download: the type decided from the bytes (never from the name), a
//! clean file name, the RFC 5987 `Content-Disposition` that keeps Chinese names intact, and
//! delivery after the caller has authorised the download: a short-lived presigned URL on S3,
//! or the bytes streamed from local disk. Objects sit under the school's prefix, so a link
//! for one school's file is useless to another.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use uuid::Uuid;
use xg_kernel::{AppError, TenantId};
use xg_storage::ObjectKey;

use crate::{AppState, error_page};

const PRESIGN_TTL: Duration = Duration::from_secs(300);

/// Types recognised from content. Anything else is refused, except plain UTF-8 text named
/// `.txt` or `.csv`.
const ALLOWED: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/x-ole-storage",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// The stored content type for these bytes, or `None` if the type is not accepted.
pub fn detect_type(bytes: &[u8], file_name: &str) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return ALLOWED.iter().copied().find(|t| *t == kind.mime_type());
    }
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let text = std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0'));
    match ext.as_deref() {
        Some("txt") if text => Some("text/plain; charset=utf-8"),
        Some("csv") if text => Some("text/csv; charset=utf-8"),
        _ => None,
    }
}

/// RFC 5987 `attr-char`: everything else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with an ASCII fallback name and the real (UTF-8) name in `filename*`.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let encoded = utf8_percent_encode(file_name, ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The last path segment of what the browser sent, without control characters, at most 120
/// characters; `附件` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    let kept = kept.trim();
    if kept.is_empty() || kept == "." || kept == ".." {
        "附件".to_owned()
    } else {
        kept.to_owned()
    }
}

pub async fn deliver(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
    name: &str,
    content_type: &str,
) -> Response {
    let key = ObjectKey::new(tenant, id);
    let disposition = content_disposition(name);
    match state.storage.presigned_get(&key, content_type, &disposition, PRESIGN_TTL).await {
        Ok(Some(url)) => {
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, url), (header::CACHE_CONTROL, "private, no-store".to_owned())],
            )
                .into_response();
        }
        Ok(None) => {}
        Err(e) => return error_page(AppError::Internal(e.into())),
    }
    match state.storage.get(&key).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => error_page(AppError::NotFound),
        Err(e) => error_page(AppError::Internal(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_with_spaces_survive_in_rfc_5987_form() {
        let d = content_disposition("期末 考试安排 (终版).pdf");
        assert_eq!(
            d,
            "attachment; filename=\"____________.pdf\"; \
             filename*=UTF-8''%E6%9C%9F%E6%9C%AB%20%E8%80%83%E8%AF%95%E5%AE%89%E6%8E%92\
             %20%28%E7%BB%88%E7%89%88%29.pdf"
        );
    }

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj";
        assert_eq!(detect_type(pdf, "成绩.txt"), Some("application/pdf"));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(detect_type(png, "照片.pdf"), Some("image/png"));
        assert_eq!(
            detect_type("名单，一班".as_bytes(), "名单.csv"),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(detect_type(b"MZ\x90\0\x03\0\0\0\x04\0", "setup.pdf"), None);
        assert_eq!(detect_type(b"<script>alert(1)</script>", "page.html"), None);
        assert_eq!(detect_type(b"\xff\xfe\0\0", "x.txt"), None);
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("C:\\Users\\张三\\通知 附件.docx"), "通知 附件.docx");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{7}b.pdf"), "ab.pdf");
        assert_eq!(clean_file_name(""), "附件");
    }
}
