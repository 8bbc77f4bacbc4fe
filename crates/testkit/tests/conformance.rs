//! Every conformance suite passes against the in-memory implementations.
#![allow(clippy::unwrap_used)]

use cartograph_connector::{Capabilities, Stream};
use cartograph_testkit::conformance::{commerce_source, commerce_writer, crm_sink, crm_source};
use cartograph_testkit::fixtures::{CrmFixture, Seed};
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};

fn shop(seed: &Seed, page_size: usize) -> MemoryCommerce {
    let shop = MemoryCommerce::builder().page_size(page_size).build();
    shop.load(seed).unwrap();
    shop
}

#[tokio::test]
async fn memory_commerce_passes_the_commerce_source_suite() {
    let seed = Seed::default();
    for page_size in [1, 3, 50] {
        commerce_source::run_all(&shop(&seed, page_size), &seed).await;
    }
}

#[tokio::test]
async fn memory_commerce_passes_with_numeric_ids_and_a_larger_seed() {
    let seed = Seed::builder()
        .numeric_ids(true)
        .customers(40)
        .orders(60)
        .refunds(10)
        .build();
    commerce_source::run_all(&shop(&seed, 7), &seed).await;
}

#[tokio::test]
async fn memory_commerce_passes_with_remapped_ids() {
    let seed = Seed::default().map_ids(|kind, id| format!("{}_{id}", kind.as_str()));
    commerce_source::run_all(&shop(&seed, 4), &seed).await;
}

#[tokio::test]
async fn memory_commerce_without_cart_listing_passes() {
    let seed = Seed::default();
    let mut caps = cartograph_connector::CommerceSource::capabilities(&MemoryCommerce::new());
    caps.list.retain(|s| *s != Stream::Carts);
    caps.delta.retain(|s| *s != Stream::Carts);
    caps.webhooks = false;
    let shop = MemoryCommerce::builder().capabilities(caps).build();
    shop.load(&seed).unwrap();
    commerce_source::run_all(&shop, &seed).await;
}

#[tokio::test]
async fn memory_commerce_passes_the_commerce_writer_suite() {
    commerce_writer::run_all(&MemoryCommerce::new()).await;
    commerce_writer::run_all(&shop(&Seed::default(), 50)).await;
}

#[tokio::test]
async fn a_writer_without_writes_passes_by_answering_unsupported() {
    let shop = MemoryCommerce::builder()
        .capabilities(Capabilities {
            list: vec![Stream::Customers],
            ..Capabilities::default()
        })
        .build();
    commerce_writer::run_all(&shop).await;
}

#[tokio::test]
async fn memory_crm_passes_the_crm_sink_suite() {
    let crm = MemoryCrm::new();
    crm_sink::run_all(&crm, &CrmFixture::default()).await;
    // Runs again on the same system under another namespace.
    let again = CrmFixture {
        namespace: "second".into(),
        ..CrmFixture::default()
    };
    crm_sink::run_all(&crm, &again).await;
}

#[tokio::test]
async fn memory_crm_with_small_batches_passes_the_crm_sink_suite() {
    let crm = MemoryCrm::builder().max_batch(3).build();
    crm_sink::run_all(&crm, &CrmFixture::default()).await;
}

#[tokio::test]
async fn a_crm_with_only_contacts_passes_by_answering_unsupported() {
    let crm = MemoryCrm::builder()
        .capabilities(Capabilities {
            max_batch: 100,
            ..Capabilities::default()
        })
        .build();
    crm_sink::run_all(&crm, &CrmFixture::default()).await;
    crm_source::run_all(&crm, &crm, &crm, &CrmFixture::default()).await;
}

#[tokio::test]
async fn memory_crm_passes_the_crm_source_suite() {
    let crm = MemoryCrm::builder().page_size(2).build();
    let fx = CrmFixture::default();
    crm_source::run_all(&crm, &crm, &crm, &fx).await;
    crm_sink::run_all(&crm, &fx).await;
}
