//! The registry's vocabulary: school kinds, modules, statuses, and the rows that carry them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use xg_kernel::{DistrictId, Slug, TenantId};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $key:literal / $zh:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable key stored in the database and written in manifests.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// The name shown in the portal.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($key => Ok($name::$variant),)+ _ => Err(()) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.key())
            }
        }
    };
}

string_enum!(
    /// What sort of school a tenant is; it decides sensible defaults (org levels, modules).
    SchoolKind {
        Primary = "primary" / "小学",
        JuniorHigh = "junior_high" / "初级中学",
        SeniorHigh = "senior_high" / "高级中学",
        Vocational = "vocational" / "中等职业学校",
        College = "college" / "高等学校",
    }
);

string_enum!(
    /// A business module a school can switch on or off. `Organization` is the core every other
    /// module reads, so it is always on.
    Module {
        Organization = "organization" / "组织机构",
        Enrollment = "enrollment" / "学籍管理",
        League = "league" / "团员管理",
        Party = "party" / "党员管理",
        MilitaryTraining = "military_training" / "军训管理",
        Growth = "growth" / "成长记录",
        FeeWaiver = "fee_waiver" / "学费减免",
        Discipline = "discipline" / "奖惩管理",
        Awards = "awards" / "奖励评定",
        Honors = "honors" / "评优评先",
        Notices = "notices" / "通知公告",
    }
);

string_enum!(
    SchoolStatus {
        Active = "active" / "正常",
        Suspended = "suspended" / "已暂停",
    }
);

/// The roles every school starts with; a school admin adds custom ones later.
pub const BUILTIN_ROLES: &[(&str, &str)] = &[
    ("school_admin", "学校管理员"),
    ("counselor", "辅导员"),
    ("head_teacher", "班主任"),
    ("league_secretary", "团委书记"),
    ("party_secretary", "党组织书记"),
    ("training_instructor", "军训教官"),
    ("finance", "财务人员"),
    ("student", "学生"),
];

/// What each built-in role may do when a school is onboarded (permission keys from the
/// authorization catalogue); the school admin can change it afterwards.
pub fn builtin_grants(role: &str) -> &'static [&'static str] {
    const STAFF: &[&str] = &[
        "org.view",
        "org.scope",
        "org.handover",
        "students.view",
        "notices.view",
        "notices.publish",
        "awards.review",
        "awards.notice",
    ];
    match role {
        "school_admin" => &[
            "org.view",
            "org.manage",
            "org.scope",
            "org.handover",
            "roles.manage",
            "accounts.manage",
            "audit.view",
            "students.view",
            "students.manage",
            "students.reveal",
            "students.export",
            "students.self",
            "notices.view",
            "notices.publish",
            "notices.report",
            "notices.inbox",
            "awards.apply",
            "awards.review",
            "awards.notice",
            "awards.manage",
        ],
        "counselor"
        | "head_teacher"
        | "league_secretary"
        | "party_secretary"
        | "training_instructor"
        | "finance" => STAFF,
        "student" => &["students.self", "notices.inbox", "awards.apply", "awards.notice"],
        _ => &[],
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct District {
    pub id: DistrictId,
    pub slug: Slug,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct School {
    pub id: TenantId,
    pub district_id: DistrictId,
    pub slug: Slug,
    pub name: String,
    pub kind: SchoolKind,
    pub status: SchoolStatus,
    pub modules: Vec<Module>,
    pub subdomain: Option<String>,
}

impl School {
    pub fn has_module(&self, module: Module) -> bool {
        module == Module::Organization || self.modules.contains(&module)
    }
}
