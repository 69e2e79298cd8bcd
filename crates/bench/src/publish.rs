//! Notice publish to 5,000 recipients (100 classes of 50): the product's `repo::publish` (lock
//! the notice, read its audience, check it against the sender's scope, one `INSERT ... SELECT`
//! of receipts through the unit tree, mark published) in the school's transaction, against one
//! plain `INSERT ... SELECT` of the same receipts by the superuser. Each side publishes a fresh
//! draft per run; runs alternate and the medians are compared.

use std::time::{Duration, Instant};

use sqlx::Connection;
use uuid::Uuid;
use xg_e2e::TestDb;
use xg_kernel::TenantId;
use xg_notices::model::NoticeInput;
use xg_notices::repo;

use crate::setup;
use crate::stats::Latencies;

pub const CLASSES: usize = 100;

pub struct PublishFigures {
    pub recipients: u64,
    pub ours: Duration,
    pub baseline: Duration,
}

async fn draft(
    t: &TestDb,
    tenant: TenantId,
    sender: Uuid,
    units: &[Uuid],
    n: usize,
) -> anyhow::Result<Uuid> {
    let input = NoticeInput {
        title: format!("期末考试安排 {n}"),
        body_html: "<p>请各位同学按时参加期末考试。</p>".into(),
        category: "general".into(),
        deadline: None,
        publish_at: None,
        needs_confirmation: true,
        allow_reply: false,
        units: units.to_vec(),
    };
    let mut tx = t.app.tenant(tenant).await?;
    let id = repo::create_draft(&mut tx, &input, sender, "年级主任").await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn run(t: &TestDb, tenant: TenantId, runs: usize) -> anyhow::Result<PublishFigures> {
    let sender = setup::account_id(&t.app, tenant, "gradehead").await?;
    let codes: Vec<String> = (1..=CLASSES).map(|i| setup::class_code(2025, i)).collect();
    let units = setup::unit_ids(&t.app, tenant, &codes).await?;
    let mut sup = t.superuser().await;
    let (mut ours, mut base, mut recipients) = (Vec::new(), Vec::new(), 0);
    for n in 0..runs {
        let id = draft(t, tenant, sender, &units, n).await?;
        let started = Instant::now();
        let mut tx = t.app.tenant(tenant).await?;
        let outcome = repo::publish(&mut tx, id, true).await?;
        tx.commit().await?;
        ours.push(started.elapsed());
        match outcome {
            Ok(repo::Published::Now { recipients: r }) => recipients = r,
            _ => anyhow::bail!("the notice was not published"),
        }

        let id = draft(t, tenant, sender, &units, n + 1000).await?;
        let started = Instant::now();
        let mut tx = sup.begin().await?;
        let inserted = sqlx::query(
            "insert into notice_recipients (tenant_id, notice_id, student_id, org_unit_id)
             select $1, $2, id, org_unit_id from students
              where tenant_id = $1 and org_unit_id = any($3)",
        )
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(&units)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        base.push(started.elapsed());
        anyhow::ensure!(inserted == recipients, "baseline wrote {inserted}, ours {recipients}");
    }
    Ok(PublishFigures {
        recipients,
        ours: Latencies::new(ours).pct(50.0),
        baseline: Latencies::new(base).pct(50.0),
    })
}
