//! Disbursement: the award office records a batch of payments for one item (date, method, the
//! item's amount per student) over results that have locked, which marks those awards paid. Bank
//! account numbers are sealed with the school's data key and shown masked; an award is paid once.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::common::{Refusal, invalid, refuse};
use crate::manage::parse_date;
use crate::model::{METHODS, label, mask_account, parse_account, yuan};

pub struct Payable {
    id: Uuid,
    item_id: Uuid,
    student: String,
    unit: String,
    amount: String,
}

pub struct Paid {
    item: String,
    student: String,
    amount: String,
    paid_on: String,
    method: &'static str,
    account: String,
}

#[derive(Template)]
#[template(path = "awards_payments.html")]
struct PaymentsPage {
    m: &'static Catalog,
    chrome: Chrome,
    payable: Vec<Payable>,
    items: Vec<(Uuid, String)>,
    paid: Vec<Paid>,
    methods: &'static [(&'static str, &'static str)],
}

type PayableRow = (Uuid, Uuid, String, String, String, i64);
type PaidRow = (String, String, i64, String, String, Option<String>);

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        xg_workflow::lock_closed(&mut tx).await.map_err(|e| AppError::Internal(e.into()))?;
        let payable: Vec<PayableRow> = sqlx::query_as(
            "select a.id, i.id, i.name, st.student_no || ' ' || st.name, u.name, i.amount_fen
               from wf_applications a
               join award_applications aa on aa.tenant_id = a.tenant_id and aa.application_id = a.id
               join award_items i on i.tenant_id = a.tenant_id and i.id = aa.item_id
               join students st on st.tenant_id = a.tenant_id and st.id = aa.student_id
               join org_units u on u.tenant_id = a.tenant_id and u.id = a.org_unit_id
              where a.tenant_id = $1 and a.status = 'approved' and i.amount_fen > 0
                and not exists (select 1 from award_payments p
                                 where p.tenant_id = a.tenant_id and p.application_id = a.id)
              order by i.name, u.code, st.student_no",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let paid: Vec<PaidRow> = sqlx::query_as(
            "select i.name, st.student_no || ' ' || st.name, p.amount_fen,
                    to_char(b.paid_on, 'YYYY-MM-DD'), b.method, p.account_masked
               from award_payments p
               join award_batches b on b.tenant_id = p.tenant_id and b.id = p.batch_id
               join award_items i on i.tenant_id = b.tenant_id and i.id = b.item_id
               join award_applications aa on aa.tenant_id = p.tenant_id
                                         and aa.application_id = p.application_id
               join students st on st.tenant_id = aa.tenant_id and st.id = aa.student_id
              where p.tenant_id = $1 order by b.paid_on desc, i.name, st.student_no limit 500",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>((payable, paid))
    };
    let (payable, paid) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let mut items: Vec<(Uuid, String)> = payable.iter().map(|r| (r.1, r.2.clone())).collect();
    items.dedup();
    let payable = payable
        .into_iter()
        .map(|(id, item_id, _, student, unit, amount)| Payable {
            id,
            item_id,
            student,
            unit,
            amount: yuan(amount),
        })
        .collect();
    let paid = paid
        .into_iter()
        .map(|(item, student, amount, paid_on, method, account)| Paid {
            item,
            student,
            amount: yuan(amount),
            paid_on,
            method: label(METHODS, &method),
            account: account.unwrap_or_default(),
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.awards_payments").await;
    chrome.notice = notice;
    chrome.error = error;
    let page = PaymentsPage { m: Catalog::zh(), chrome, payable, items, paid, methods: METHODS };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

/// The applications ticked on the form (`pay.<id>`), each with its account (`account.<id>`).
fn ticked(form: &HashMap<String, String>) -> Result<Vec<(Uuid, String)>, Refusal> {
    let mut out = Vec::new();
    for key in form.keys() {
        if let Some(id) = key.strip_prefix("pay.") {
            let id: Uuid = id.parse().map_err(|_| invalid("awards.bad_payment"))?;
            let account = form.get(&format!("account.{id}")).cloned().unwrap_or_default();
            out.push((id, account));
        }
    }
    out.sort();
    Ok(out)
}

pub async fn create_batch(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        let item_id: Uuid = field("item").parse().map_err(|_| invalid("awards.bad_payment"))?;
        let paid_on = parse_date(&field("paid_on")).ok_or(invalid("awards.bad_paid_on"))?;
        let method = field("method");
        if !METHODS.iter().any(|(k, _)| *k == method) {
            return Err(invalid("awards.bad_payment"));
        }
        let lines = ticked(&form)?;
        if lines.is_empty() {
            return Err(invalid("awards.nothing_ticked"));
        }
        let mut accounts = Vec::new();
        for (id, account) in &lines {
            let parsed = match (method.as_str(), parse_account(account)) {
                ("bank_transfer", None) => return Err(invalid("awards.bad_account")),
                (_, parsed) if account.trim().is_empty() || parsed.is_some() => parsed,
                _ => return Err(invalid("awards.bad_account")),
            };
            accounts.push((*id, parsed));
        }
        let mut tx = state.db.tenant(user.school.id).await?;
        xg_workflow::lock_closed(&mut tx).await?;
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.0).collect();
        // Lock the chosen results; each must be an approved, unpaid result of this item.
        let ready: i64 = sqlx::query_scalar(
            "select count(*) from (
                 select a.id from wf_applications a
                   join award_applications aa on aa.tenant_id = a.tenant_id
                                             and aa.application_id = a.id
                  where a.tenant_id = $1 and a.id = any($2) and aa.item_id = $3
                    and a.status = 'approved'
                    and not exists (select 1 from award_payments p
                                     where p.tenant_id = a.tenant_id and p.application_id = a.id)
                    for update of a) ready",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&ids)
        .bind(item_id)
        .fetch_one(tx.conn())
        .await?;
        if ready != ids.len() as i64 {
            return Err(refuse(StatusCode::CONFLICT, "awards.not_payable"));
        }
        let amount: i64 = sqlx::query_scalar(
            "select amount_fen from award_items where tenant_id = $1 and id = $2",
        )
        .bind(tx.tenant().as_uuid())
        .bind(item_id)
        .fetch_one(tx.conn())
        .await?;
        let key = state.keyring()?.for_school(&mut tx).await.map_err(AppError::from)?;
        let batch = Uuid::new_v4();
        sqlx::query(
            "insert into award_batches (tenant_id, id, item_id, paid_on, method, created_by)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(batch)
        .bind(item_id)
        .bind(paid_on)
        .bind(&method)
        .bind(user.claims.sub)
        .execute(tx.conn())
        .await?;
        for (id, account) in &accounts {
            let sealed = match account {
                Some(a) => {
                    Some(key.seal("bank_account", a).map_err(|e| AppError::Internal(e.into()))?)
                }
                None => None,
            };
            sqlx::query(
                "insert into award_payments
                     (tenant_id, application_id, batch_id, amount_fen, account_sealed, account_masked)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tx.tenant().as_uuid())
            .bind(id)
            .bind(batch)
            .bind(amount)
            .bind(sealed)
            .bind(account.as_deref().map(mask_account))
            .execute(tx.conn())
            .await?;
        }
        let change = Change::new("award.disburse", format!("award_batch:{batch}"))
            .after(serde_json::json!({ "item": item_id, "paid_on": paid_on.to_string(),
                                "method": method, "count": ids.len(), "amount_fen": amount }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(Catalog::zh().fmt("awards.disbursed", &[("count", &ids.len().to_string())]))
    };
    let m = Catalog::zh();
    match result.await {
        Ok(notice) => show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await,
        Err(Refusal::User(status, key)) => {
            show(&state, &user, &headers, status, None, Some(m.t(key).to_owned())).await
        }
        Err(Refusal::Internal(e)) => error_page(e),
    }
}
