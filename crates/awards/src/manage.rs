//! The award office's page: award items (created one by one or from the national reference
//! list), the workflow versions (see `workflows`), and the rule as it stood on a date.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use time::macros::format_description;
use time::{Date, UtcOffset};
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, TenantTx};
use xg_web::chrome::Chrome;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use crate::common::{Refusal, invalid};
use crate::model::{CATEGORIES, NATIONAL, label, parse_yuan, yuan};
use crate::workflows::{DefRow, DefinitionView, definition_view, end_of_day};

pub struct ItemView {
    name: String,
    category: &'static str,
    amount: String,
    quota: String,
    window: String,
    workflow: String,
}

#[derive(Template)]
#[template(path = "awards_manage.html")]
struct ManagePage {
    m: &'static Catalog,
    chrome: Chrome,
    items: Vec<ItemView>,
    definitions: Vec<DefinitionView>,
    workflow_keys: Vec<String>,
    categories: &'static [(&'static str, &'static str)],
    rule: Option<DefinitionView>,
    rule_query: String,
}

type ItemRow = (String, String, i64, Option<i32>, String, String);

pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    rule_query: Option<(String, Date)>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let items: Vec<ItemRow> = sqlx::query_as(
            "select name, category, amount_fen, class_quota,
                    to_char(opens_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') || ' 至 ' ||
                    to_char(closes_at at time zone 'Asia/Shanghai' - interval '1 second', 'YYYY-MM-DD'),
                    workflow_key
               from award_items where tenant_id = $1 order by created_at, name",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let rows: Vec<DefRow> = sqlx::query_as(
            "select id, key, version, name, notice_days,
                    to_char(effective_from at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               from wf_definitions where tenant_id = $1 order by key, version desc",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        let mut definitions = Vec::new();
        for row in rows {
            definitions.push(definition_view(&mut tx, row).await?);
        }
        let rule = match &rule_query {
            Some((key, date)) => match xg_workflow::as_of(&mut tx, key, end_of_day(*date))
                .await
                .map_err(|e| AppError::Internal(e.into()))?
            {
                Some(d) => {
                    let at = d
                        .effective_from
                        .to_offset(UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC));
                    let row = (
                        d.id,
                        d.key,
                        d.version,
                        d.name,
                        d.notice_days,
                        format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute()),
                    );
                    Some(definition_view(&mut tx, row).await?)
                }
                None => None,
            },
            None => None,
        };
        Ok::<_, AppError>((items, definitions, rule))
    };
    let (items, definitions, rule) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let items = items
        .into_iter()
        .map(|(name, category, amount, quota, window, workflow)| ItemView {
            name,
            category: label(CATEGORIES, &category),
            amount: yuan(amount),
            quota: quota
                .map(|q| q.to_string())
                .unwrap_or_else(|| m.t("awards.no_quota").to_owned()),
            window,
            workflow,
        })
        .collect();
    let mut workflow_keys: Vec<String> = definitions.iter().map(|d| d.key.clone()).collect();
    workflow_keys.dedup();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.awards_manage").await;
    chrome.notice = notice;
    chrome.error = error;
    let rule_query = match &rule_query {
        Some((key, date)) => {
            m.fmt("awards.rule_none", &[("key", key), ("date", &date.to_string())])
        }
        None => String::new(),
    };
    let page = ManagePage {
        m,
        chrome,
        items,
        definitions,
        workflow_keys,
        categories: CATEGORIES,
        rule,
        rule_query,
    };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let rule = match (query.get("rule"), query.get("at").and_then(|d| parse_date(d))) {
        (Some(key), Some(date)) => Some((key.trim().to_owned(), date)),
        _ => None,
    };
    show(&state, &user, &headers, StatusCode::OK, None, None, rule).await
}

pub(crate) async fn finish(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    result: Result<String, Refusal>,
) -> Response {
    let m = Catalog::zh();
    match result {
        Ok(notice) => show(state, user, headers, StatusCode::OK, Some(notice), None, None).await,
        Err(Refusal::User(status, key)) => {
            show(state, user, headers, status, None, Some(m.t(key).to_owned()), None).await
        }
        Err(Refusal::Internal(e)) => error_page(e),
    }
}

/// The item fields from the form, checked.
struct NewItem {
    name: String,
    category: String,
    amount_fen: i64,
    criteria: String,
    exclusive_group: Option<String>,
    class_quota: Option<i32>,
    opens: Date,
    closes: Date,
    attachment_note: String,
    workflow_key: String,
}

fn read_item(form: &HashMap<String, String>) -> Result<NewItem, Refusal> {
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let name = field("name");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("awards.bad_name"));
    }
    let category = field("category");
    if !CATEGORIES.iter().any(|(k, _)| *k == category) {
        return Err(invalid("awards.bad_category"));
    }
    let amount_fen = parse_yuan(&field("amount")).ok_or(invalid("awards.bad_amount"))?;
    let class_quota = match field("class_quota").as_str() {
        "" => None,
        q => Some(
            q.parse::<i32>()
                .ok()
                .filter(|q| (0..=1000).contains(q))
                .ok_or(invalid("awards.bad_quota"))?,
        ),
    };
    let (Some(opens), Some(closes)) = (parse_date(&field("opens")), parse_date(&field("closes")))
    else {
        return Err(invalid("awards.bad_window"));
    };
    if closes < opens {
        return Err(invalid("awards.bad_window"));
    }
    let criteria = field("criteria");
    let attachment_note = field("attachment_note");
    let group = field("exclusive_group");
    if criteria.chars().count() > 4000
        || attachment_note.chars().count() > 500
        || group.chars().count() > 40
    {
        return Err(invalid("awards.too_long"));
    }
    Ok(NewItem {
        name,
        category,
        amount_fen,
        criteria,
        exclusive_group: (!group.is_empty()).then_some(group),
        class_quota,
        opens,
        closes,
        attachment_note,
        workflow_key: field("workflow_key"),
    })
}

async fn insert_item(
    tx: &mut TenantTx,
    item: &NewItem,
    code: Option<&str>,
) -> Result<bool, Refusal> {
    if xg_workflow::current(tx, &item.workflow_key).await?.is_none() {
        return Err(invalid("awards.bad_workflow"));
    }
    let inserted = sqlx::query(
        "insert into award_items
             (tenant_id, id, name, category, amount_fen, criteria, exclusive_group, class_quota,
              opens_at, closes_at, attachment_note, workflow_key, reference_code)
         values ($1, $2, $3, $4, $5, $6, $7, $8,
                 $9::date::timestamp at time zone 'Asia/Shanghai',
                 ($10::date + 1)::timestamp at time zone 'Asia/Shanghai', $11, $12, $13)
         on conflict (tenant_id, name) do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(Uuid::new_v4())
    .bind(&item.name)
    .bind(&item.category)
    .bind(item.amount_fen)
    .bind(&item.criteria)
    .bind(&item.exclusive_group)
    .bind(item.class_quota)
    .bind(item.opens)
    .bind(item.closes)
    .bind(&item.attachment_note)
    .bind(&item.workflow_key)
    .bind(code)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn create_item(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let item = read_item(&form)?;
        let mut tx = state.db.tenant(user.school.id).await?;
        if !insert_item(&mut tx, &item, None).await? {
            return Err(Refusal::User(StatusCode::CONFLICT, "awards.item_exists"));
        }
        let after = serde_json::json!({ "name": item.name, "amount_fen": item.amount_fen,
            "class_quota": item.class_quota, "workflow": item.workflow_key });
        xg_audit::record(
            &mut tx,
            &who,
            Change::new("award.item_create", format!("award_item:{}", item.name)).after(after),
        )
        .await?;
        tx.commit().await?;
        Ok(Catalog::zh().fmt("awards.item_created", &[("name", &item.name)]))
    };
    finish(&state, &user, &headers, result.await).await
}

/// Adds the national scholarships and grant (2024 standards) that the school does not have yet.
pub async fn seed_national(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(mut form): CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let mut added = 0;
        for r in NATIONAL {
            form.insert("name".into(), r.name.into());
            form.insert("category".into(), r.category.into());
            form.insert("amount".into(), r.yuan.to_string());
            form.insert("criteria".into(), r.criteria.into());
            form.insert("exclusive_group".into(), r.exclusive_group.unwrap_or_default().into());
            let item = read_item(&form)?;
            if insert_item(&mut tx, &item, Some(r.code)).await? {
                added += 1;
            }
        }
        let change = Change::new("award.item_seed", "award_items:national")
            .after(serde_json::json!({ "added": added }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(Catalog::zh().fmt("awards.seeded", &[("count", &added.to_string())]))
    };
    finish(&state, &user, &headers, result.await).await
}
