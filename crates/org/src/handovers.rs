//! Department collaboration: a unit hands a task or a record to another unit of the same school,
//! and the receiving unit accepts or returns it. Every step is kept as an append-only trail:
//! who passed what to whom, when, with what note. Staff act for the units in their scope.

use std::collections::BTreeSet;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_authz::scope;
use xg_kernel::i18n::Catalog;
use xg_kernel::text::has_control_characters;
use xg_kernel::{AppError, TenantTx};
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use xg_web::chrome::Chrome;

pub struct Item {
    id: Uuid,
    subject: String,
    status: &'static str,
    from: String,
    to: String,
    trail: Vec<String>,
    can_act: bool,
}

pub struct Group {
    title: &'static str,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "org_handovers.html")]
struct HandoversPage {
    m: &'static Catalog,
    chrome: Chrome,
    groups: Vec<Group>,
    my_units: Vec<(Uuid, String)>,
    all_units: Vec<(Uuid, String)>,
}

type Row = (Uuid, String, String, Uuid, String, Uuid, String);
type EventRow = (Uuid, String, String, String, String);

async fn my_unit_ids(tx: &mut TenantTx, account: Uuid) -> Result<BTreeSet<Uuid>, sqlx::Error> {
    Ok(scope::units_in_scope(tx, account).await?.into_iter().map(|u| u.id).collect())
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let m = Catalog::zh();
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let mine = my_unit_ids(&mut tx, user.claims.sub).await?;
        let ids: Vec<Uuid> = mine.iter().copied().collect();
        let rows: Vec<Row> = sqlx::query_as(
            "select h.id, h.subject, h.status, h.from_unit, f.name, h.to_unit, t.name
               from handovers h
               join org_units f on f.tenant_id = h.tenant_id and f.id = h.from_unit
               join org_units t on t.tenant_id = h.tenant_id and t.id = h.to_unit
              where h.tenant_id = $1 and (h.from_unit = any($2) or h.to_unit = any($2))
              order by h.created_at desc limit 200",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&ids)
        .fetch_all(tx.conn())
        .await?;
        let handover_ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let events: Vec<EventRow> = sqlx::query_as(
            "select handover_id, actor_name, action, note,
                    to_char(at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               from handover_events where tenant_id = $1 and handover_id = any($2)
              order by handover_id, seq",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&handover_ids)
        .fetch_all(tx.conn())
        .await?;
        let units: Vec<(Uuid, String)> = sqlx::query_as(
            "select id, name from org_units where tenant_id = $1 order by depth, code",
        )
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await?;
        Ok::<_, AppError>((mine, rows, events, units))
    };
    let (mine, rows, events, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let status_label = |s: &str| match s {
        "accepted" => m.t("handover.status_accepted"),
        "returned" => m.t("handover.status_returned"),
        _ => m.t("handover.status_open"),
    };
    let action_label = |a: &str| match a {
        "accepted" => m.t("handover.accepted"),
        "returned" => m.t("handover.returned"),
        _ => m.t("handover.handed"),
    };
    let (mut incoming, mut outgoing) = (Vec::new(), Vec::new());
    for (id, subject, state_key, from_id, from, to_id, to) in rows {
        let trail = events
            .iter()
            .filter(|e| e.0 == id)
            .map(|(_, who, action, note, at)| {
                let note = if note.is_empty() { String::new() } else { format!("：{note}") };
                format!("{at} {who} {}{note}", action_label(action))
            })
            .collect();
        let item = Item {
            id,
            subject,
            status: status_label(&state_key),
            from,
            to,
            trail,
            can_act: state_key == "open" && mine.contains(&to_id),
        };
        if mine.contains(&to_id) {
            incoming.push(item)
        } else if mine.contains(&from_id) {
            outgoing.push(item)
        }
    }
    let my_units = units.iter().filter(|(id, _)| mine.contains(id)).cloned().collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.handovers").await;
    chrome.notice = notice;
    chrome.error = error;
    let groups = vec![
        Group { title: m.t("handover.incoming"), items: incoming },
        Group { title: m.t("handover.outgoing"), items: outgoing },
    ];
    let page = HandoversPage { m, chrome, groups, my_units, all_units: units };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

fn clean(text: &str, max: usize, required: bool) -> Option<String> {
    let t = text.trim();
    let ok = (!required || !t.is_empty())
        && t.chars().count() <= max
        && !has_control_characters(t, false);
    ok.then(|| t.to_owned())
}

async fn add_event(
    tx: &mut TenantTx,
    handover: Uuid,
    user: &SchoolUser,
    action: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into handover_events (tenant_id, handover_id, seq, actor_id, actor_name, action, note)
         select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6
           from handover_events where tenant_id = $1 and handover_id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(handover)
    .bind(user.claims.sub)
    .bind(&user.claims.name)
    .bind(action)
    .bind(note)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let parse = |k: &str| field(k).parse::<Uuid>().ok();
    let refuse =
        |status, key: &str| show(&state, &user, &headers, status, None, Some(m.t(key).to_owned()));
    let (Some(from), Some(to), Some(subject), Some(note)) = (
        parse("from"),
        parse("to"),
        clean(&field("subject"), 200, true),
        clean(&field("note"), 2000, false),
    ) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "handover.invalid").await;
    };
    if from == to {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "handover.invalid").await;
    }
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        if !my_unit_ids(&mut tx, user.claims.sub).await?.contains(&from) {
            return Ok(Err(StatusCode::FORBIDDEN));
        }
        let target_exists: bool = sqlx::query_scalar(
            "select exists (select 1 from org_units where tenant_id = $1 and id = $2)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(to)
        .fetch_one(tx.conn())
        .await?;
        if !target_exists {
            return Ok(Err(StatusCode::UNPROCESSABLE_ENTITY));
        }
        let id = Uuid::new_v4();
        sqlx::query("insert into handovers (tenant_id, id, from_unit, to_unit, subject) values ($1, $2, $3, $4, $5)")
            .bind(tx.tenant().as_uuid())
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(&subject)
            .execute(tx.conn())
            .await?;
        add_event(&mut tx, id, &user, "handed", &note).await?;
        let after = serde_json::json!({ "from": from, "to": to, "subject": subject, "note": note });
        xg_audit::record(
            &mut tx,
            &who,
            Change::new("handover.create", format!("handover:{id}")).after(after),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(()))
    };
    match result.await {
        Ok(Ok(())) => {
            let notice = m.fmt("handover.created", &[("subject", &subject)]);
            show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err(StatusCode::FORBIDDEN)) => {
            refuse(StatusCode::FORBIDDEN, "handover.not_in_scope").await
        }
        Ok(Err(status)) => refuse(status, "handover.invalid").await,
        Err(e) => error_page(e),
    }
}

async fn respond(
    state: AppState,
    user: SchoolUser,
    addr: ClientAddr,
    headers: HeaderMap,
    form: std::collections::HashMap<String, String>,
    id: String,
    outcome: &'static str,
) -> Response {
    let m = Catalog::zh();
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let Some(note) = clean(form.get("note").map(String::as_str).unwrap_or_default(), 2000, false)
    else {
        return show(
            &state,
            &user,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m.t("handover.invalid").to_owned()),
        )
        .await;
    };
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let found: Option<(Uuid, String, String)> = sqlx::query_as(
            "select to_unit, status, subject from handovers where tenant_id = $1 and id = $2 for update",
        )
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let Some((to, status, subject)) = found else { return Ok(Err("error.not_found")) };
        if !my_unit_ids(&mut tx, user.claims.sub).await?.contains(&to) {
            return Ok(Err("handover.not_in_scope"));
        }
        if status != "open" {
            return Ok(Err("handover.not_open"));
        }
        sqlx::query("update handovers set status = $3 where tenant_id = $1 and id = $2")
            .bind(tx.tenant().as_uuid())
            .bind(id)
            .bind(outcome)
            .execute(tx.conn())
            .await?;
        add_event(&mut tx, id, &user, outcome, &note).await?;
        let change = Change::new("handover.respond", format!("handover:{id}"))
            .before(serde_json::json!({ "status": status }))
            .after(serde_json::json!({ "status": outcome, "note": note }));
        xg_audit::record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(subject))
    };
    match result.await {
        Ok(Ok(subject)) => {
            let notice = m.fmt("handover.done", &[("subject", &subject)]);
            show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err(key)) => {
            let status = if key == "handover.not_open" {
                StatusCode::CONFLICT
            } else {
                StatusCode::FORBIDDEN
            };
            show(&state, &user, &headers, status, None, Some(m.t(key).to_owned())).await
        }
        Err(e) => error_page(e),
    }
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    respond(state, user, addr, headers, form, id, "accepted").await
}

pub async fn give_back(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    respond(state, user, addr, headers, form, id, "returned").await
}
