//! The permission catalogue. Each permission names the route patterns it opens, relative to a
//! school (`/s/{slug}` stripped), in casbin's keyMatch2 syntax: `:id` matches one path segment
//! only, so `/org/units/:id` does not open `/org/units/:id/move`.

use xg_tenancy::Module;

pub struct Permission {
    pub key: &'static str,
    /// The module it belongs to; a switched-off module's permissions grant nothing.
    pub module: Module,
    /// (HTTP method, path pattern) pairs.
    pub routes: &'static [(&'static str, &'static str)],
}

pub const PERMISSIONS: &[Permission] = &[
    Permission { key: "org.view", module: Module::Organization, routes: &[("GET", "/org")] },
    Permission {
        key: "org.manage",
        module: Module::Organization,
        routes: &[
            ("POST", "/org/units"),
            ("GET", "/org/units/:id"),
            ("POST", "/org/units/:id"),
            ("POST", "/org/units/:id/delete"),
        ],
    },
    Permission {
        key: "org.scope",
        module: Module::Organization,
        routes: &[("GET", "/scope"), ("GET", "/api/scope/students")],
    },
    Permission {
        key: "org.handover",
        module: Module::Organization,
        routes: &[
            ("GET", "/handovers"),
            ("POST", "/handovers"),
            ("POST", "/handovers/:id/accept"),
            ("POST", "/handovers/:id/return"),
        ],
    },
    Permission {
        key: "roles.manage",
        module: Module::Organization,
        routes: &[
            ("GET", "/roles"),
            ("POST", "/roles"),
            ("POST", "/roles/:key"),
            ("POST", "/roles/:key/delete"),
        ],
    },
    Permission {
        key: "accounts.manage",
        module: Module::Organization,
        routes: &[
            ("GET", "/accounts"),
            ("POST", "/accounts"),
            ("POST", "/accounts/assign"),
            ("POST", "/accounts/:id/reset-password"),
        ],
    },
    Permission { key: "audit.view", module: Module::Organization, routes: &[("GET", "/audit")] },
    Permission {
        key: "students.view",
        module: Module::Enrollment,
        routes: &[
            ("GET", "/students"),
            ("GET", "/students/stats"),
            ("GET", "/student/:id"),
            ("GET", "/student/:id/documents/:attachment"),
        ],
    },
    Permission {
        key: "students.manage",
        module: Module::Enrollment,
        routes: &[
            ("GET", "/students/imports"),
            ("POST", "/students/imports"),
            ("GET", "/students/imports/:id"),
            ("POST", "/students/imports/:id/commit"),
            ("GET", "/students/template"),
            ("POST", "/student/:id/status"),
            ("GET", "/students/transfers"),
            ("POST", "/students/transfers"),
            ("POST", "/students/transfers/:id/decide"),
        ],
    },
    Permission {
        key: "students.reveal",
        module: Module::Enrollment,
        routes: &[("POST", "/student/:id/reveal")],
    },
    Permission { key: "students.self", module: Module::Enrollment, routes: &[("GET", "/me")] },
    Permission {
        key: "students.export",
        module: Module::Enrollment,
        routes: &[("GET", "/students/export")],
    },
    Permission {
        key: "notices.view",
        module: Module::Notices,
        routes: &[
            ("GET", "/notices"),
            ("GET", "/notices/:id"),
            ("GET", "/notices/:id/export"),
            ("GET", "/notices/:id/attachments/:attachment"),
        ],
    },
    Permission {
        key: "notices.publish",
        module: Module::Notices,
        routes: &[
            ("POST", "/notices"),
            ("POST", "/notices/:id"),
            ("GET", "/notices/:id/edit"),
            ("POST", "/notices/:id/publish"),
            ("POST", "/notices/:id/withdraw"),
            ("POST", "/notices/:id/remind"),
            ("POST", "/notices/:id/attachments"),
            ("POST", "/notices/:id/attachments/:attachment/delete"),
        ],
    },
    Permission {
        key: "notices.report",
        module: Module::Notices,
        routes: &[("GET", "/notice-report")],
    },
    Permission {
        key: "notices.inbox",
        module: Module::Notices,
        routes: &[
            ("GET", "/inbox"),
            ("GET", "/inbox/:id"),
            ("POST", "/inbox/:id/confirm"),
            ("POST", "/inbox/:id/reply"),
            ("GET", "/inbox/:id/attachments/:attachment"),
        ],
    },
    Permission {
        key: "awards.apply",
        module: Module::Awards,
        routes: &[
            ("GET", "/awards"),
            ("POST", "/awards/items/:id/apply"),
            ("GET", "/awards/applications/:id"),
            ("POST", "/awards/applications/:id/resubmit"),
        ],
    },
    Permission {
        key: "awards.review",
        module: Module::Awards,
        routes: &[
            ("GET", "/awards/inbox"),
            ("POST", "/awards/applications/:id/act"),
            ("GET", "/awards/applications/:id"),
        ],
    },
    Permission {
        key: "awards.notice",
        module: Module::Awards,
        routes: &[("GET", "/awards/notice"), ("POST", "/awards/applications/:id/object")],
    },
    Permission {
        key: "awards.manage",
        module: Module::Awards,
        routes: &[
            ("GET", "/awards/manage"),
            ("POST", "/awards/items"),
            ("POST", "/awards/items/national"),
            ("POST", "/awards/workflows"),
            ("POST", "/awards/objections/:id/resolve"),
            ("GET", "/awards/payments"),
            ("POST", "/awards/payments"),
            ("GET", "/awards/stats"),
            ("GET", "/awards/stats.xlsx"),
            ("GET", "/awards/applications/:id"),
        ],
    },
];

pub fn find(key: &str) -> Option<&'static Permission> {
    PERMISSIONS.iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use xg_tenancy::model::{BUILTIN_ROLES, builtin_grants};

    use super::*;

    #[test]
    fn every_builtin_grant_names_a_permission_in_the_catalogue() {
        for (role, _) in BUILTIN_ROLES {
            for grant in builtin_grants(role) {
                assert!(find(grant).is_some(), "{role}: {grant}");
            }
        }
        assert_eq!(builtin_grants("school_admin").len(), PERMISSIONS.len());
    }
}
