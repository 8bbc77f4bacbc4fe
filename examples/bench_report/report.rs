//! Figures, statistics, machine facts and the two outputs (JSON on stdout, a table on stderr).

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Map, Value, json};

/// One named figure: a value (or `null` with a reason), its unit, the input it was measured
/// on, the target from issue 8 and free-form detail.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) value: Option<f64>,
    pub(crate) unit: &'static str,
    pub(crate) input: Value,
    pub(crate) target: Option<&'static str>,
    pub(crate) meets_target: Option<bool>,
    pub(crate) reason: Option<String>,
    pub(crate) detail: Value,
}

impl Figure {
    pub(crate) fn new(name: &'static str, value: f64, unit: &'static str, input: Value) -> Self {
        Self {
            name,
            value: Some(value),
            unit,
            input,
            target: None,
            meets_target: None,
            reason: None,
            detail: Value::Null,
        }
    }

    /// A figure that was not measured, with the reason.
    pub(crate) fn missing(
        name: &'static str,
        unit: &'static str,
        input: Value,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            name,
            value: None,
            unit,
            input,
            target: None,
            meets_target: None,
            reason: Some(reason.into()),
            detail: Value::Null,
        }
    }

    /// Sets the target text and whether the value meets it.
    #[must_use]
    pub(crate) fn target(mut self, text: &'static str, check: impl Fn(f64) -> bool) -> Self {
        self.target = Some(text);
        self.meets_target = self.value.map(check);
        self
    }

    #[must_use]
    pub(crate) fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("value".into(), self.value.map_or(Value::Null, round_json));
        m.insert("unit".into(), self.unit.into());
        m.insert("input".into(), self.input.clone());
        if let Some(t) = self.target {
            m.insert("target".into(), t.into());
            m.insert(
                "meets_target".into(),
                self.meets_target.map_or(Value::Null, Value::Bool),
            );
        }
        if let Some(r) = &self.reason {
            m.insert("reason".into(), r.clone().into());
        }
        if !self.detail.is_null() {
            m.insert("detail".into(), self.detail.clone());
        }
        Value::Object(m)
    }
}

/// A float rounded to 4 significant decimals for the JSON (keeps integers integral).
pub(crate) fn round_json(v: f64) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    let r = if v.abs() >= 100.0 {
        (v * 10.0).round() / 10.0
    } else {
        (v * 10_000.0).round() / 10_000.0
    };
    serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
}

/// Median of a non-empty sample (mean of the two middle values for even sizes).
pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 0 {
        f64::midpoint(v[mid - 1], v[mid])
    } else {
        v[mid]
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of a sample.
pub(crate) fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// `VmHWM` (peak resident set) of this process in MiB, from `/proc/self/status`.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    status_kb("VmHWM:").map(kb_to_mb)
}

/// `VmRSS` (current resident set) of this process in MiB.
pub(crate) fn current_rss_mb() -> Option<f64> {
    status_kb("VmRSS:").map(kb_to_mb)
}

#[allow(clippy::cast_precision_loss)]
fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn status_kb(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The 1, 5 and 15 minute load averages.
pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    Some([it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?])
}

/// `uptime` as printed by the command (load included), when the command exists.
fn uptime_text() -> Option<String> {
    let out = std::process::Command::new("uptime").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|r| r.trim_start_matches([' ', '\t', ':']).trim().to_owned())
}

fn mem_total_mb() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(kb_to_mb)
}

/// The file system type holding `path` (longest matching mount point in `/proc/mounts`).
pub(crate) fn fs_type(path: &std::path::Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _dev = f.next()?;
            let mount = f.next()?;
            let kind = f.next()?;
            path.starts_with(mount)
                .then(|| (mount.len(), kind.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}

/// Facts about the machine the figures were taken on.
pub(crate) fn machine(load_before: Option<[f64; 3]>) -> Value {
    json!({
        "cores": std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        "cpu_model": cpu_model(),
        "mem_total_mb": mem_total_mb().map(round_json),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "uptime_after": uptime_text(),
        "temp_dir": std::env::temp_dir(),
        "temp_dir_fs": fs_type(&std::env::temp_dir()),
    })
}

/// The whole report as one JSON object.
pub(crate) fn to_json(mode: &str, machine: &Value, figures: &[Figure], elapsed: Duration) -> Value {
    let mut m = Map::new();
    for f in figures {
        m.insert(f.name.into(), f.to_json());
    }
    json!({
        "report": "cartograph bench_report",
        "mode": mode,
        "elapsed_seconds": round_json(elapsed.as_secs_f64()),
        "machine": machine.clone(),
        "figures": Value::Object(m),
    })
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        None => "null".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn fmt_input(input: &Value) -> String {
    match input {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// The human-readable table (for stderr).
pub(crate) fn table(figures: &[Figure]) -> String {
    let mut rows = vec![[
        "figure".to_owned(),
        "value".to_owned(),
        "unit".to_owned(),
        "target".to_owned(),
        "ok".to_owned(),
        "input".to_owned(),
    ]];
    for f in figures {
        let ok = match (f.meets_target, &f.reason) {
            (Some(true), _) => "yes".to_owned(),
            (Some(false), _) => "NO".to_owned(),
            (None, Some(_)) => "skipped".to_owned(),
            (None, None) => "-".to_owned(),
        };
        rows.push([
            f.name.to_owned(),
            fmt_value(f.value),
            f.unit.to_owned(),
            f.target.unwrap_or("-").to_owned(),
            ok,
            fmt_input(&f.input),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c == 5 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 10));
            out.push('\n');
        }
    }
    for f in figures {
        if let Some(r) = &f.reason {
            let _ = writeln!(out, "{}: {r}", f.name);
        }
    }
    out
}
