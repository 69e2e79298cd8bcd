//! Delivery statistics: per notice (delivered, read, confirmed, by class, who is missing, the
//! receipt export) and per school (notices sent and average read rate by month and category).
//! A staff member who did not send the notice counts only the receipts of their own units.

use uuid::Uuid;
use xg_kernel::TenantTx;

use crate::model::rate;
use crate::repo::{Notice, Viewer};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub delivered: i64,
    pub read: i64,
    pub confirmed: i64,
    pub replied: i64,
}

impl Counts {
    pub fn read_rate(&self) -> String {
        rate(self.read, self.delivered)
    }
    pub fn confirm_rate(&self) -> String {
        rate(self.confirmed, self.delivered)
    }
}

pub struct ClassRow {
    pub unit: String,
    pub counts: Counts,
}

/// One receipt: student number, name, class, delivered, read, confirmed, reply.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct Receipt {
    pub student_no: String,
    pub name: String,
    pub unit: String,
    pub delivered_at: String,
    pub read_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub reply: Option<String>,
}

pub struct NoticeStats {
    pub total: Counts,
    pub by_class: Vec<ClassRow>,
    pub receipts: Vec<Receipt>,
}

/// Whether the viewer sees every receipt (they sent it) or those of their units only.
fn everyone(notice: &Notice, viewer: &Viewer) -> bool {
    notice.sender_id == viewer.account
}

pub async fn for_notice(
    tx: &mut TenantTx,
    notice: &Notice,
    viewer: &Viewer,
) -> Result<NoticeStats, sqlx::Error> {
    type Row = (String, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "select coalesce(u.name, '—'), count(*), count(r.read_at), count(r.confirmed_at),
                count(r.reply)
           from notice_recipients r
           left join org_units u on u.tenant_id = r.tenant_id and u.id = r.org_unit_id
          where r.tenant_id = $1 and r.notice_id = $2 and ($3 or r.org_unit_id = any($4))
          group by u.name, u.code order by u.code",
    )
    .bind(tx.tenant().as_uuid())
    .bind(notice.id)
    .bind(everyone(notice, viewer))
    .bind(&viewer.units)
    .fetch_all(tx.conn())
    .await?;
    let mut total = Counts::default();
    let by_class = rows
        .into_iter()
        .map(|(unit, delivered, read, confirmed, replied)| {
            total.delivered += delivered;
            total.read += read;
            total.confirmed += confirmed;
            total.replied += replied;
            ClassRow { unit, counts: Counts { delivered, read, confirmed, replied } }
        })
        .collect();
    let receipts = receipts(tx, notice, viewer).await?;
    Ok(NoticeStats { total, by_class, receipts })
}

/// Every receipt the viewer may see, by class and student number.
pub async fn receipts(
    tx: &mut TenantTx,
    notice: &Notice,
    viewer: &Viewer,
) -> Result<Vec<Receipt>, sqlx::Error> {
    sqlx::query_as(
        "select st.student_no, st.name, coalesce(u.name, '—') as unit,
                to_char(r.delivered_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                    as delivered_at,
                to_char(r.read_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') as read_at,
                to_char(r.confirmed_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                    as confirmed_at,
                r.reply
           from notice_recipients r
           join students st on st.tenant_id = r.tenant_id and st.id = r.student_id
           left join org_units u on u.tenant_id = r.tenant_id and u.id = r.org_unit_id
          where r.tenant_id = $1 and r.notice_id = $2 and ($3 or r.org_unit_id = any($4))
          order by u.code, st.student_no",
    )
    .bind(tx.tenant().as_uuid())
    .bind(notice.id)
    .bind(everyone(notice, viewer))
    .bind(&viewer.units)
    .fetch_all(tx.conn())
    .await
}

/// The receipts as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads the
/// Chinese), cells that could start a formula prefixed with an apostrophe.
pub fn receipts_csv(receipts: &[Receipt], header: &[&str]) -> String {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<&str>| cells.into_iter().map(csv_cell).collect::<Vec<_>>().join(",");
    out.push_str(&line(header.to_vec()));
    out.push_str("\r\n");
    for r in receipts {
        let cells = vec![
            r.student_no.as_str(),
            r.name.as_str(),
            r.unit.as_str(),
            r.delivered_at.as_str(),
            r.read_at.as_deref().unwrap_or(""),
            r.confirmed_at.as_deref().unwrap_or(""),
            r.reply.as_deref().unwrap_or(""),
        ];
        out.push_str(&line(cells));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line of the school report: month, category, notices sent, average read rate.
pub struct MonthRow {
    pub month: String,
    pub category: String,
    pub sent: i64,
    pub average_read_rate: String,
}

/// Notices published per month (Asia/Shanghai) and category, with the average of each
/// notice's read rate (notices that reached nobody are left out of the average).
pub async fn school_report(tx: &mut TenantTx) -> Result<Vec<MonthRow>, sqlx::Error> {
    let rows: Vec<(String, String, i64, Option<f64>)> = sqlx::query_as(
        "select to_char(n.published_at at time zone 'Asia/Shanghai', 'YYYY-MM'), n.category,
                count(*),
                avg(case when d.delivered > 0 then d.read::float8 / d.delivered end)
           from notices n
           cross join lateral (
               select count(*) as delivered, count(r.read_at) as read from notice_recipients r
                where r.tenant_id = n.tenant_id and r.notice_id = n.id) d
          where n.tenant_id = $1 and n.published_at is not null
          group by 1, 2 order by 1 desc, 2",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(month, category, sent, avg)| MonthRow {
            month,
            category: crate::model::category_label(&category),
            sent,
            average_read_rate: avg.map_or("—".to_owned(), |a| format!("{:.1}%", a * 100.0)),
        })
        .collect())
}

/// The number of notices the viewer sent or that reached their units, for the list page.
pub async fn list_counts(
    tx: &mut TenantTx,
    ids: &[Uuid],
    viewer: &Viewer,
) -> Result<Vec<(Uuid, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select n.id, count(r.student_id), count(r.read_at), count(r.confirmed_at)
           from notices n
           left join notice_recipients r on r.tenant_id = n.tenant_id and r.notice_id = n.id
                and (n.sender_id = $3 or r.org_unit_id = any($4))
          where n.tenant_id = $1 and n.id = any($2) group by n.id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(ids)
    .bind(viewer.account)
    .bind(&viewer.units)
    .fetch_all(tx.conn())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_quotes_and_defuses_formulas() {
        let r = Receipt {
            student_no: "001".into(),
            name: "张三".into(),
            unit: "高一(1)班".into(),
            delivered_at: "2026-12-01 08:00".into(),
            read_at: None,
            confirmed_at: None,
            reply: Some("=1+1, \"好\"".into()),
        };
        let csv = receipts_csv(&[r], &["学号", "姓名"]);
        assert!(csv.starts_with("\u{feff}学号,姓名\r\n"));
        assert!(
            csv.contains("001,张三,高一(1)班,2026-12-01 08:00,,,\"'=1+1, \"\"好\"\"\"\r\n"),
            "{csv}"
        );
    }
}
