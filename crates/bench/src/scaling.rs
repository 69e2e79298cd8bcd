//! Tenant scaling: the same scoped read (a school's first register page, whole-school reach)
//! with many schools in the database and with 10. Each school is onboarded through the product
//! and its generated roster goes through the product's checks, placement, sealing and insert
//! (`preview`, `Tree::place`, `store::insert_students`), without the job wrapper around them.
//! Reads pick a random school each time; rounds alternate between the two databases.

use std::time::{Duration, Instant};

use rand::Rng;
use xg_e2e::TestDb;
use xg_e2e::schools::district;
use xg_enrollment::generate::{self, ClassSpec};
use xg_enrollment::placement::Tree;
use xg_enrollment::search::{Filter, Reach, search};
use xg_kernel::keyring::Keyring;
use xg_kernel::{Db, TenantId};

use crate::setup;
use crate::stats::Latencies;

pub const CLASSES: usize = 40;

pub struct ScalingFigures {
    pub schools: usize,
    pub per_school: usize,
    pub prepare: Duration,
    pub big: Latencies,
    pub small: Latencies,
}

async fn fill(db: &Db, tenant: TenantId, per_school: usize, seed: u64) -> anyhow::Result<()> {
    let classes: Vec<ClassSpec> = (1..=CLASSES)
        .map(|i| ClassSpec {
            grade: "2025级".into(),
            name: setup::class_name(2025, i),
            entry_year: 2025,
            entry_age: 15,
        })
        .collect();
    let rows = setup::unique_ids(generate::roster(&classes, per_school.div_ceil(CLASSES), 1, seed));
    let headers = &xg_enrollment::export::HEADERS[..xg_enrollment::export::HEADERS.len() - 1];
    let csv = xg_enrollment::export::csv(headers, &rows)?;
    let table = xg_enrollment::sheet::read_csv(&csv).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let checked = xg_enrollment::preview::preview(&table);
    anyhow::ensure!(checked.problems.is_empty(), "generated roster has problems");
    let mut tx = db.tenant(tenant).await?;
    let key = setup::keyring().for_school(&mut tx).await?;
    let (placements, _, problems) = Tree::load(&mut tx).await?.place(&checked.drafts, false);
    anyhow::ensure!(problems.is_empty(), "generated roster does not fit the tree");
    xg_enrollment::store::insert_students(
        &mut tx,
        &key,
        &checked.drafts,
        &placements,
        (None, "bench"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `schools` schools of `per_school` students in a fresh database. Two workers (one per core)
/// each onboard and fill every other school, so 1,000 schools fit in a few minutes.
async fn prepare(schools: usize, per_school: usize) -> anyhow::Result<(TestDb, Vec<TenantId>)> {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let db = t.app.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in (w..schools).step_by(2) {
                    let text = setup::small_manifest(&format!("s{i:04}"), "d1", CLASSES);
                    let tenant = setup::onboard_text(&db, &text).await?;
                    fill(&db, tenant, per_school, i as u64).await?;
                    mine.push(tenant);
                    if i % 100 == 99 {
                        eprintln!("    {} schools onboarded and filled", i + 1);
                    }
                }
                Ok::<_, anyhow::Error>(mine)
            })
        })
        .collect();
    let mut tenants = Vec::with_capacity(schools);
    for w in workers {
        tenants.extend(w.await??);
    }
    let mut sup = t.superuser().await;
    sqlx::query("vacuum analyze").execute(&mut sup).await?;
    Ok((t, tenants))
}

async fn reads(
    db: &Db,
    keyring: &Keyring,
    tenants: &[TenantId],
    n: usize,
    out: &mut Vec<Duration>,
) -> anyhow::Result<()> {
    let filter = Filter::default();
    for _ in 0..n {
        let tenant = tenants[rand::rng().random_range(0..tenants.len())];
        let started = Instant::now();
        let mut tx = db.tenant(tenant).await?;
        let key = keyring.for_school(&mut tx).await?;
        let page = search(&mut tx, &key, Reach::WholeSchool, &filter).await?;
        tx.commit().await?;
        out.push(started.elapsed());
        anyhow::ensure!(page.rows.len() == 50, "a page of 50, got {}", page.rows.len());
    }
    Ok(())
}

/// Unwraps every school's data key once, so reads measure the query, not the first unwrap.
async fn warm_keys(db: &Db, keyring: &Keyring, tenants: &[TenantId]) -> anyhow::Result<()> {
    for tenant in tenants {
        let mut tx = db.tenant(*tenant).await?;
        keyring.for_school(&mut tx).await?;
    }
    Ok(())
}

pub async fn run(
    schools: usize,
    per_school: usize,
    reads_per_round: usize,
) -> anyhow::Result<ScalingFigures> {
    let started = Instant::now();
    eprintln!("  preparing {schools} schools × {per_school} students");
    let (big, big_tenants) = prepare(schools, per_school).await?;
    let prepare_time = started.elapsed();
    eprintln!("  prepared in {prepare_time:.0?}; now 10 schools");
    let (small, small_tenants) = prepare(10, per_school).await?;
    let keyring = setup::keyring();
    warm_keys(&big.app, &keyring, &big_tenants).await?;
    warm_keys(&small.app, &keyring, &small_tenants).await?;
    let (mut b, mut s) = (Vec::new(), Vec::new());
    reads(&big.app, &keyring, &big_tenants, reads_per_round / 4, &mut Vec::new()).await?;
    reads(&small.app, &keyring, &small_tenants, reads_per_round / 4, &mut Vec::new()).await?;
    for _ in 0..4 {
        reads(&big.app, &keyring, &big_tenants, reads_per_round, &mut b).await?;
        reads(&small.app, &keyring, &small_tenants, reads_per_round, &mut s).await?;
    }
    Ok(ScalingFigures {
        schools,
        per_school,
        prepare: prepare_time,
        big: Latencies::new(b),
        small: Latencies::new(s),
    })
}
