//! Workflow definitions on the office's page: publishing a new version (the step lines a
//! school writes), and describing a version's steps for the page and for the rule on a date.

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, TenantTx};
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser};
use xg_workflow::{NewStep, Reach};

use crate::common::{invalid, wf_actor};
use crate::manage::finish;

pub struct DefinitionView {
    pub key: String,
    pub version: i32,
    pub name: String,
    pub notice_days: i32,
    pub effective_from: String,
    pub steps: String,
}

pub type DefRow = (Uuid, String, i32, String, i32, String);

async fn steps_text(tx: &mut TenantTx, def: Uuid) -> Result<String, AppError> {
    let steps = xg_workflow::steps_of(tx, def).await.map_err(|e| AppError::Internal(e.into()))?;
    let roles: Vec<(String, String)> =
        sqlx::query_as("select key, name from roles where tenant_id = $1")
            .bind(tx.tenant().as_uuid())
            .fetch_all(tx.conn())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    let m = Catalog::zh();
    Ok(steps
        .iter()
        .map(|s| {
            let role = roles.iter().find(|r| r.0 == s.role_key).map_or(&s.role_key, |r| &r.1);
            let reach = m.t(if s.reach == Reach::Unit {
                "awards.reach_unit"
            } else {
                "awards.reach_school"
            });
            let quota = if s.counts_quota { m.t("awards.counts_quota") } else { "" };
            format!("{}. {role}（{reach}）{quota}", s.position)
        })
        .collect::<Vec<_>>()
        .join(" → "))
}

pub async fn definition_view(tx: &mut TenantTx, row: DefRow) -> Result<DefinitionView, AppError> {
    let (id, key, version, name, notice_days, effective_from) = row;
    Ok(DefinitionView {
        steps: steps_text(tx, id).await?,
        key,
        version,
        name,
        notice_days,
        effective_from,
    })
}

/// The end of `date` in China Standard Time.
pub fn end_of_day(date: Date) -> OffsetDateTime {
    let offset = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    date.with_hms(23, 59, 59).map(|d| d.assume_offset(offset)).unwrap_or(OffsetDateTime::now_utc())
}

/// Parses step lines: `role_key unit|school [quota]`, one per line.
pub fn parse_steps(text: &str) -> Option<Vec<NewStep>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (role, reach, rest) = match words.as_slice() {
                [role, reach, rest @ ..] => (*role, Reach::parse(reach)?, rest),
                _ => return None,
            };
            let counts_quota = match rest {
                [] => false,
                ["quota"] => true,
                _ => return None,
            };
            Some(NewStep { role_key: role.to_owned(), reach, counts_quota })
        })
        .collect::<Option<Vec<_>>>()
        .filter(|s| !s.is_empty())
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        let key = field("key");
        let steps = parse_steps(&field("steps")).ok_or(invalid("workflow.bad_definition"))?;
        let days: i32 =
            field("notice_days").parse().map_err(|_| invalid("workflow.bad_definition"))?;
        let mut tx = state.db.tenant(user.school.id).await?;
        let def =
            xg_workflow::publish(&mut tx, &wf_actor(&user), &key, &field("name"), days, &steps)
                .await?;
        let after =
            serde_json::json!({ "key": def.key, "version": def.version, "steps": steps.len() });
        xg_audit::record(
            &mut tx,
            &who,
            Change::new("workflow.publish", format!("workflow:{}", def.key)).after(after),
        )
        .await?;
        tx.commit().await?;
        Ok(Catalog::zh()
            .fmt("awards.published", &[("key", &def.key), ("version", &def.version.to_string())]))
    };
    finish(&state, &user, &headers, result.await).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_name_a_role_a_reach_and_maybe_the_quota() {
        let steps =
            parse_steps("head_teacher unit quota\ncounselor unit\n\nschool_admin school").unwrap();
        assert_eq!(steps.len(), 3);
        assert!(steps[0].counts_quota && !steps[1].counts_quota);
        assert_eq!(steps[2].reach, Reach::School);
        assert_eq!(parse_steps("head_teacher"), None);
        assert_eq!(parse_steps("x everywhere"), None);
        assert_eq!(parse_steps("x unit extra"), None);
        assert_eq!(parse_steps("  "), None);
    }
}
