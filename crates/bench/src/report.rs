//! The table: printed, and written into `docs/benchmarks.md` between markers, so the analysis
//! written around it survives a re-run.

use std::fmt::Write as _;

pub enum Target {
    AtMost(f64),
    AtLeast(f64),
}

pub struct Row {
    pub case: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: f64,
    pub target: Target,
}

impl Row {
    pub fn met(&self) -> bool {
        match self.target {
            Target::AtMost(t) => self.ratio <= t,
            Target::AtLeast(t) => self.ratio >= t,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(t) => format!("≤ {t}×"),
            Target::AtLeast(t) => format!("≥ {t}×"),
        }
    }
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| case | ours | baseline | ratio | target | met? |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2}× | {} | {} |",
            r.case,
            r.ours,
            r.baseline,
            r.ratio,
            r.target_text(),
            if r.met() { "yes" } else { "**no**" }
        );
    }
    out
}

fn first_line_with(path: &str, prefix: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb: u64 = first_line_with("/proc/meminfo", "MemTotal")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpu = first_line_with("/proc/cpuinfo", "model name");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} cores (nproc), {:.1} GiB memory, CPU: {cpu}; load average at the start {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        load.join(" ")
    )
}

const BEGIN: &str = "<!-- bench:begin (written by infra/bench.sh) -->";
const END: &str = "<!-- bench:end -->";

/// Replaces the generated section of `path` (or writes the file with only that section).
pub fn write_doc(path: &str, generated: &str) -> std::io::Result<()> {
    let section = format!("{BEGIN}\n{generated}{END}");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{section}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\nRun with `infra/bench.sh`.\n\n{section}\n"),
    };
    std::fs::write(path, new)
}
