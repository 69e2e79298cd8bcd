//! The benchmark suite of issue 8: each case of the product side by side with PostgreSQL's own
//! figure for the same work, measured in one run, printed as a table and written into
//! `docs/benchmarks.md`. Run it with `infra/bench.sh`, which builds in release mode and starts
//! a private PostgreSQL cluster. Never part of the tests; no timing decides pass or fail.
//!
//! `xg-bench` runs every case; `xg-bench serve URL PORT` is the service process the load case
//! starts. Knobs (environment): `XG_BENCH_SCHOOLS` (1000) and `XG_BENCH_PER_SCHOOL` (2000) for
//! tenant scaling, `XG_BENCH_SECONDS` (15) per load run, `XG_BENCH_DOC` (where to write).

mod import;
mod load;
mod pgbench;
mod publish;
mod report;
mod rls;
mod scaling;
mod setup;
mod sql;
mod stats;

use std::time::Duration;

use report::{Row, Target};
use stats::ms;
use xg_e2e::TestDb;
use xg_e2e::schools::district;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The cases named in `XG_BENCH_ONLY` (comma-separated: `xlsx`, `load`, `rls`, `publish`,
/// `scaling`), or all of them. The CSV import always runs: the other cases read its data. A
/// partial run prints its table but leaves `docs/benchmarks.md` alone.
struct Selection(Option<Vec<String>>);

impl Selection {
    fn from_env() -> Self {
        Self(
            std::env::var("XG_BENCH_ONLY")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.split(',').map(|c| c.trim().to_owned()).collect()),
        )
    }

    fn wants(&self, case: &str) -> bool {
        self.0.as_ref().is_none_or(|cases| cases.iter().any(|c| c == case))
    }

    fn is_full(&self) -> bool {
        self.0.is_none()
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let (Some(url), Some(port)) = (args.get(2), args.get(3)) else {
            anyhow::bail!("usage: xg-bench serve URL PORT");
        };
        return load::serve(url, port).await;
    }
    let schools = knob("XG_BENCH_SCHOOLS", 1000);
    let per_school = knob("XG_BENCH_PER_SCHOOL", 2000);
    let seconds = knob("XG_BENCH_SECONDS", 15) as u64;
    let only = Selection::from_env();
    let machine = report::machine();
    let started = time::OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    eprintln!("== preparing two university-sized schools");
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let per_grade = setup::CLASSES_PER_GRADE;
    let a = setup::onboard_text(&t.app, &setup::big_manifest("alpha", "d1", per_grade)).await?;
    let b = setup::onboard_text(&t.app, &setup::big_manifest("beta", "d1", per_grade)).await?;

    eprintln!("== roster import");
    let imp = import::run(&t, a, b, only.wants("xlsx")).await?;
    rows.push(Row {
        case: format!("roster import, {} rows, CSV", imp.rows),
        ours: secs(imp.csv),
        baseline: format!("{} (COPY)", secs(imp.copy)),
        ratio: imp.csv.as_secs_f64() / imp.copy.as_secs_f64(),
        target: Target::AtMost(4.0),
    });
    if let Some(xlsx) = imp.xlsx {
        rows.push(Row {
            case: format!("roster import, {} rows, xlsx", imp.rows),
            ours: secs(xlsx),
            baseline: format!("{} (the CSV import)", secs(imp.csv)),
            ratio: xlsx.as_secs_f64() / imp.csv.as_secs_f64(),
            target: Target::AtMost(2.0),
        });
    }
    notes.push(format!(
        "- The CSV import created {} student accounts without hashing a password (activation at \
         first sign-in), inside the {} above.",
        imp.accounts,
        secs(imp.csv)
    ));

    if only.wants("load") {
        eprintln!("== student list page under {} clients", load::CLIENTS);
        let lf = load::run(&t, "alpha", a, seconds).await?;
        rows.push(Row {
            case: format!("student list page, {} clients", load::CLIENTS),
            ours: format!("{:.0} req/s, p50 {}, p99 {}", lf.rps, ms(lf.p50), ms(lf.p99)),
            baseline: format!(
                "{:.0} tx/s, p50 {}, p99 {} (pgbench, {} conns)",
                lf.base_tps,
                ms(lf.base_p50),
                ms(lf.base_p99),
                lf.pool
            ),
            ratio: lf.rps / lf.base_tps,
            target: Target::AtLeast(0.5),
        });
        notes.push(format!(
            "- Service peak RSS (VmHWM) during the load case: {:.1} MiB; {} failed requests; page \
             size {} KB; the service's pool holds {} connections.",
            lf.peak_rss_kb as f64 / 1024.0,
            lf.errors,
            lf.body_bytes / 1024,
            lf.pool
        ));
    }

    if only.wants("rls") {
        eprintln!("== RLS overhead");
        let counselor = setup::account_id(&t.app, a, "counselor").await?;
        for f in rls::run(&t.name, a.as_uuid(), counselor, seconds.div_ceil(4))? {
            rows.push(Row {
                case: format!("RLS overhead: {}", f.name),
                ours: format!("{} ({:.0} tx/s)", ms(f.scoped_mean), f.scoped_tps),
                baseline: format!("{} ({:.0} tx/s)", ms(f.owner_mean), f.owner_tps),
                ratio: f.scoped_mean.as_secs_f64() / f.owner_mean.as_secs_f64(),
                target: Target::AtMost(1.15),
            });
        }
    }

    if only.wants("publish") {
        eprintln!("== notice publish");
        let p = publish::run(&t, a, 5).await?;
        rows.push(Row {
            case: format!("notice publish to {} recipients", p.recipients),
            ours: secs(p.ours),
            baseline: format!("{} (INSERT ... SELECT)", secs(p.baseline)),
            ratio: p.ours.as_secs_f64() / p.baseline.as_secs_f64(),
            target: Target::AtMost(3.0),
        });
    }

    if only.wants("scaling") {
        eprintln!("== tenant scaling");
        let s = scaling::run(schools, per_school, 500).await?;
        for (label, pct) in [("p50", 50.0), ("p99", 99.0)] {
            rows.push(Row {
                case: format!(
                    "tenant scaling, {label} of a register page read, {} schools × {}",
                    s.schools, s.per_school
                ),
                ours: ms(s.big.pct(pct)),
                baseline: format!("{} (10 schools)", ms(s.small.pct(pct))),
                ratio: s.big.pct(pct).as_secs_f64() / s.small.pct(pct).as_secs_f64(),
                target: Target::AtMost(1.3),
            });
        }
        notes.push(format!(
            "- Tenant scaling: {} schools onboarded and filled through the product in {:.0} s; {} \
             reads per side.",
            s.schools,
            s.prepare.as_secs_f64(),
            s.big.len()
        ));
    }

    let table = report::table(&rows);
    println!("\n{table}");
    for n in &notes {
        println!("{n}");
    }
    let date = started.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let generated =
        format!("Run at {date} (UTC) on: {machine}.\n\n{table}\n{}\n", notes.join("\n"));
    let doc = std::env::var("XG_BENCH_DOC").unwrap_or_else(|_| "docs/benchmarks.md".into());
    if only.is_full() {
        report::write_doc(&doc, &generated)?;
        eprintln!("written to {doc}");
    } else {
        eprintln!("a partial run (XG_BENCH_ONLY): {doc} left as it was");
    }
    Ok(())
}
