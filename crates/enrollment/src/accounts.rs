//! Student accounts. A roster import creates one account per student (username = student
//! number, role `student`) without hashing anything: hashing thousands of passwords would make a
//! whole-school import take minutes. The account starts as `ACTIVATION_PENDING`; the first
//! sign-in uses the last six characters of the student's ID number, compared under the normal
//! sign-in lockout, and must set a real password before anything else. The accounts and their
//! role are written in the same statement as the students (`store::write_chunk`).

use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::DataKey;
use xg_tenancy::accounts::ACTIVATION_PENDING;
use xg_tenancy::lockout::Stored;

use crate::store::ID_NUMBER;

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
