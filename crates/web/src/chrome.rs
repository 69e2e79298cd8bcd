//! What every school page shows around its content: the school, who is signed in, the menu of
//! pages this account may open, and a notice or error.

use crate::forms::Csrf;
use crate::{AppState, SchoolUser};
use axum::http::HeaderMap;
use xg_kernel::i18n::Catalog;

pub struct Chrome {
    pub title: String,
    pub school_name: String,
    pub signed_in: String,
    pub base: String,
    pub csrf: String,
    /// (href, label)
    pub nav: Vec<(String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// Menu entries: (path below the school, permission needed, catalog key).
const MENU: &[(&str, Option<&str>, &str)] = &[
    ("home", None, "nav.home"),
    ("me", Some("students.self"), "nav.me"),
    ("students", Some("students.view"), "nav.students"),
    ("scope", Some("org.scope"), "nav.scope"),
    ("org", Some("org.view"), "nav.org"),
    ("handovers", Some("org.handover"), "nav.handovers"),
    ("accounts", Some("accounts.manage"), "nav.accounts"),
    ("roles", Some("roles.manage"), "nav.roles"),
    ("audit", Some("audit.view"), "nav.audit"),
    ("notices", Some("notices.view"), "nav.notices"),
    ("notice-report", Some("notices.report"), "nav.notice_report"),
    ("inbox", Some("notices.inbox"), "nav.inbox"),
    ("awards", Some("awards.apply"), "nav.awards"),
    ("awards/inbox", Some("awards.review"), "nav.awards_inbox"),
    ("awards/notice", Some("awards.notice"), "nav.awards_notice"),
    ("awards/manage", Some("awards.manage"), "nav.awards_manage"),
    ("awards/payments", Some("awards.manage"), "nav.awards_payments"),
    ("awards/stats", Some("awards.manage"), "nav.awards_stats"),
    ("password", None, "nav.password"),
];

/// The menu for this account: only the pages it may open.
pub async fn nav_for(state: &AppState, user: &SchoolUser) -> Vec<(String, String)> {
    let granted =
        state.authz.permissions_of(&user.school, user.claims.sub).await.unwrap_or_default();
    let m = Catalog::zh();
    MENU.iter()
        .filter(|(_, needs, _)| needs.is_none_or(|p| granted.contains(&p)))
        .map(|(path, _, key)| (format!("{}{path}", user.base), m.t(key).to_owned()))
        .collect()
}

impl Chrome {
    pub async fn new(
        state: &AppState,
        user: &SchoolUser,
        headers: &HeaderMap,
        title_key: &str,
    ) -> (Self, Csrf) {
        let m = Catalog::zh();
        let csrf = Csrf::for_page(state, headers);
        let chrome = Self {
            title: m.t(title_key).to_owned(),
            school_name: user.school.name.clone(),
            signed_in: m.fmt("app.signed_in_as", &[("name", &user.claims.name)]),
            base: user.base.clone(),
            csrf: csrf.token.clone(),
            nav: nav_for(state, user).await,
            notice: None,
            error: None,
        };
        (chrome, csrf)
    }
}
