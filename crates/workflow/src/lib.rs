//! The approval-workflow engine that awards, honors, fee waivers and the development pipelines
//! share. A school defines, per kind of application, an ordered list of steps, each naming the
//! role that acts and whether the reviewer must cover the applicant's org unit; definitions are
//! versioned and immutable, and an application runs on the version it started with. Reviewers
//! approve, reject or return for changes, always with a comment; a recommending step enforces a
//! per-unit quota; after the final step a public-notice (公示) window takes real-name
//! objections, and the result locks when the window closes with no objection open.
//!
//! Every function takes the caller's `TenantTx`, so engine writes commit or roll back with the
//! module's own writes. The window is checked against `now()` when read or acted on
//! (`lock_closed`); there is no background job.
//!
//! Known shortcomings: the inbox evaluates `wf_may_review` per open application of the school,
//! which is fine for thousands of open applications, not for millions; the fallback when only the
//! applicant could review is the school's admins, not the next level of the org tree.

mod actions;
mod definitions;
mod error;
mod notice;
mod queries;

pub use actions::{Decision, Outcome, act, resubmit, submit};
pub use definitions::{Definition, NewStep, Reach, Step, as_of, current, publish, steps_of};
pub use error::WfError;
pub use notice::{lock_closed, object, resolve};
pub use queries::{
    ActionRecord, Application, InboxItem, Notification, ObjectionRecord, get, history, inbox,
    may_review, notifications, objections,
};

use uuid::Uuid;

/// Who acts: an account of the school and the name recorded in the history.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Uuid,
    pub name: String,
}

/// The state of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InReview,
    Returned,
    Rejected,
    InNotice,
    Approved,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Self::InReview => "in_review",
            Self::Returned => "returned",
            Self::Rejected => "rejected",
            Self::InNotice => "in_notice",
            Self::Approved => "approved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::InReview, Self::Returned, Self::Rejected, Self::InNotice, Self::Approved]
            .into_iter()
            .find(|x| x.key() == s)
    }
}

/// A comment is required on every review action and every objection.
pub fn clean_comment(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()
        && t.chars().count() <= 2000
        && !t.chars().any(|c| c.is_control() && c != '\n' && c != '\r'))
    .then(|| t.replace('\r', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_required_trimmed_and_bounded() {
        assert_eq!(clean_comment("  同意推荐 "), Some("同意推荐".into()));
        assert_eq!(clean_comment("   "), None);
        assert_eq!(clean_comment(&"字".repeat(2001)), None);
        assert_eq!(clean_comment("a\u{0}b"), None);
        assert_eq!(clean_comment("第一行\r\n第二行"), Some("第一行\n第二行".into()));
    }

    #[test]
    fn statuses_round_trip_through_their_keys() {
        for s in ["in_review", "returned", "rejected", "in_notice", "approved"] {
            assert_eq!(Status::parse(s).unwrap().key(), s);
        }
        assert_eq!(Status::parse("draft"), None);
    }
}
