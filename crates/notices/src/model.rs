//! The notice vocabulary and the rules for what a staff member may submit: categories,
//! statuses, the sanitised body, and parsing the compose form. Pure functions, tested here.

use std::collections::HashMap;

use time::PrimitiveDateTime;
use time::macros::format_description;
use uuid::Uuid;
use xg_kernel::i18n::Catalog;
use xg_kernel::text::has_control_characters;

/// Category keys as stored; the labels live in the catalog under `notices.category.*`.
pub const CATEGORIES: &[&str] = &["general", "study", "activity", "safety", "aid", "exam"];

pub const MAX_TITLE: usize = 200;
/// The form extractor refuses any field longer than 10,000 characters first.
pub const MAX_BODY: usize = 10_000;
pub const MAX_REPLY: usize = 500;

pub fn category_label(key: &str) -> String {
    let m = Catalog::zh();
    m.lookup(&format!("notices.category.{key}")).unwrap_or(key).to_owned()
}

pub fn status_label(key: &str) -> String {
    let m = Catalog::zh();
    m.lookup(&format!("notices.status.{key}")).unwrap_or(key).to_owned()
}

/// The body as it may be shown: ammonia's allow-list keeps formatting, links, images and
/// tables, and drops scripts, event handlers, styles and `javascript:` URLs.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default().link_rel(Some("noopener noreferrer")).clean(html).to_string()
}

/// What the compose and edit forms carry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeInput {
    pub title: String,
    pub body_html: String,
    pub category: String,
    /// Local time in Asia/Shanghai, as typed.
    pub deadline: Option<PrimitiveDateTime>,
    pub publish_at: Option<PrimitiveDateTime>,
    pub needs_confirmation: bool,
    pub allow_reply: bool,
    pub units: Vec<Uuid>,
}

/// A `datetime-local` value (`2026-12-10T18:00`, seconds optional) or a space-separated one.
pub fn parse_local_time(text: &str) -> Option<PrimitiveDateTime> {
    let t = text.trim().replace(' ', "T");
    let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(&t, short).or_else(|_| PrimitiveDateTime::parse(&t, long)).ok()
}

fn optional_time(
    form: &HashMap<String, String>,
    key: &str,
) -> Result<Option<PrimitiveDateTime>, &'static str> {
    match form.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_local_time(v).map(Some).ok_or("notices.invalid_time"),
    }
}

/// Reads the form; the error is a catalog key naming what to fix. Audience units arrive as
/// checkboxes named `unit_{uuid}` (a plain form map keeps only one value per name).
pub fn parse_form(form: &HashMap<String, String>) -> Result<NoticeInput, &'static str> {
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let title = field("title");
    if title.is_empty()
        || title.chars().count() > MAX_TITLE
        || has_control_characters(&title, false)
    {
        return Err("notices.invalid_title");
    }
    let raw_body = form.get("body").cloned().unwrap_or_default();
    if raw_body.chars().count() > MAX_BODY {
        return Err("notices.body_too_long");
    }
    let category = field("category");
    if !CATEGORIES.contains(&category.as_str()) {
        return Err("notices.invalid_category");
    }
    let checked = |k: &str| form.get(k).is_some_and(|v| !v.is_empty());
    let units = ticked_units(form);
    Ok(NoticeInput {
        title,
        body_html: sanitize(&raw_body),
        category,
        deadline: optional_time(form, "deadline")?,
        publish_at: optional_time(form, "publish_at")?,
        needs_confirmation: checked("needs_confirmation"),
        allow_reply: checked("allow_reply"),
        units,
    })
}

/// The audience units ticked in a form (`unit_{uuid}` checkboxes), sorted.
pub fn ticked_units(form: &HashMap<String, String>) -> Vec<Uuid> {
    let mut units: Vec<Uuid> = form
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(k, _)| k.strip_prefix("unit_").and_then(|id| id.parse().ok()))
        .collect();
    units.sort();
    units
}

/// A reply as a student may send it: trimmed, 1–500 characters, line breaks allowed.
pub fn clean_reply(text: &str) -> Option<String> {
    let t = text.trim();
    let ok = !t.is_empty() && t.chars().count() <= MAX_REPLY && !has_control_characters(t, true);
    ok.then(|| t.to_owned())
}

/// `part` of `whole` as a percentage with one decimal, or a dash when nobody was counted.
pub fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_owned();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_stripped_and_formatting_stays() {
        let clean = sanitize(
            "<p onclick=\"x()\">放假<b>通知</b><script>alert(1)</script></p>\
             <a href=\"javascript:alert(1)\">点我</a><a href=\"https://example.cn/a\">链接</a>",
        );
        assert!(!clean.contains("script") && !clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(clean.contains("<b>通知</b>"), "{clean}");
        assert!(clean.contains("href=\"https://example.cn/a\""), "{clean}");
        assert!(clean.contains("rel=\"noopener noreferrer\""), "{clean}");
    }

    #[test]
    fn the_form_reads_units_from_checkboxes_and_times_in_local_form() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let f = form(&[
            ("title", "  期末考试安排 "),
            ("body", "<p>请按时参加</p>"),
            ("category", "exam"),
            ("deadline", "2026-12-10T18:00"),
            ("needs_confirmation", "on"),
            (&format!("unit_{a}"), "on"),
            (&format!("unit_{b}"), "on"),
            ("unit_not-a-uuid", "on"),
        ]);
        let input = parse_form(&f).unwrap();
        assert_eq!(input.title, "期末考试安排");
        assert_eq!(input.deadline.unwrap().to_string(), "2026-12-10 18:00:00.0");
        assert!(input.needs_confirmation && !input.allow_reply);
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(input.units, expected);
        assert_eq!(input.publish_at, None);
    }

    #[test]
    fn bad_titles_categories_and_times_are_named() {
        let base = [("title", "通知"), ("category", "general")];
        assert_eq!(
            parse_form(&form(&[("title", " "), ("category", "general")])).unwrap_err(),
            "notices.invalid_title"
        );
        assert_eq!(
            parse_form(&form(&[("title", "x"), ("category", "party")])).unwrap_err(),
            "notices.invalid_category"
        );
        let mut f = form(&base);
        f.insert("deadline".into(), "明天".into());
        assert_eq!(parse_form(&f).unwrap_err(), "notices.invalid_time");
        f.insert("deadline".into(), "2026-02-30T10:00".into());
        assert_eq!(parse_form(&f).unwrap_err(), "notices.invalid_time");
        let long = "长".repeat(MAX_TITLE + 1);
        assert_eq!(
            parse_form(&form(&[("title", &long), ("category", "general")])).unwrap_err(),
            "notices.invalid_title"
        );
    }

    #[test]
    fn replies_and_rates() {
        assert_eq!(clean_reply("  收到\n谢谢 "), Some("收到\n谢谢".to_owned()));
        assert_eq!(clean_reply("   "), None);
        assert_eq!(clean_reply(&"好".repeat(501)), None);
        assert_eq!(rate(2, 3), "66.7%");
        assert_eq!(rate(0, 0), "—");
        assert_eq!(rate(5, 5), "100.0%");
    }
}
