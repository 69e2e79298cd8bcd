//! Statistics: applications, approvals and amounts by academic year, item, the unit above the
//! class (grade or college) and class, as a table and as an xlsx download.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::Workbook;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, TenantTx};
use xg_web::chrome::Chrome;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::model::yuan;

pub struct StatRow {
    year: i32,
    item: String,
    parent: String,
    class: String,
    applied: i64,
    approved: i64,
    approved_amount: i64,
    paid_amount: i64,
}

impl StatRow {
    fn approved_yuan(&self) -> String {
        yuan(self.approved_amount)
    }

    fn paid_yuan(&self) -> String {
        yuan(self.paid_amount)
    }
}

/// One bar of the chart: an item's approved amount against the largest item's.
pub struct Bar {
    item: String,
    approved: i64,
    amount: String,
    fen: i64,
    max: i64,
}

/// Totals per item, largest amount first, for the chart.
fn bars(rows: &[StatRow]) -> Vec<Bar> {
    let mut totals: Vec<(String, i64, i64)> = Vec::new();
    for r in rows {
        match totals.iter_mut().find(|t| t.0 == r.item) {
            Some(t) => {
                t.1 += r.approved;
                t.2 += r.approved_amount;
            }
            None => totals.push((r.item.clone(), r.approved, r.approved_amount)),
        }
    }
    totals.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let max = totals.first().map(|t| t.2).unwrap_or(0).max(1);
    totals
        .into_iter()
        .map(|(item, approved, fen)| Bar { item, approved, amount: yuan(fen), fen, max })
        .collect()
}

#[derive(Template)]
#[template(path = "awards_stats.html")]
struct StatsPage {
    m: &'static Catalog,
    chrome: Chrome,
    bars: Vec<Bar>,
    rows: Vec<StatRow>,
    total_applied: i64,
    total_approved: i64,
    total_amount: String,
}

type Row = (i32, String, String, String, i64, i64, i64, i64);

async fn load(tx: &mut TenantTx) -> Result<Vec<StatRow>, AppError> {
    xg_workflow::lock_closed(tx).await.map_err(|e| AppError::Internal(e.into()))?;
    let rows: Vec<Row> = sqlx::query_as(
        "select aa.academic_year, i.name, coalesce(p.name, ''), u.name,
                count(*),
                count(*) filter (where a.status = 'approved'),
                coalesce(sum(i.amount_fen) filter (where a.status = 'approved'), 0)::bigint,
                coalesce(sum(pay.amount_fen), 0)::bigint
           from award_applications aa
           join wf_applications a on a.tenant_id = aa.tenant_id and a.id = aa.application_id
           join award_items i on i.tenant_id = aa.tenant_id and i.id = aa.item_id
           join org_units u on u.tenant_id = a.tenant_id and u.id = a.org_unit_id
           left join org_units p on p.tenant_id = u.tenant_id and p.id = u.parent_id
           left join award_payments pay on pay.tenant_id = aa.tenant_id
                                       and pay.application_id = aa.application_id
          where aa.tenant_id = $1
          group by aa.academic_year, i.name, p.name, p.code, u.name, u.code
          order by aa.academic_year desc, i.name, p.code, u.code",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StatRow {
            year: r.0,
            item: r.1,
            parent: r.2,
            class: r.3,
            applied: r.4,
            approved: r.5,
            approved_amount: r.6,
            paid_amount: r.7,
        })
        .collect())
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let rows = load(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AppError>(rows)
    };
    let rows = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (chrome, csrf) = Chrome::new(&state, &user, &headers, "nav.awards_stats").await;
    let page = StatsPage {
        m: Catalog::zh(),
        chrome,
        total_applied: rows.iter().map(|r| r.applied).sum(),
        total_approved: rows.iter().map(|r| r.approved).sum(),
        total_amount: yuan(rows.iter().map(|r| r.approved_amount).sum()),
        bars: bars(&rows),
        rows,
    };
    csrf.attach(render(StatusCode::OK, &page))
}

fn workbook(rows: &[StatRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let m = Catalog::zh();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "awards.col_year",
        "awards.col_item",
        "awards.col_parent",
        "awards.col_class",
        "awards.col_applied",
        "awards.col_approved",
        "awards.col_approved_amount",
        "awards.col_paid_amount",
    ];
    for (c, key) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, m.t(key))?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number(row, 0, f64::from(r.year))?;
        sheet.write_string(row, 1, &r.item)?;
        sheet.write_string(row, 2, &r.parent)?;
        sheet.write_string(row, 3, &r.class)?;
        sheet.write_number(row, 4, r.applied as f64)?;
        sheet.write_number(row, 5, r.approved as f64)?;
        // Amounts in yuan, exact to the fen for any realistic total.
        sheet.write_number(row, 6, r.approved_amount as f64 / 100.0)?;
        sheet.write_number(row, 7, r.paid_amount as f64 / 100.0)?;
    }
    book.save_to_buffer()
}

pub async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let rows = load(&mut tx).await?;
        tx.commit().await?;
        workbook(&rows).map_err(|e| AppError::Internal(e.into()))
    };
    match loaded.await {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"award-statistics.xlsx\""),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}
