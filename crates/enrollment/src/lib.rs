//! The student records module (学籍). So far it holds the reading side of roster import: how
//! raw cells and files from real schools become clean values, and why a value is refused. The
//! import itself, storage, status changes, transfers, statistics and exports build on these.

pub mod accounts;
pub mod cells;
pub mod columns;
pub mod dates;
pub mod encoding;
pub mod export;
pub mod generate;
pub mod import;
pub mod placement;
pub mod preview;
pub mod reference;
pub mod search;
pub mod sheet;
pub mod stats;
pub mod status;
pub mod store;
pub mod transfer;
pub mod web;

pub use web::router;
