//! Student accounts. A roster import creates one account per student (username = student
//! number, role `student`) without hashing anything: hashing thousands of passwords would make a
//! whole-school import take minutes. The account starts as `ACTIVATION_PENDING`; the first
//! sign-in uses the last six characters of the student's ID number, compared under the normal
//! sign-in lockout, and must set a real password before anything else.

use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::DataKey;
use xg_tenancy::accounts::ACTIVATION_PENDING;
use xg_tenancy::lockout::Stored;

use crate::store::ID_NUMBER;

/// Creates the accounts for freshly inserted students whose number can be a username; students
/// whose number already names an account (or cannot be one) get none.
pub async fn create_for(tx: &mut TenantTx, students: &[Uuid]) -> Result<u64, sqlx::Error> {
    let created = sqlx::query(
        "with new as (
             insert into school_accounts (tenant_id, id, username, display_name, password_hash,
                                          must_change_password, student_id)
             select s.tenant_id, gen_random_uuid(), s.student_no, s.name, $3, true, s.id
               from students s
              where s.tenant_id = $1 and s.id = any($2)
                and s.student_no ~ '^[A-Za-z0-9_.-]{2,64}$'
             on conflict do nothing
             returning tenant_id, id
         )
         insert into account_roles (tenant_id, account_id, role_key)
         select tenant_id, id, 'student' from new",
    )
    .bind(tx.tenant().as_uuid())
    .bind(students)
    .bind(ACTIVATION_PENDING)
    .execute(tx.conn())
    .await?;
    if created.rows_affected() > 0 {
        // New accounts with a role: every instance must reload this school's policy.
        xg_authz::enforcer::bump_policy(tx).await?;
    }
    Ok(created.rows_affected())
}

/// What a school account's password is checked against: its hash, or for a pending student
/// account the last six characters of the student's ID number.
pub async fn stored_secret(
    tx: &mut TenantTx,
    key: Option<&DataKey>,
    account: Uuid,
    hash: String,
) -> Result<Stored, sqlx::Error> {
    if hash != ACTIVATION_PENDING {
        return Ok(Stored::Hash(hash));
    }
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "select s.id_number_sealed from school_accounts a
           join students s on s.tenant_id = a.tenant_id and s.id = a.student_id
          where a.tenant_id = $1 and a.id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_optional(tx.conn())
    .await?
    .flatten();
    let id = sealed.zip(key).and_then(|(sealed, key)| key.open(ID_NUMBER, &sealed).ok());
    Ok(match id {
        Some(id) if id.len() >= 6 => Stored::Derived(id[id.len() - 6..].to_uppercase()),
        // No record to derive from: nothing can verify.
        _ => Stored::Hash(hash),
    })
}
