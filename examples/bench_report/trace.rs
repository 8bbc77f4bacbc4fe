//! Counting HTTP responses by status as the connectors saw them.
//!
//! `cartograph-http` opens one `http.request` span per attempt (fields `connector` and
//! `status`). This layer keeps only those spans and counts, per connector, every attempt
//! and every 429, so retried rate-limit answers are counted even though the caller only
//! sees the final outcome, and the time spent in attempts (span creation to close: send,
//! server work, body read).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// What one connector's client saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Seen {
    /// Attempts answered with a status.
    pub(crate) attempts: u64,
    /// Attempts answered 429.
    pub(crate) limited: u64,
    /// Seconds spent inside attempts (summed over concurrent attempts).
    pub(crate) busy_secs: f64,
}

/// Per-connector counts.
#[derive(Clone, Default)]
pub(crate) struct StatusCounts(Arc<Mutex<BTreeMap<String, Seen>>>);

impl StatusCounts {
    /// What one connector saw so far.
    pub(crate) fn get(&self, connector: &str) -> Seen {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(connector)
            .copied()
            .unwrap_or_default()
    }

    fn add(&self, connector: &str, status: u64) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let e = m.entry(connector.to_owned()).or_default();
        e.attempts += 1;
        if status == 429 {
            e.limited += 1;
        }
    }

    fn busy(&self, connector: &str, secs: f64) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        m.entry(connector.to_owned()).or_default().busy_secs += secs;
    }
}

struct Connector(String);
struct Opened(Instant);

#[derive(Default)]
struct Fields {
    connector: Option<String>,
    status: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "status" {
            self.status = u64::try_from(value).ok();
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "connector" {
            self.connector = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "connector" {
            self.connector = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// The layer.
pub(crate) struct StatusLayer(pub(crate) StatusCounts);

fn wanted(m: &Metadata<'_>) -> bool {
    m.is_span() && m.name() == "http.request"
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatusLayer {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if wanted(m) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, m: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(m)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            ext.insert(Opened(Instant::now()));
            if let Some(c) = f.connector {
                ext.insert(Connector(c));
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            let ext = span.extensions();
            if let (Some(opened), Some(c)) = (ext.get::<Opened>(), ext.get::<Connector>()) {
                self.0.busy(&c.0, opened.0.elapsed().as_secs_f64());
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        values.record(&mut f);
        let Some(status) = f.status else { return };
        if let Some(span) = ctx.span(id) {
            let ext = span.extensions();
            let name = ext.get::<Connector>().map_or("unknown", |c| c.0.as_str());
            self.0.add(name, status);
        }
    }
}
