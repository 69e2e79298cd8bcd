//! RLS overhead: the same statements through pgbench, as the service role (row-level security
//! applies) and as the superuser (it bypasses RLS; the owner role cannot, because every tenant
//! table has `force row level security`). Both transactions set the tenant the same way and
//! both queries carry the explicit `tenant_id` filter, so the difference is the policy alone.
//! Runs alternate (A B B A, four rounds) and their transactions are pooled. Statements are prepared, as the
//! service runs them; one case repeats a lookup with the simple protocol, which plans every
//! statement again, to show what planning the policies costs.

use std::time::Duration;

use uuid::Uuid;

use crate::pgbench::{self, Conn, Protocol};
use crate::sql;
use crate::stats::Latencies;

pub struct RlsFigure {
    pub name: &'static str,
    pub scoped_tps: f64,
    pub owner_tps: f64,
    pub scoped_mean: Duration,
    pub owner_mean: Duration,
}

fn measure(
    database: &str,
    name: &'static str,
    script: &str,
    seconds: u64,
    protocol: Protocol,
) -> anyhow::Result<RlsFigure> {
    let app = Conn { user: "xuegong_app", password: "xuegong_app", database };
    let sup = Conn { user: "postgres", password: "", database };
    pgbench::run(&app, script, 2, 2, 2, protocol)?;
    pgbench::run(&sup, script, 2, 2, 2, protocol)?;
    let (mut a_times, mut b_times, mut a_tps, mut b_tps) = (Vec::new(), Vec::new(), 0.0, 0.0);
    // A B B A A B B A: whichever side runs first in a pair is not always the same one, so a
    // warm-up or drift effect falls on both sides alike.
    for round in 0..4 {
        let scoped_first = round % 2 == 0;
        for side in [scoped_first, !scoped_first] {
            let (conn, times, tps) = if side {
                (&app, &mut a_times, &mut a_tps)
            } else {
                (&sup, &mut b_times, &mut b_tps)
            };
            let (lat, t) = pgbench::run(conn, script, 2, 2, seconds, protocol)?;
            times.push(lat.mean());
            *tps += t / 4.0;
        }
    }
    let mean = |v: Vec<Duration>| Latencies::new(v).mean();
    Ok(RlsFigure {
        name,
        scoped_tps: a_tps,
        owner_tps: b_tps,
        scoped_mean: mean(a_times),
        owner_mean: mean(b_times),
    })
}

pub fn run(
    database: &str,
    tenant: Uuid,
    counselor: Uuid,
    seconds: u64,
) -> anyhow::Result<Vec<RlsFigure>> {
    let wrap = |body: String| format!("begin;\n{}{body}commit;\n", sql::set_tenant(tenant));
    let page = wrap(sql::search(tenant, Some(counselor), Some(sql::POLITICAL)));
    let count = wrap(format!(
        "select count(*), count(distinct org_unit_id) from students where tenant_id = '{tenant}';\n"
    ));
    let by_no = format!(
        "\\set n random(1, 50000)\n{}",
        wrap(format!(
            "select id, name, id_number_masked from students where tenant_id = '{tenant}' \
             and student_no = lpad(:n::text, 8, '0');\n"
        ))
    );
    let prepared = Protocol::Prepared;
    Ok(vec![
        measure(database, "list page query (counselor scope)", &page, seconds, prepared)?,
        measure(database, "one student by number", &by_no, seconds, prepared)?,
        measure(database, "count a school's 50,000 students", &count, seconds, prepared)?,
        measure(
            database,
            "one student by number, planned every time (simple protocol)",
            &by_no,
            seconds,
            Protocol::Simple,
        )?,
    ])
}
