//! Reader threads: read-only connections that answer reads beside the writer thread.
//!
//! In WAL mode readers never block the writer nor wait for it, so the keyed reads of a
//! worker's batch (ledgers, property hashes, CRM ids, links) do not queue behind intake's
//! group commits, and intake's acks do not queue behind them. A read sees every commit that
//! answered before it started (each read is its own read transaction), which is what callers
//! rely on: a write's future resolves only after its commit.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use cartograph_sync::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// Handle to the reader threads.
pub(crate) struct Reader {
    sender: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Reader {
    /// Starts one thread per connection; they take jobs from one shared channel.
    pub(crate) fn spawn(connections: Vec<Connection>) -> StoreResult<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::with_capacity(connections.len());
        for (n, conn) in connections.into_iter().enumerate() {
            let receiver = Arc::clone(&receiver);
            let thread = std::thread::Builder::new()
                .name(format!("cartograph-sqlite-reader-{n}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let rx = receiver
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            rx.recv()
                        };
                        match job {
                            Ok(job) => job(&conn),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| StoreError::Backend(format!("cannot start reader thread: {e}")))?;
            threads.push(thread);
        }
        Ok(Self {
            sender: Some(sender),
            threads,
        })
    }

    /// Runs `f` on a reader connection.
    pub(crate) async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.sender
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.sender.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
