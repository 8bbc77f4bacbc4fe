//! The single writer thread: owns the connection and commits jobs in groups.
//!
//! Every operation is a job sent over a channel. The thread takes every job that is waiting
//! (and, when a group window is set, those arriving within it), runs them in ONE transaction,
//! each inside its own savepoint so a failing job does not undo the others, commits once, and
//! only then answers each caller. One fsync thus covers many events, which is what lets
//! intake acknowledge thousands of webhooks per second durably.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cartograph_sync::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// One queued operation: run it inside the group transaction, or answer it with an error
/// without running it.
trait Task: Send {
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Reply);
    fn abort(self: Box<Self>, error: StoreError);
}

type Job = Box<dyn Task>;

struct Call<T, F> {
    f: F,
    tx: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Task for Call<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Reply) {
        let Call { f, tx } = *self;
        let result = f(conn);
        let ok = result.is_ok();
        let reply: Reply = Box::new(move |commit| {
            let out = match commit {
                Ok(()) => result,
                Err(e) => result.and(Err(e)),
            };
            let _ = tx.send(out);
        });
        (ok, reply)
    }

    fn abort(self: Box<Self>, error: StoreError) {
        let _ = self.tx.send(Err(error));
    }
}

/// Handle to the writer thread.
pub(crate) struct Writer {
    sender: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(crate) fn spawn(conn: Connection, window: Duration, max_group: usize) -> StoreResult<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("cartograph-sqlite-writer".into())
            .spawn(move || run(&conn, &receiver, window, max_group.max(1)))
            .map_err(|e| StoreError::Backend(format!("cannot start writer thread: {e}")))?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the writer thread inside the next group transaction; answers after commit.
    pub(crate) async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(Call { f, tx });
        self.sender
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel lets the thread finish the jobs already queued, then exit.
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, receiver: &mpsc::Receiver<Job>, window: Duration, max_group: usize) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        collect(receiver, &mut group, window, max_group);
        commit_group(conn, group);
    }
}

fn collect(receiver: &mpsc::Receiver<Job>, group: &mut Vec<Job>, window: Duration, max: usize) {
    let deadline = Instant::now() + window;
    while group.len() < max {
        match receiver.try_recv() {
            Ok(job) => group.push(job),
            Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {
                let now = Instant::now();
                if now >= deadline {
                    return;
                }
                match receiver.recv_timeout(deadline - now) {
                    Ok(job) => group.push(job),
                    Err(_) => return,
                }
            }
        }
    }
}

fn commit_group(conn: &Connection, group: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let err = map_begin_error(&e);
        for job in group {
            job.abort(clone_error(&err));
        }
        return;
    }
    let mut replies = Vec::with_capacity(group.len());
    for job in group {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            job.abort(StoreError::Backend(format!("cannot open savepoint: {e}")));
            continue;
        }
        let (ok, reply) = job.run(conn);
        if ok {
            let _ = conn.execute_batch("RELEASE job");
        } else {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
        }
        replies.push(reply);
    }
    let commit = conn
        .execute_batch("COMMIT")
        .map_err(|e| StoreError::Unavailable(format!("commit failed: {e}")));
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(match &commit {
            Ok(()) => Ok(()),
            Err(e) => Err(clone_error(e)),
        });
    }
}

fn map_begin_error(e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("cannot begin transaction: {e}"))
}

fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::NotFound(m) => StoreError::NotFound(m.clone()),
        StoreError::Corrupt { what, reason } => StoreError::Corrupt {
            what: what.clone(),
            reason: reason.clone(),
        },
        StoreError::Closed => StoreError::Closed,
        other => StoreError::Backend(other.to_string()),
    }
}
