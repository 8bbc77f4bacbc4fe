//! Listing overlaps reading the next page with writing the current one, without moving the
//! checkpoint past a page that is not settled.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceSource, CrmSink, Error, ErrorKind, ListRequest, Page, Result, Stream,
};
use cartograph_core::metrics::Rates;
use cartograph_model::{Currency, Customer};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{EngineConfig, ListConfig, Pipeline, Store};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};

/// A store that notes, for every customer page it is asked for, how many contacts the CRM
/// held at that moment, and can fail the read of one page.
struct Watched {
    shop: MemoryCommerce,
    crm: MemoryCrm,
    /// (page number, contacts in the CRM when the page was requested)
    reads: Mutex<Vec<(usize, usize)>>,
    fail_page: Mutex<Option<usize>>,
}

#[async_trait]
impl CommerceSource for Watched {
    fn name(&self) -> &str {
        self.shop.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.shop.capabilities()
    }

    async fn list_customers(&self, request: &ListRequest) -> Result<Page<Customer>> {
        let page = {
            let mut reads = self.reads.lock().unwrap();
            let page = reads.len() + 1;
            reads.push((page, self.crm.contacts().len()));
            page
        };
        if self
            .fail_page
            .lock()
            .unwrap()
            .take_if(|p| *p == page)
            .is_some()
        {
            return Err(
                Error::new(ErrorKind::Unavailable, "store is down").with_connector("watched")
            );
        }
        self.shop.list_customers(request).await
    }
}

struct World {
    _dir: tempfile::TempDir,
    source: Arc<Watched>,
    crm: MemoryCrm,
    store: Arc<dyn Store>,
}

fn world(fail_page: Option<usize>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("l.sqlite")).unwrap());
    let shop = MemoryCommerce::with_seed(&Seed::default()).unwrap();
    let crm = MemoryCrm::new();
    World {
        _dir: dir,
        source: Arc::new(Watched {
            shop,
            crm: crm.clone(),
            reads: Mutex::new(Vec::new()),
            fail_page: Mutex::new(fail_page),
        }),
        crm,
        store,
    }
}

async fn pipeline(w: &World) -> Pipeline {
    let config =
        EngineConfig::for_profile(&cartograph_hubspot::profile(), Rates::new(Currency::USD))
            .unwrap();
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        w.crm.define_property(p.definition.clone());
    }
    Pipeline::builder()
        .source(Arc::clone(&w.source) as Arc<dyn CommerceSource>)
        .writer(Arc::new(w.source.shop.clone()))
        .sink(Arc::new(w.crm.clone()) as Arc<dyn CrmSink>)
        .store(Arc::clone(&w.store))
        .engine(config)
        .list_config(ListConfig {
            page_size: 4,
            ..ListConfig::default()
        })
        .build()
        .await
        .unwrap()
}

fn distinct_emails(seed: &Seed) -> usize {
    let mut emails: Vec<_> = seed
        .customers
        .iter()
        .filter_map(|c| c.email.as_ref().map(|e| e.normalized().to_owned()))
        .collect();
    emails.sort();
    emails.dedup();
    emails.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_page_is_read_while_the_current_page_is_written() {
    let w = world(None);
    let p = pipeline(&w).await;
    let report = p.backfill(&[Stream::Customers]).await.unwrap();
    assert!(report.pages >= 3, "the seed spans several pages of 4");
    let reads = w.source.reads.lock().unwrap().clone();
    // Page 2 was requested before page 1's contacts reached the CRM: the read overlapped
    // the writes instead of waiting for them.
    assert_eq!(reads[0], (1, 0));
    assert_eq!(
        reads[1],
        (2, 0),
        "page 2 read only after page 1 was written"
    );
    // Everything arrived, once per person.
    assert_eq!(w.crm.contacts().len(), distinct_emails(&Seed::default()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_of_the_next_page_keeps_the_settled_page() {
    let w = world(Some(3));
    let p = pipeline(&w).await;
    let err = p.backfill(&[Stream::Customers]).await.unwrap_err();
    assert!(err.to_string().contains("store is down"), "{err}");
    // Pages 1 and 2 were settled and the checkpoint points at page 3.
    let checkpoint = w
        .store
        .checkpoint(w.source.name(), "customers:backfill")
        .await
        .unwrap()
        .expect("checkpoint saved");
    assert!(checkpoint.cursor.is_some() && !checkpoint.backfill_done);
    let written = w.crm.contacts().len();
    assert!(written > 0);

    // The next run starts at page 3 (pages 1 and 2 are not read again) and finishes.
    let before = w.source.reads.lock().unwrap().len();
    let report = p.backfill(&[Stream::Customers]).await.unwrap();
    let reads = w.source.reads.lock().unwrap().len() - before;
    assert_eq!(reads as u64, report.pages);
    assert_eq!(w.crm.contacts().len(), distinct_emails(&Seed::default()));
    let done = w
        .store
        .checkpoint(w.source.name(), "customers:backfill")
        .await
        .unwrap()
        .unwrap();
    assert!(done.backfill_done);
}
