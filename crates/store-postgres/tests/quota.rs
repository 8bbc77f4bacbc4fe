//! The request budget of a vendor account shared through PostgreSQL: however many workers on
//! however many machines, the account's rate limit holds.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartograph_http::{
    BaseUrl, DefaultPolicy, HttpClient, HttpConfig, NoAuth, RateLimit, RateLimiter, Request,
    RetryPolicy,
};
use cartograph_store_postgres::PgStore;
use common::busiest_window;

async fn machines(url: &str, schema: &str, n: usize) -> Vec<PgStore> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            PgStore::open(&common::config(url, schema).with_pool_size(4))
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_on_four_machines_together_stay_within_the_accounts_quota() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("quota");
    let stores = machines(&url, &schema, 4).await;
    let limit = RateLimit::new(20, Duration::from_secs(1));
    let run_for = Duration::from_secs(3);
    let starts = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for store in &stores {
        // Three workers per machine, each as greedy as it can be.
        for _ in 0..3 {
            let quota = store.quota();
            let starts = Arc::clone(&starts);
            tasks.push(tokio::spawn(async move {
                while began.elapsed() < run_for {
                    quota.acquire("crm:portal-1", &limit).await.unwrap();
                    starts.lock().unwrap().push(Instant::now());
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut starts = starts.lock().unwrap().clone();
    let busiest = busiest_window(&mut starts, limit.per);
    assert!(busiest <= 20, "{busiest} requests in one second, quota 20");
    // And the budget is used, not starved: about 19.5 per second for 3 s.
    assert!(starts.len() >= 50, "only {} requests in 3 s", starts.len());
    // Another account has a budget of its own.
    let other = stores[0]
        .quota()
        .reserve("crm:portal-2", &limit)
        .await
        .unwrap();
    assert!(other < Duration::from_millis(5), "{other:?}");
    drop(stores);
    common::drop_schemas(&url, &[schema]).await;
}

async fn hammer(clients: Vec<HttpClient>, run_for: Duration) {
    let began = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..2 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                while began.elapsed() < run_for {
                    let _ = client.send(Request::get("/contacts")).await;
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_never_answers_429_when_its_quota_is_shared_through_the_database() {
    let Some(url) = common::server().await else {
        return;
    };
    let limit = RateLimit::new(10, Duration::from_secs(1));
    let run_for = Duration::from_millis(2500);

    // The old way: each of four workers has its own in-process limiter at the full quota.
    let (server, tally) = common::vendor::start(limit).await;
    let base = BaseUrl::parse(&server.uri()).unwrap();
    let local: Vec<HttpClient> = (0..4)
        .map(|_| {
            let config = HttpConfig::new(base.clone(), Arc::new(NoAuth))
                .with_retry(RetryPolicy::none())
                .with_rate_limiter(RateLimiter::shared(limit).unwrap());
            HttpClient::new(config, Arc::new(DefaultPolicy::new("vendor"))).unwrap()
        })
        .collect();
    hammer(local, run_for).await;
    let refused_locally = tally.lock().unwrap().refused;
    assert!(
        refused_locally > 0,
        "four private limiters send four times the quota"
    );

    // Shared: four machines, each gating its client on the account's budget in PostgreSQL.
    let schema = common::fresh_schema("gate");
    let stores = machines(&url, &schema, 4).await;
    let (server, tally) = common::vendor::start(limit).await;
    let base = BaseUrl::parse(&server.uri()).unwrap();
    let shared: Vec<HttpClient> = stores
        .iter()
        .map(|store| {
            let gate = store.quota().gate("vendor:acct-9", limit);
            let config = HttpConfig::new(base.clone(), Arc::new(NoAuth))
                .with_request_gate(Arc::new(gate))
                .with_retry(RetryPolicy::none());
            HttpClient::new(config, Arc::new(DefaultPolicy::new("vendor"))).unwrap()
        })
        .collect();
    hammer(shared, run_for).await;
    let shared_tally = *tally.lock().unwrap();
    assert_eq!(
        shared_tally.refused, 0,
        "the shared budget kept all four machines within the quota"
    );
    assert!(
        shared_tally.served >= 20,
        "and used it: {} served",
        shared_tally.served
    );
    drop(stores);
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_skip_the_wal_and_start_again_when_a_crash_empties_them() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("unlogged");
    let store = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    let unlogged = common::scalar(
        &url,
        &format!(
            "SELECT (relpersistence = 'u')::int::bigint FROM pg_class
             WHERE oid = '{schema}.quota_budgets'::regclass"
        ),
    )
    .await;
    assert_eq!(unlogged, 1, "quota_budgets is UNLOGGED");
    let quota = store.quota();
    let limit = RateLimit::new(10, Duration::from_secs(1));
    quota.reserve("crm:portal-3", &limit).await.unwrap();
    // Crash recovery truncates unlogged tables; the next reservation makes the row again.
    common::sql(&url, &format!("TRUNCATE {schema}.quota_budgets")).await;
    let wait = quota.reserve("crm:portal-3", &limit).await.unwrap();
    assert!(wait < Duration::from_millis(5), "{wait:?}");
    let second = quota.reserve("crm:portal-3", &limit).await.unwrap();
    assert!(
        second > Duration::from_millis(50),
        "spaced again: {second:?}"
    );
    drop(store);
    common::drop_schemas(&url, &[schema]).await;
}
