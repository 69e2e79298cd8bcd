//! The hash chain. An entry's hash is SHA-256 over the previous hash and a canonical JSON
//! encoding of the entry (object keys sorted, time as integer microseconds), so the same entry
//! read back from PostgreSQL hashes to the same value.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Actor, Change};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at_micros: i64,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    at_micros: i64,
    actor_id: Option<Uuid>,
    actor_name: &'a str,
    action: &'a str,
    target: &'a str,
    before: &'a Option<Value>,
    after: &'a Option<Value>,
    client_addr: &'a Option<String>,
}

fn hash_of(prev_hash: &str, e: &Entry) -> String {
    let content = Hashed {
        seq: e.seq,
        at_micros: e.at_micros,
        actor_id: e.actor_id,
        actor_name: &e.actor_name,
        action: &e.action,
        target: &e.target,
        before: &e.before,
        after: &e.after,
        client_addr: &e.client_addr,
    };
    // serde_json's map is ordered by key, so nested objects encode canonically.
    let canonical = serde_json::to_string(&content).expect("audit entries serialise");
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

pub fn next_entry(
    last: Option<(i64, String)>,
    actor: &Actor,
    change: Change,
    at_micros: i64,
) -> Entry {
    let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS.to_owned()));
    let mut entry = Entry {
        seq: prev_seq + 1,
        at_micros,
        actor_id: actor.id,
        actor_name: actor.name.clone(),
        action: change.action.to_owned(),
        target: change.target,
        before: change.before.map(canonical),
        after: change.after.map(canonical),
        client_addr: actor.client_addr.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = hash_of(&entry.prev_hash, &entry);
    entry
}

/// Round-trips a value through the sorted map so what is hashed equals what jsonb returns.
fn canonical(value: Value) -> Value {
    serde_json::from_str(&value.to_string()).unwrap_or(value)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub entries: usize,
    /// The first entry whose hash, link or sequence number is wrong.
    pub first_broken: Option<i64>,
}

pub fn check(entries: &[Entry]) -> ChainReport {
    let mut prev = GENESIS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        if e.seq != expected_seq || e.prev_hash != prev || hash_of(&prev, e) != e.hash {
            return ChainReport { entries: entries.len(), first_broken: Some(expected_seq) };
        }
        prev = e.hash.clone();
    }
    ChainReport { entries: entries.len(), first_broken: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(n: usize) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let last = out.last().map(|e| (e.seq, e.hash.clone()));
            let change = Change::new("org.unit.create", format!("org_unit:{i}"))
                .after(serde_json::json!({"name": "高一(1)班", "b": 1, "a": [1, 2]}));
            out.push(next_entry(last, &Actor::system("test"), change, 1_000 + i as i64));
        }
        out
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(check(&chain_of(5)), ChainReport { entries: 5, first_broken: None });
    }

    #[test]
    fn editing_any_field_breaks_the_chain_at_that_entry() {
        let mut entries = chain_of(5);
        entries[2].after = Some(serde_json::json!({"name": "篡改"}));
        assert_eq!(check(&entries).first_broken, Some(3));
        let mut entries = chain_of(5);
        entries[3].actor_name = "someone else".into();
        assert_eq!(check(&entries).first_broken, Some(4));
    }

    #[test]
    fn deleting_an_entry_breaks_the_chain_where_it_was() {
        let mut entries = chain_of(5);
        entries.remove(1);
        assert_eq!(check(&entries).first_broken, Some(2));
        let mut entries = chain_of(5);
        entries.pop();
        assert_eq!(
            check(&entries).first_broken,
            None,
            "truncating the tail is not detectable by the chain alone"
        );
    }
}
