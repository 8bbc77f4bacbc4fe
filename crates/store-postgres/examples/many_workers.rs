//! Many worker processes on one PostgreSQL queue.
//!
//! ```text
//! export CARTOGRAPH_PG_URL="host=/run/postgresql dbname=cartograph"
//! cargo run -p cartograph-store-postgres --example many_workers -- run --workers 4 --events 20000 --kill
//! ```
//!
//! `run` queues `--events` customer notifications spread over `--people` people, starts
//! `--workers` copies of itself as separate processes (`work --name wN`, each its own
//! `PgStore`: its own pool and `LISTEN` connection, as on separate machines), optionally
//! kills one with SIGKILL mid-run and starts it again (`--kill`), waits for the queue to
//! drain, and checks every person's count: each worker locks the people of its batch
//! (`lock_subjects`), defers those held elsewhere, adds one per event to the person's ledger
//! row and completes the batch. With no kill every count is exact; a kill can at most repeat
//! the batch that was in flight (the ledger write and the completion are two statements), and
//! loses nothing.
//!
//! A worker started by hand (`work --name w9`, with `MANY_WORKERS_SCHEMA` set to the run's
//! schema) joins the others at any time; idle workers sleep in `Store::wait_for_work` and
//! wake on the next `NOTIFY`.

#[path = "support/count.rs"]
mod count;

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_store_postgres::{PgConfig, PgStore};
use cartograph_sync::{NewQueuedEvent, Store};

use count::Failure;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn url() -> Result<String, Failure> {
    Ok(std::env::var("CARTOGRAPH_PG_URL")
        .map_err(|_| "set CARTOGRAPH_PG_URL to a PostgreSQL connection string")?)
}

fn spawn_worker(name: &str, schema: &str) -> Result<Child, Failure> {
    Ok(Command::new(std::env::current_exe()?)
        .args(["work", "--name", name])
        .env("MANY_WORKERS_SCHEMA", schema)
        .spawn()?)
}

async fn work(args: &[String]) -> Result<(), Failure> {
    let name = arg(args, "--name", "worker");
    let schema = std::env::var("MANY_WORKERS_SCHEMA").unwrap_or_else(|_| "many_workers".into());
    let store = Arc::new(PgStore::open(&PgConfig::new(url()?).with_schema(schema)).await?);
    let report = count::work(store, name.clone(), 100, None).await?;
    println!(
        "{name}: leased {} completed {} deferred {} retried {}",
        report.leased, report.completed, report.deferred, report.retried
    );
    Ok(())
}

async fn run(args: &[String]) -> Result<(), Failure> {
    let workers: usize = arg(args, "--workers", "4").parse()?;
    let events: u64 = arg(args, "--events", "20000").parse()?;
    let people: u64 = arg(args, "--people", "500").parse::<u64>()?.max(1);
    let kill = args.iter().any(|a| a == "--kill");
    let schema = format!("many_workers_{}", std::process::id());
    let url = url()?;
    let store = PgStore::open(&PgConfig::new(url.as_str()).with_schema(schema.as_str())).await?;
    let started = Instant::now();
    let batch: Vec<NewQueuedEvent> = (0..events)
        .map(|n| count::notification(n, people))
        .collect::<Result<_, _>>()?;
    for chunk in batch.chunks(1000) {
        store.enqueue(chunk).await?;
    }
    println!(
        "queued {events} events for {people} people in {:?}",
        started.elapsed()
    );
    let mut children: Vec<Child> = (0..workers)
        .map(|i| spawn_worker(&format!("w{i}"), &schema))
        .collect::<Result<_, _>>()?;
    if kill && !children.is_empty() {
        tokio::time::sleep(Duration::from_millis(700)).await;
        children[0].kill()?; // SIGKILL: no cleanup, its leases and locks just expire
        children[0].wait()?;
        println!("killed w0 (SIGKILL); restarting it");
        children[0] = spawn_worker("w0", &schema)?;
    }
    for child in &mut children {
        child.wait()?;
    }
    let elapsed = started.elapsed();
    let (total, lost, repeated) = count::tally(&store, events, people).await?;
    println!(
        "{workers} workers drained {events} events in {elapsed:?}: counted {total}, lost {lost}, repeated {repeated}"
    );
    drop(store);
    // The run's schema was its own: drop it.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    let conn = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = conn.await;
    if lost > 0 || (!kill && repeated > 0) {
        return Err("counts do not match the events".into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args).await,
        Some("work") => work(&args).await,
        _ => Err("usage: many_workers run [--workers N] [--events N] [--people N] [--kill] | work --name NAME".into()),
    }
}
