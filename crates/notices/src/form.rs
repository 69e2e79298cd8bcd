//! What the compose and edit forms show: the values (kept when a submission is refused) and
//! the audience choices, which are the units in the writer's scope.

use std::collections::HashMap;

use uuid::Uuid;
use xg_authz::scope::ScopedUnit;

use crate::model::{CATEGORIES, category_label};
use crate::repo::Notice;

pub struct FormValues {
    pub title: String,
    pub body: String,
    pub category: String,
    pub deadline: String,
    pub publish_at: String,
    pub needs_confirmation: bool,
    pub allow_reply: bool,
    /// After publishing, the recipients are fixed and the audience is not offered.
    pub audience_locked: bool,
}

pub struct UnitChoice {
    pub id: Uuid,
    pub name: String,
    pub depth: i16,
    pub checked: bool,
}

impl FormValues {
    pub fn empty() -> Self {
        Self {
            title: String::new(),
            body: String::new(),
            category: "general".into(),
            deadline: String::new(),
            publish_at: String::new(),
            needs_confirmation: false,
            allow_reply: false,
            audience_locked: false,
        }
    }

    pub fn submitted(form: &HashMap<String, String>) -> Self {
        let f = |k: &str| form.get(k).cloned().unwrap_or_default();
        Self {
            title: f("title"),
            body: f("body"),
            category: f("category"),
            deadline: f("deadline"),
            publish_at: f("publish_at"),
            needs_confirmation: !f("needs_confirmation").is_empty(),
            allow_reply: !f("allow_reply").is_empty(),
            audience_locked: false,
        }
    }

    pub fn of(notice: &Notice) -> Self {
        Self {
            title: notice.title.clone(),
            body: notice.body_html.clone(),
            category: notice.category.clone(),
            deadline: notice.deadline_input.clone().unwrap_or_default(),
            publish_at: notice.publish_at_input.clone().unwrap_or_default(),
            needs_confirmation: notice.needs_confirmation,
            allow_reply: notice.allow_reply,
            audience_locked: !matches!(notice.status.as_str(), "draft" | "scheduled"),
        }
    }
}

pub fn categories() -> Vec<(&'static str, String)> {
    CATEGORIES.iter().map(|k| (*k, category_label(k))).collect()
}

pub fn unit_choices(scope: Vec<ScopedUnit>, checked: &[Uuid]) -> Vec<UnitChoice> {
    scope
        .into_iter()
        .map(|u| UnitChoice {
            checked: checked.contains(&u.id),
            id: u.id,
            name: u.name,
            depth: u.depth,
        })
        .collect()
}
