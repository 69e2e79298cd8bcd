//! Why the engine refused, each with the catalog key of its Chinese message.

#[derive(Debug, thiserror::Error)]
pub enum WfError {
    #[error("no such application or definition")]
    NotFound,
    #[error("the applicant may not review their own application")]
    SelfReview,
    #[error("the account may not act on this step")]
    NotReviewer,
    #[error("the application changed since it was shown")]
    Conflict,
    #[error("the unit's quota is used up")]
    QuotaFull,
    #[error("a comment is required")]
    CommentRequired,
    #[error("the application is not waiting for this")]
    WrongState,
    #[error("the public-notice window is closed")]
    WindowClosed,
    #[error("the definition is invalid")]
    BadDefinition,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl WfError {
    /// The catalog key of the message shown to people.
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::NotFound => "error.not_found",
            Self::SelfReview => "workflow.self_review",
            Self::NotReviewer => "workflow.not_reviewer",
            Self::Conflict => "workflow.conflict",
            Self::QuotaFull => "workflow.quota_full",
            Self::CommentRequired => "workflow.comment_required",
            Self::WrongState => "workflow.wrong_state",
            Self::WindowClosed => "workflow.window_closed",
            Self::BadDefinition => "workflow.bad_definition",
            Self::Db(_) => "error.internal",
        }
    }

    /// The HTTP status that fits.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::SelfReview | Self::NotReviewer => 403,
            Self::Conflict | Self::QuotaFull | Self::WrongState | Self::WindowClosed => 409,
            Self::CommentRequired | Self::BadDefinition => 422,
            Self::Db(_) => 500,
        }
    }
}
