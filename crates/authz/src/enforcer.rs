//! Per-school casbin enforcers, cached per service instance. A school's policy is loaded from
//! PostgreSQL together with its `policy_version`; every change bumps the version and sends
//! `NOTIFY xg_policy_changed '{tenant}:{version}'`. An instance drops its cached enforcer on the
//! notification and refuses to cache any enforcer older than the newest version it has heard
//! of, so a load that raced with a revocation cannot bring the revoked permission back.
//! Bound: a change reaches other instances as soon as the notification arrives (milliseconds);
//! if the listener connection drops, the instance forgets every cached policy on reconnect, and
//! cached policies expire after `POLICY_TTL` regardless.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use moka::future::Cache;
use sqlx::postgres::PgListener;
use sqlx::types::Json;
use uuid::Uuid;
use xg_kernel::{Db, TenantId, TenantTx};
use xg_tenancy::School;

use crate::catalogue::{self, PERMISSIONS};

pub const POLICY_CHANGED_CHANNEL: &str = "xg_policy_changed";
pub const POLICY_TTL: Duration = Duration::from_secs(30);

const MODEL: &str = "
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch2(r.obj, p.obj) && r.act == p.act
";

/// Answers remembered per loaded policy; a few thousand accounts and routes are active at once.
const ANSWERS_CAPACITY: u64 = 10_000;

struct Loaded {
    version: i64,
    enforcer: Enforcer,
    /// Answers this enforcer already gave. Casbin evaluates its matcher script once per policy
    /// line, hundreds per question, and a menu asks one question per catalogue permission; the
    /// enforcer never changes once built, so its answers are remembered with it and dropped
    /// with it when the policy version moves on or `POLICY_TTL` passes.
    routes: Cache<(Uuid, String, String), bool>,
    menus: Cache<Uuid, Arc<Vec<&'static str>>>,
}

impl Loaded {
    fn new(version: i64, enforcer: Enforcer) -> Self {
        Self {
            version,
            enforcer,
            routes: Cache::builder().max_capacity(ANSWERS_CAPACITY).build(),
            menus: Cache::builder().max_capacity(ANSWERS_CAPACITY).build(),
        }
    }

    async fn allows(
        &self,
        school: &School,
        account: Uuid,
        method: &str,
        path: &str,
    ) -> anyhow::Result<bool> {
        let key = (account, method.to_owned(), path.to_owned());
        if let Some(hit) = self.routes.get(&key).await {
            return Ok(hit);
        }
        let request =
            (account.to_string(), school.id.to_string(), path.to_owned(), method.to_owned());
        let allowed = self.enforcer.enforce(request)?;
        self.routes.insert(key, allowed).await;
        Ok(allowed)
    }
}

#[derive(Clone)]
pub struct Authz {
    db: Db,
    cache: Cache<TenantId, Arc<Loaded>>,
    /// The newest policy version heard of per school (from notifications or local changes).
    newest: Arc<Mutex<HashMap<TenantId, i64>>>,
}

impl Authz {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Cache::builder().max_capacity(10_000).time_to_live(POLICY_TTL).build(),
            newest: Arc::default(),
        }
    }

    /// May `account` call `method path` (path relative to the school) at `school`?
    pub async fn allows(
        &self,
        school: &School,
        account: Uuid,
        method: &str,
        path: &str,
    ) -> anyhow::Result<bool> {
        self.enforcer_for(school).await?.allows(school, account, method, path).await
    }

    /// The permissions `account` holds at `school` (for menus), in catalogue order.
    pub async fn permissions_of(
        &self,
        school: &School,
        account: Uuid,
    ) -> anyhow::Result<Vec<&'static str>> {
        let loaded = self.enforcer_for(school).await?;
        if let Some(hit) = loaded.menus.get(&account).await {
            return Ok(hit.as_ref().clone());
        }
        let mut out = Vec::new();
        for p in PERMISSIONS {
            let (method, path) = p.routes[0];
            let concrete = path.replace(":id", "x").replace(":key", "x");
            // Straight to casbin: these probe paths are not worth a place among real routes.
            let request = (account.to_string(), school.id.to_string(), concrete, method.to_owned());
            if loaded.enforcer.enforce(request)? {
                out.push(p.key);
            }
        }
        loaded.menus.insert(account, Arc::new(out.clone())).await;
        Ok(out)
    }

    async fn enforcer_for(&self, school: &School) -> anyhow::Result<Arc<Loaded>> {
        if let Some(hit) = self.cache.get(&school.id).await
            && hit.version >= self.newest_version(school.id)
        {
            return Ok(hit);
        }
        loop {
            let loaded = Arc::new(load(&self.db, school).await?);
            if loaded.version >= self.newest_version(school.id) {
                self.cache.insert(school.id, loaded.clone()).await;
                return Ok(loaded);
            }
            // A newer version was announced while loading: load again rather than cache stale.
        }
    }

    fn newest_version(&self, tenant: TenantId) -> i64 {
        self.newest.lock().map(|m| m.get(&tenant).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// Records that `version` exists and drops the cached policy for the school.
    pub async fn heard_of(&self, tenant: TenantId, version: i64) {
        if let Ok(mut m) = self.newest.lock() {
            let v = m.entry(tenant).or_insert(0);
            *v = (*v).max(version);
        }
        self.cache.invalidate(&tenant).await;
    }

    /// Listens for policy changes for as long as the service runs, reconnecting on error.
    pub fn spawn_listener(&self) -> tokio::task::JoinHandle<()> {
        let authz = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = authz.listen().await {
                    tracing::warn!(error.message = %e, "policy change listener failed; retrying");
                }
                authz.cache.invalidate_all();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }

    async fn listen(&self) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(self.db.pool()).await?;
        listener.listen(POLICY_CHANGED_CHANNEL).await?;
        // Anything cached before the listener was up may have missed a notification.
        self.cache.invalidate_all();
        loop {
            let note = listener.recv().await?;
            if let Some((tenant, version)) = note.payload().split_once(':')
                && let (Ok(tenant), Ok(version)) = (tenant.parse::<Uuid>(), version.parse::<i64>())
            {
                self.heard_of(TenantId::from_uuid(tenant), version).await;
            }
        }
    }
}

/// The policy version, (role, permission) grants and (account, role) memberships.
type PolicyRow = (i64, Json<Vec<(String, String)>>, Json<Vec<(Uuid, String)>>);

/// Reads the school's version, grants and role assignments in one snapshot and builds its
/// enforcer. Permissions of switched-off modules are left out.
async fn load(db: &Db, school: &School) -> anyhow::Result<Loaded> {
    let mut tx = db.tenant(school.id).await?;
    // One statement, so the version and the rules come from one snapshot.
    let (version, grants, members): PolicyRow = sqlx::query_as(
        "select (select policy_version from schools where id = $1),
                    coalesce((select json_agg(json_build_array(role_key, permission))
                                from role_permissions where tenant_id = $1), '[]'),
                    coalesce((select json_agg(json_build_array(account_id, role_key))
                                from account_roles where tenant_id = $1), '[]')",
    )
    .bind(school.id.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    let (grants, members) = (grants.0, members.0);

    let enforcer = build(school, &grants, &members).await?;
    Ok(Loaded::new(version, enforcer))
}

/// Builds a school's enforcer from its grants and role memberships. Permissions of
/// switched-off modules are left out, so they grant nothing even if still assigned.
pub async fn build(
    school: &School,
    grants: &[(String, String)],
    members: &[(Uuid, String)],
) -> anyhow::Result<Enforcer> {
    let dom = school.id.to_string();
    let mut policies = Vec::new();
    for (role, permission) in grants {
        let Some(p) = catalogue::find(permission) else { continue };
        if !school.has_module(p.module) {
            continue;
        }
        for (method, path) in p.routes {
            policies.push(vec![
                role.clone(),
                dom.clone(),
                (*path).to_owned(),
                (*method).to_owned(),
            ]);
        }
    }
    let groupings: Vec<Vec<String>> = members
        .iter()
        .map(|(account, role)| vec![account.to_string(), role.clone(), dom.clone()])
        .collect();

    let model = DefaultModel::from_str(MODEL).await?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
    if !policies.is_empty() {
        enforcer.add_policies(policies).await?;
    }
    if !groupings.is_empty() {
        enforcer.add_grouping_policies(groupings).await?;
    }
    Ok(enforcer)
}

/// Bumps the school's policy version and announces it; call inside the transaction that
/// changed roles, grants or assignments, so the announcement goes out only if it commits.
pub async fn bump_policy(tx: &mut TenantTx) -> Result<i64, sqlx::Error> {
    let version: i64 = sqlx::query_scalar(
        "update schools set policy_version = policy_version + 1 where id = $1 returning policy_version",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    sqlx::query("select pg_notify($1, $2)")
        .bind(POLICY_CHANGED_CHANNEL)
        .bind(format!("{}:{version}", tx.tenant()))
        .execute(tx.conn())
        .await?;
    Ok(version)
}

#[cfg(test)]
#[path = "enforcer_tests.rs"]
mod tests;
