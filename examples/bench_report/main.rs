//! Every headline performance figure of Cartograph in one run.
//!
//! ```text
//! cargo run --release --example bench_report            # full inputs (several minutes)
//! cargo run --release --example bench_report -- --quick # CI-sized inputs (about a minute)
//! cargo run --release --example bench_report -- --only mapping,intake
//! cargo run --release --example bench_report -- --check-json report.json  # CI validation
//! ```
//!
//! Prints ONE JSON object on stdout (machine facts and named figures, each with value, unit,
//! input size, target and detail) and a table on stderr. Sections: `mapping`, `identity`,
//! `intake`, `sync`, `backfill`, `postgres` (with `CARTOGRAPH_PG_URL` set; otherwise its
//! figures are null with the reason). Method and current figures: `docs/performance.md`.
//!
//! A section that fails (a harness error, not a slow figure) is reported with its error as
//! the reason and makes the process exit with status 1 after the JSON is printed; figures
//! that miss their targets never change the exit status.

mod child;
mod identity;
mod intake;
mod mapping;
mod pg_scaling;
mod postgres;
mod report;
mod sync;
mod trace;

use std::time::Instant;

use serde_json::json;
use tracing_subscriber::layer::SubscriberExt as _;

use report::Figure;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SECTIONS: [&str; 6] = [
    "mapping", "identity", "intake", "sync", "backfill", "postgres",
];

/// Every figure name the report must carry (checked by `--check-json`).
const FIGURES: [&str; 16] = [
    "mapping_ratio_vs_serde",
    "mapping_ratio_vs_typed_wire",
    "mapping_orders_per_sec_per_core",
    "identity_seconds_100k",
    "identity_seconds_1m",
    "identity_precision",
    "identity_recall",
    "identity_peak_rss_mb",
    "intake_events_per_sec",
    "intake_ack_p99_ms",
    "sync_fraction_of_rate_ceiling",
    "backfill_peak_rss_mb",
    "postgres_intake_events_per_sec",
    "postgres_lease_complete_per_sec",
    "postgres_quota_overhead_ms",
    "postgres_workers_scaling",
];

/// `--check-json FILE`: the file is one JSON object with machine facts and every figure,
/// each with a `value` (number, or null with a `reason`) and a `unit`. Timings are not
/// judged.
fn check_json(path: &str) -> Result<(), BoxError> {
    let text = std::fs::read_to_string(path)?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    if !v["machine"]["cores"].is_u64() {
        return Err("machine.cores missing".into());
    }
    for name in FIGURES {
        let f = &v["figures"][name];
        let value_ok = f["value"].is_number() || (f["value"].is_null() && f["reason"].is_string());
        if !value_ok || !f["unit"].is_string() {
            return Err(format!("figure {name} is missing or malformed: {f}").into());
        }
    }
    eprintln!("{path}: valid report JSON with every figure");
    Ok(())
}

/// Input sizes and run counts of one mode.
struct Sizes {
    mapping_orders: usize,
    mapping_runs: usize,
    intake_webhooks: usize,
    intake_runs: usize,
    sync_contacts: usize,
    sync_runs: usize,
    backfill_small: usize,
    /// Whether the backfill also runs at 100x the small size (full mode: 100,000 customers).
    backfill_hundredfold: bool,
    /// Events per PostgreSQL intake and drain run.
    postgres_events: usize,
    postgres_runs: usize,
}

const QUICK: Sizes = Sizes {
    mapping_orders: 300,
    mapping_runs: 5,
    intake_webhooks: 3_000,
    intake_runs: 3,
    sync_contacts: 2_000,
    sync_runs: 1,
    backfill_small: 200,
    backfill_hundredfold: false,
    postgres_events: 3_000,
    postgres_runs: 1,
};

const FULL: Sizes = Sizes {
    mapping_orders: 2_000,
    mapping_runs: 9,
    intake_webhooks: 20_000,
    intake_runs: 5,
    sync_contacts: 10_000,
    sync_runs: 3,
    backfill_small: 1_000,
    backfill_hundredfold: true,
    postgres_events: 20_000,
    postgres_runs: 3,
};

fn child_main(args: &[String]) -> Result<(), BoxError> {
    let arg = |i: usize| -> Result<&str, BoxError> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("--child: missing argument {i}").into())
    };
    match arg(0)? {
        "identity" => {
            identity::child_main(arg(1)?.parse()?, arg(2)?.parse()?);
            Ok(())
        }
        "identity-model" => {
            identity::model_child_main(arg(1)?.parse()?);
            Ok(())
        }
        "backfill" => sync::child_main(arg(1)?.parse()?, arg(2)?, arg(3)?),
        other => Err(format!("unknown child {other}").into()),
    }
}

fn failed(name: &'static str, e: &BoxError) -> Figure {
    Figure::missing(name, "-", json!(null), format!("error: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--check-json") {
        let path = args.get(i + 1).map_or("", String::as_str);
        if let Err(e) = check_json(path) {
            eprintln!("bench_report --check-json {path}: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child") {
        if let Err(e) = child_main(&args[i + 1..]) {
            eprintln!("bench_report child failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || SECTIONS.iter().map(|s| (*s).to_owned()).collect(),
            |s| s.split(',').map(str::to_owned).collect(),
        );
    let sizes = if quick { &QUICK } else { &FULL };

    let counts = trace::StatusCounts::default();
    let subscriber = tracing_subscriber::registry().with(trace::StatusLayer(counts.clone()));
    let _ = tracing::subscriber::set_global_default(subscriber);

    let load_before = report::load_average();
    let started = Instant::now();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let mut figures: Vec<Figure> = Vec::new();
    let mut errors = 0;
    let wants = |s: &str| only.iter().any(|o| o == s);

    if wants("mapping") {
        eprintln!(
            "== mapping ({} orders x {} runs)",
            sizes.mapping_orders, sizes.mapping_runs
        );
        let r = rt
            .block_on(mapping::corpus(sizes.mapping_orders))
            .and_then(|c| mapping::measure(&c, sizes.mapping_runs));
        match r {
            Ok(f) => figures.extend(f),
            Err(e) => {
                errors += 1;
                figures.push(failed("mapping_ratio_vs_serde", &e));
            }
        }
    }
    if wants("identity") {
        eprintln!("== identity (child processes)");
        match identity::measure(quick) {
            Ok(f) => figures.extend(f),
            Err(e) => {
                errors += 1;
                figures.push(failed("identity_seconds_100k", &e));
            }
        }
    }
    if wants("intake") {
        eprintln!(
            "== intake ({} webhooks x {} runs, {} senders)",
            sizes.intake_webhooks,
            sizes.intake_runs,
            intake::SENDERS
        );
        match rt.block_on(intake::measure(sizes.intake_webhooks, sizes.intake_runs)) {
            Ok(f) => figures.extend(f),
            Err(e) => {
                errors += 1;
                figures.push(failed("intake_events_per_sec", &e));
            }
        }
    }
    if wants("sync") {
        eprintln!(
            "== sync ({} contacts x {} runs)",
            sizes.sync_contacts, sizes.sync_runs
        );
        match rt.block_on(sync::measure_sync(
            sizes.sync_contacts,
            sizes.sync_runs,
            &counts,
        )) {
            Ok(f) => figures.push(f),
            Err(e) => {
                errors += 1;
                figures.push(failed("sync_fraction_of_rate_ceiling", &e));
            }
        }
    }
    if wants("backfill") {
        eprintln!(
            "== backfill memory ({} customers x 1, 10{}, child processes)",
            sizes.backfill_small,
            if sizes.backfill_hundredfold {
                ", 100"
            } else {
                ""
            }
        );
        match rt.block_on(sync::measure_backfill(
            sizes.backfill_small,
            sizes.backfill_hundredfold,
        )) {
            Ok(f) => figures.push(f),
            Err(e) => {
                errors += 1;
                figures.push(failed("backfill_peak_rss_mb", &e));
            }
        }
    }
    if wants("postgres") {
        match std::env::var(postgres::URL_VAR) {
            Err(_) => {
                eprintln!("== postgres: skipped ({} is not set)", postgres::URL_VAR);
                figures.extend(postgres::missing(&format!(
                    "{} is not set: no PostgreSQL server to measure",
                    postgres::URL_VAR
                )));
            }
            Ok(url) => {
                eprintln!(
                    "== postgres ({} events x {} runs, {} senders)",
                    sizes.postgres_events,
                    sizes.postgres_runs,
                    postgres::SENDERS
                );
                match rt.block_on(postgres::measure(
                    &url,
                    sizes.postgres_events,
                    sizes.postgres_runs,
                )) {
                    Ok(f) => figures.extend(f),
                    Err(e) => {
                        errors += 1;
                        figures.push(failed("postgres_intake_events_per_sec", &e));
                    }
                }
            }
        }
    }
    drop(rt);

    let machine = report::machine(load_before);
    let mode = if quick { "quick" } else { "full" };
    let out = report::to_json(mode, &machine, &figures, started.elapsed());
    eprintln!("\n{}", report::table(&figures));
    match serde_json::to_string_pretty(&out) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("cannot serialize the report: {e}");
            std::process::exit(1);
        }
    }
    if errors > 0 {
        eprintln!("{errors} section(s) failed");
        std::process::exit(1);
    }
}
