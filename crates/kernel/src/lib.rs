//! The shared kernel every Xuegong crate builds on: typed ids, the error envelope, configuration,
//! tenant-scoped database access, the start-up isolation check and the message catalog.

pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod i18n;
pub mod idnumber;
pub mod ids;
pub mod isolation;
pub mod keyring;
pub mod password;
pub mod text;

pub use db::{Db, DistrictTx, PlatformTx, TenantTx};
pub use error::{AppError, AppResult};
pub use ids::{DistrictId, Slug, TenantId};
