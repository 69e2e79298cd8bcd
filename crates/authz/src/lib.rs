//! Who may do what, and on which part of the school. Permissions are a fixed catalogue of
//! named grants, each covering route patterns; roles are per school (built-in ones seeded at
//! onboarding, custom ones made by the school admin) and hold permissions; casbin decides, with
//! the school as the domain. Data scopes say which org units a staff member works in.

pub mod catalogue;
pub mod enforcer;
pub mod grants;
pub mod roles;
pub mod scope;

pub use catalogue::{PERMISSIONS, Permission};
pub use enforcer::{Authz, POLICY_CHANGED_CHANNEL};
