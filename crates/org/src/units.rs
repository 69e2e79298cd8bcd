//! Rules and storage for org units: add, rename and delete, with the guards a registrar expects.
//! A unit sits exactly one level below its parent (the database enforces this too, which also
//! rules out cycles); a unit with children, students or staff assigned to it is not deleted.

use serde::Serialize;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::TenantTx;
use xg_kernel::text::has_control_characters;

#[derive(Debug)]
pub enum UnitError {
    InvalidName,
    InvalidCode,
    CodeTaken(String),
    UnknownParent,
    NoLevel,
    TooDeep(String),
    NotFound,
    HasChildren(String),
    HasStudents(String, i64),
    HasStaff(String, i64),
    InvalidPhone,
    InvalidLocation,
    BadMove,
    UnknownLeader,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for UnitError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

#[derive(Serialize)]
struct UnitRecord<'a> {
    code: &'a str,
    name: &'a str,
    parent_id: Option<Uuid>,
    depth: i16,
}

fn clean(text: &str, max: usize) -> Option<String> {
    let t = text.trim();
    (!t.is_empty() && t.chars().count() <= max && !has_control_characters(t, false))
        .then(|| t.to_owned())
}

pub async fn create(
    tx: &mut TenantTx,
    actor: &Actor,
    code: &str,
    name: &str,
    parent: Option<Uuid>,
) -> Result<Uuid, UnitError> {
    let code = clean(code, 40).ok_or(UnitError::InvalidCode)?;
    let name = clean(name, 100).ok_or(UnitError::InvalidName)?;
    let tenant = tx.tenant().as_uuid();
    let depth = match parent {
        None => 1,
        Some(p) => {
            let found: Option<(i16, String)> = sqlx::query_as(
                "select depth, name from org_units where tenant_id = $1 and id = $2",
            )
            .bind(tenant)
            .bind(p)
            .fetch_optional(tx.conn())
            .await?;
            let (d, parent_name) = found.ok_or(UnitError::UnknownParent)?;
            let levels: i64 =
                sqlx::query_scalar("select count(*) from org_levels where tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(tx.conn())
                    .await?;
            if i64::from(d) >= levels {
                return Err(UnitError::TooDeep(parent_name));
            }
            d + 1
        }
    };
    let level_exists: bool = sqlx::query_scalar(
        "select exists (select 1 from org_levels where tenant_id = $1 and depth = $2)",
    )
    .bind(tenant)
    .bind(depth)
    .fetch_one(tx.conn())
    .await?;
    if !level_exists {
        return Err(UnitError::NoLevel);
    }
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "insert into org_units (tenant_id, id, parent_id, depth, code, name)
         values ($1, $2, $3, $4, $5, $6) on conflict (tenant_id, code) do nothing",
    )
    .bind(tenant)
    .bind(id)
    .bind(parent)
    .bind(depth)
    .bind(&code)
    .bind(&name)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(UnitError::CodeTaken(code));
    }
    let after = UnitRecord { code: &code, name: &name, parent_id: parent, depth };
    xg_audit::record(
        tx,
        actor,
        Change::new("org.unit.create", format!("org_unit:{id}")).after(after),
    )
    .await?;
    Ok(id)
}

/// A unit's editable details. Moving keeps the unit on its level: the new parent must sit where
/// the old one did, so the subtree below moves along unchanged and no cycle can form.
pub struct UnitEdit {
    pub name: String,
    pub parent: Option<Uuid>,
    pub leader: Option<Uuid>,
    pub office_phone: String,
    pub office_location: String,
}

#[derive(Serialize)]
struct Details {
    name: String,
    parent_id: Option<Uuid>,
    leader_account_id: Option<Uuid>,
    office_phone: String,
    office_location: String,
}

/// depth, parent, name, leader, office phone, office location.
type CurrentRow = (i16, Option<Uuid>, String, Option<Uuid>, String, String);

pub async fn edit(
    tx: &mut TenantTx,
    actor: &Actor,
    id: Uuid,
    e: UnitEdit,
) -> Result<String, UnitError> {
    let tenant = tx.tenant().as_uuid();
    let name = clean(&e.name, 100).ok_or(UnitError::InvalidName)?;
    let phone = e.office_phone.trim().to_owned();
    let phone_ok =
        phone.len() <= 30 && phone.chars().all(|c| c.is_ascii_digit() || "+() -".contains(c));
    if !phone_ok {
        return Err(UnitError::InvalidPhone);
    }
    let location = e.office_location.trim().to_owned();
    if location.chars().count() > 100 || has_control_characters(&location, false) {
        return Err(UnitError::InvalidLocation);
    }
    let current: Option<CurrentRow> = sqlx::query_as(
        "select depth, parent_id, name, leader_account_id, office_phone, office_location
           from org_units where tenant_id = $1 and id = $2 for update",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (depth, old_parent, old_name, old_leader, old_phone, old_location) =
        current.ok_or(UnitError::NotFound)?;
    if let Some(p) = e.parent {
        let parent_depth: Option<i16> =
            sqlx::query_scalar("select depth from org_units where tenant_id = $1 and id = $2")
                .bind(tenant)
                .bind(p)
                .fetch_optional(tx.conn())
                .await?;
        if parent_depth != Some(depth - 1) {
            return Err(UnitError::BadMove);
        }
    } else if depth != 1 {
        return Err(UnitError::BadMove);
    }
    if let Some(leader) = e.leader {
        let staff: bool = sqlx::query_scalar(
            "select exists (select 1 from school_accounts
                             where tenant_id = $1 and id = $2 and student_id is null)",
        )
        .bind(tenant)
        .bind(leader)
        .fetch_one(tx.conn())
        .await?;
        if !staff {
            return Err(UnitError::UnknownLeader);
        }
    }
    sqlx::query(
        "update org_units set name = $3, parent_id = $4, leader_account_id = $5,
                office_phone = $6, office_location = $7
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(&name)
    .bind(e.parent)
    .bind(e.leader)
    .bind(&phone)
    .bind(&location)
    .execute(tx.conn())
    .await?;
    let before = Details {
        name: old_name,
        parent_id: old_parent,
        leader_account_id: old_leader,
        office_phone: old_phone,
        office_location: old_location,
    };
    let after = Details {
        name: name.clone(),
        parent_id: e.parent,
        leader_account_id: e.leader,
        office_phone: phone,
        office_location: location,
    };
    let change =
        Change::new("org.unit.update", format!("org_unit:{id}")).before(before).after(after);
    xg_audit::record(tx, actor, change).await?;
    Ok(name)
}

pub async fn delete(tx: &mut TenantTx, actor: &Actor, id: Uuid) -> Result<String, UnitError> {
    let tenant = tx.tenant().as_uuid();
    let found: Option<(String, String, i64, i64, i64)> = sqlx::query_as(
        "select u.name, u.code,
                (select count(*) from org_units c where c.tenant_id = u.tenant_id and c.parent_id = u.id),
                (select count(*) from students s where s.tenant_id = u.tenant_id and s.org_unit_id = u.id),
                (select count(*) from staff_scopes f where f.tenant_id = u.tenant_id and f.org_unit_id = u.id)
           from org_units u where u.tenant_id = $1 and u.id = $2 for update",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (name, code, children, students, staff) = found.ok_or(UnitError::NotFound)?;
    if children > 0 {
        return Err(UnitError::HasChildren(name));
    }
    if students > 0 {
        return Err(UnitError::HasStudents(name, students));
    }
    if staff > 0 {
        return Err(UnitError::HasStaff(name, staff));
    }
    sqlx::query("delete from org_units where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let change = Change::new("org.unit.delete", format!("org_unit:{id}"))
        .before(serde_json::json!({ "code": code, "name": name }));
    xg_audit::record(tx, actor, change).await?;
    Ok(name)
}
