//! Districts and schools (tenants): the registry, the catalogue of modules and school kinds,
//! onboarding manifests, and the onboarding that turns a manifest into a running school.

pub mod accounts;
pub mod lockout;
pub mod manifest;
pub mod model;
pub mod onboard;
pub mod org;
pub mod registry;

pub use manifest::{Manifest, ManifestError, Problem};
pub use model::{District, Module, School, SchoolKind, SchoolStatus};
pub use onboard::{OnboardReport, onboard};
