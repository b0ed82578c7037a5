//! The storage engine: committer and materializer threads, recovery, checkpoints.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hakobune_index::{Checkpoint, Entry, Index};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};

use crate::quarantine::Quarantine;
use crate::txstore::TxStorage;
use crate::wal::{self, Record};
use crate::{Layout, StoreError, tree};

/// Tuning of the engine. Defaults suit the appliance.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// A WAL segment is closed when it would grow past this.
    pub wal_segment_bytes: u64,
    /// Longest time between checkpoints while records are being applied.
    pub checkpoint_interval: Duration,
    /// Most submissions in one group commit.
    pub max_batch: usize,
    /// Below this many free bytes on the data filesystem, new data is refused.
    pub free_space_floor: u64,
    /// Volume label written to the index (SSMIXIDX VolumeLabel).
    pub volume_label: String,
    /// Most records the materializer may lag behind the write-ahead log before new messages wait.
    pub max_unapplied: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            wal_segment_bytes: 32 * 1024 * 1024,
            checkpoint_interval: Duration::from_millis(1000),
            max_batch: 4096,
            free_space_floor: 256 * 1024 * 1024,
            volume_label: "STD01".into(),
            max_unapplied: 200_000,
        }
    }
}

/// One message to store. `entry.wal_seq`, `byte_len` and `sha256` are filled in by the engine; the
/// engine may also move `transaction_datetime` (and with it `stem`) forward by whole milliseconds
/// when another message of the same key already has that file name.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Where and how to store it.
    pub entry: Entry,
    /// The message bytes as received.
    pub raw: Vec<u8>,
}

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durable under this sequence number, to be stored under this file name.
    Stored {
        /// WAL sequence number.
        seq: u64,
        /// File name in the storage tree (condition flag included).
        file_name: String,
    },
    /// The same facility already sent this control ID with these exact bytes: nothing new stored.
    Duplicate,
}

/// What [`Store::open`] found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecoveryReport {
    /// True when the data directory was new (no previous run to recover).
    pub fresh: bool,
    /// Whether the previous run ended with an orderly shutdown (true for a fresh data directory:
    /// there was no previous run to lose anything).
    pub previous_shutdown_clean: bool,
    /// Checkpoint found in the index.
    pub checkpoint: u64,
    /// Highest sequence number in the WAL.
    pub last_seq: u64,
    /// Records applied again.
    pub replayed: u64,
    /// Bytes of a torn, unacknowledged write cut from the WAL.
    pub truncated_bytes: u64,
    /// Time taken.
    pub millis: u64,
}

/// Live counters of the engine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// Highest durable (acknowledgeable) sequence number.
    pub committed_seq: u64,
    /// Highest sequence number materialized into files and index rows.
    pub applied_seq: u64,
    /// Highest sequence number covered by a durable checkpoint.
    pub checkpoint_seq: u64,
    /// Group commits done.
    pub group_commits: u64,
    /// Messages stored.
    pub stored: u64,
    /// Duplicates recognised.
    pub duplicates: u64,
    /// Free bytes on the data filesystem at the last check.
    pub free_bytes: u64,
    /// Set when the engine stopped on an error; the message says which.
    pub fatal: Option<String>,
}

type Reply = oneshot::Sender<Result<Outcome, StoreError>>;

struct Pending {
    sub: Submission,
    reply: Reply,
}

enum Job {
    /// Store a message.
    Store { sub: Box<Submission>, reply: Reply },
    /// Answer as soon as the committer gets to it (liveness probe for the systemd watchdog).
    Ping(oneshot::Sender<()>),
}

#[derive(Default)]
struct Shared {
    committed: AtomicU64,
    applied: AtomicU64,
    checkpoint: AtomicU64,
    group_commits: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    free_bytes: AtomicU64,
    stopped: AtomicBool,
    fatal: Mutex<Option<String>>,
}

impl Shared {
    fn fail(&self, what: &str, err: &StoreError) {
        tracing::error!(error = %err, "{what}: storage engine stopped");
        self.stopped.store(true, Ordering::SeqCst);
        let mut f = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(format!("{what}: {err}"));
        }
    }
}

/// The storage engine. See the crate documentation for the protocol.
pub struct Store {
    layout: Layout,
    shared: Arc<Shared>,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    applied_rx: watch::Receiver<u64>,
    quarantine: Quarantine,
    _lock: File,
}

const CLEAN_MARKER: &str = "clean-shutdown";

impl Store {
    /// Opens the data directory, recovers, and starts the engine's threads.
    pub fn open(layout: Layout, opts: StoreOptions) -> Result<(Store, RecoveryReport), StoreError> {
        let started = Instant::now();
        let root = layout.root().to_owned();
        for d in [root.clone(), layout.wal_dir(), layout.tmp_dir(), layout.quarantine_dir(), layout.ssmix2_base()] {
            std::fs::create_dir_all(&d).map_err(StoreError::io("create directory", &d))?;
        }
        let fresh = !layout.index_path().exists();
        let lock = lock_data_dir(&layout)?;
        let marker = root.join(CLEAN_MARKER);
        let marker_found = marker.exists();
        let previous_shutdown_clean = marker_found || fresh;
        if marker_found {
            std::fs::remove_file(&marker).map_err(StoreError::io("remove", &marker))?;
            crate::fsync_dir(&root)?;
        }
        clear_dir(&layout.tmp_dir())?;
        wal::remove_unfinished_segments(&layout.wal_dir())?;

        let mut index = Index::open(&layout.index_path())?;
        let cp = index.checkpoint()?;
        let scan = wal::scan(&layout.wal_dir(), cp.wal_seq)?;
        let mut txs = TxStorage::recover(&layout, &cp.store_state)?;
        let replayed = scan.records.len() as u64;
        if replayed > 0 {
            tracing::info!(from = cp.wal_seq + 1, to = scan.last_seq, "replaying write-ahead log into storage");
        }
        for chunk in scan.records.chunks(2048) {
            apply_records(&layout, &mut index, &mut txs, chunk)?;
        }
        let last_seq = scan.last_seq.max(cp.wal_seq);
        if replayed > 0 || cp.wal_seq == 0 {
            checkpoint(&layout, &mut index, &mut txs, last_seq)?;
        }
        let report = RecoveryReport {
            fresh,
            previous_shutdown_clean,
            checkpoint: cp.wal_seq,
            last_seq,
            replayed,
            truncated_bytes: scan.truncated_bytes,
            millis: started.elapsed().as_millis() as u64,
        };

        let shared = Arc::new(Shared::default());
        shared.committed.store(last_seq, Ordering::SeqCst);
        shared.applied.store(last_seq, Ordering::SeqCst);
        shared.checkpoint.store(last_seq, Ordering::SeqCst);
        shared.free_bytes.store(free_bytes(&root).unwrap_or(0), Ordering::SeqCst);

        let writer = wal::Writer::open(&layout.wal_dir(), last_seq + 1, opts.wal_segment_bytes, scan.tail_end)?;
        let reader = Index::open_read_only(&layout.index_path())?;
        let (tx, rx) = mpsc::channel::<Job>(16 * 1024);
        let (mat_tx, mat_rx) = std_mpsc::channel::<u64>();
        let (applied_tx, applied_rx) = watch::channel(last_seq);

        let committer = {
            let shared = shared.clone();
            let opts = opts.clone();
            let root = root.clone();
            std::thread::Builder::new()
                .name("hkb-committer".into())
                .spawn(move || committer_loop(rx, writer, reader, shared, mat_tx, opts, root, last_seq + 1))
                .map_err(StoreError::io("spawn thread", "committer"))?
        };
        let materializer = {
            let shared = shared.clone();
            let layout = layout.clone();
            std::thread::Builder::new()
                .name("hkb-materializer".into())
                .spawn(move || {
                    let reader = wal::Reader::new(&layout.wal_dir(), last_seq + 1);
                    materializer_loop(mat_rx, reader, index, txs, layout, shared, opts, applied_tx)
                })
                .map_err(StoreError::io("spawn thread", "materializer"))?
        };
        let quarantine = Quarantine::new(layout.quarantine_dir(), layout.tmp_dir());
        let store = Store {
            layout,
            shared,
            sender: Mutex::new(Some(tx)),
            threads: Mutex::new(vec![committer, materializer]),
            applied_rx,
            quarantine,
            _lock: lock,
        };
        Ok((store, report))
    }

    /// Stores one message. Resolves once it is durable (or refused); only then may it be
    /// acknowledged to the sender.
    pub async fn submit(&self, sub: Submission) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.sender()?.send(Job::Store { sub: Box::new(sub), reply }).await.map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)?
    }

    /// The committer's queue, while the engine runs.
    fn sender(&self) -> Result<mpsc::Sender<Job>, StoreError> {
        if self.shared.stopped.load(Ordering::SeqCst) {
            return Err(StoreError::Stopped);
        }
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or(StoreError::Stopped)
    }

    /// Round trip through the committer thread: proves the acknowledging path is alive.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.sender()?.send(Job::Ping(tx)).await.map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)
    }

    /// Waits until every record up to `seq` is materialized (files and index rows exist).
    pub async fn wait_applied(&self, seq: u64) -> Result<(), StoreError> {
        let mut rx = self.applied_rx.clone();
        rx.wait_for(|&a| a >= seq).await.map(|_| ()).map_err(|_| StoreError::Stopped)
    }

    /// Live counters.
    pub fn status(&self) -> Status {
        let s = &self.shared;
        Status {
            committed_seq: s.committed.load(Ordering::SeqCst),
            applied_seq: s.applied.load(Ordering::SeqCst),
            checkpoint_seq: s.checkpoint.load(Ordering::SeqCst),
            group_commits: s.group_commits.load(Ordering::Relaxed),
            stored: s.stored.load(Ordering::Relaxed),
            duplicates: s.duplicates.load(Ordering::Relaxed),
            free_bytes: s.free_bytes.load(Ordering::Relaxed),
            fatal: s.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// The data directory layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The quarantine.
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// Orderly shutdown: refuses new submissions, commits and materializes everything already
    /// submitted, takes a final checkpoint and writes the clean-shutdown marker. Blocking.
    pub fn close(&self) -> Result<(), StoreError> {
        let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(sender);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        if let Some(f) = self.status().fatal {
            tracing::warn!(%f, "not marking the shutdown clean");
            return Ok(());
        }
        Index::open(&self.layout.index_path())?.truncate_wal()?;
        let marker = self.layout.root().join(CLEAN_MARKER);
        File::create(&marker).and_then(|f| f.sync_all()).map_err(StoreError::io("create", &marker))?;
        crate::fsync_dir(self.layout.root())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Stop the threads before the data-directory lock is released. No clean-shutdown marker is
        // written: an un-closed store is verified and replayed from the WAL at the next open.
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

fn lock_data_dir(layout: &Layout) -> Result<File, StoreError> {
    let path = layout.lock_path();
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(StoreError::io("open", &path))?;
    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| StoreError::Locked(layout.root().to_owned()))?;
    Ok(f)
}

fn clear_dir(dir: &Path) -> Result<(), StoreError> {
    for ent in std::fs::read_dir(dir).map_err(StoreError::io("read directory", dir))?.flatten() {
        let p = ent.path();
        std::fs::remove_file(&p).map_err(StoreError::io("remove", &p))?;
    }
    Ok(())
}

fn free_bytes(root: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(root).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn now_local() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Applies records to tree, transaction storage and index (one index transaction).
fn apply_records(
    layout: &Layout,
    index: &mut Index,
    txs: &mut TxStorage,
    records: &[Record],
) -> Result<(), StoreError> {
    let now = now_local();
    for r in records {
        tree::apply(layout, &r.entry, &r.raw, &format!("{}.tmp", r.seq))?;
        txs.append(&r.entry, &r.raw)?;
    }
    let mut batch = index.batch()?;
    for r in records {
        batch.apply(&r.entry, &now)?;
    }
    batch.commit()?;
    Ok(())
}

/// Makes everything applied so far durable, then records the checkpoint.
fn checkpoint(layout: &Layout, index: &mut Index, txs: &mut TxStorage, seq: u64) -> Result<(), StoreError> {
    txs.flush()?;
    durable_checkpoint(layout, index, seq, txs.checkpoint_state())
}

/// Logs a storage step that took long enough to be felt as ACK latency.
fn slow(what: &str, started: Instant, records: usize) {
    let took = started.elapsed();
    if took >= Duration::from_millis(250) {
        tracing::warn!(millis = took.as_millis() as u64, records, "slow storage step: {what}");
    }
}

/// Adds one millisecond to a 17-digit timestamp (carrying into seconds, minutes… as a clock does).
fn bump_ts17(ts: &str) -> String {
    let fmt = time::macros::format_description!("[year][month][day][hour][minute][second][subsecond digits:3]");
    match time::PrimitiveDateTime::parse(ts, &fmt) {
        Ok(t) => (t + time::Duration::milliseconds(1)).format(&fmt).unwrap_or_else(|_| ts.to_owned()),
        Err(_) => match ts.parse::<u64>() {
            Ok(n) => format!("{:017}", n + 1),
            Err(_) => format!("{ts}0"),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn committer_loop(
    mut rx: mpsc::Receiver<Job>,
    mut wal: wal::Writer,
    index: Index,
    shared: Arc<Shared>,
    mat_tx: std_mpsc::Sender<u64>,
    opts: StoreOptions,
    root: std::path::PathBuf,
    mut next_seq: u64,
) {
    // Messages and file names committed but perhaps not yet visible in the index, by sequence.
    let mut pending_msgs: HashMap<String, u64> = HashMap::new();
    let mut pending_stems: HashMap<String, u64> = HashMap::new();
    let mut pruned_at = 0u64;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut last_space_check = Instant::now();
    while let Some(first) = rx.blocking_recv() {
        // The materializer reads committed records back from the log, so it may lag behind a burst;
        // past `max_unapplied` records the committer waits for it (and senders wait for ACKs).
        let t = Instant::now();
        while shared.committed.load(Ordering::SeqCst).saturating_sub(shared.applied.load(Ordering::SeqCst))
            > opts.max_unapplied
            && !shared.stopped.load(Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        slow("waiting for the materializer to catch up", t, 0);
        let mut jobs = vec![first];
        while jobs.len() < opts.max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        // Entries at or below a checkpoint are in the index now: forget them, once per checkpoint
        // (not once per batch: during a long materializer lag the maps hold many entries).
        let cp = shared.checkpoint.load(Ordering::SeqCst);
        if cp > pruned_at {
            pending_msgs.retain(|_, s| *s > cp);
            pending_stems.retain(|_, s| *s > cp);
            pruned_at = cp;
        }
        if last_space_check.elapsed() > Duration::from_millis(500) {
            shared.free_bytes.store(free_bytes(&root).unwrap_or(0), Ordering::Relaxed);
            last_space_check = Instant::now();
        }
        let free = shared.free_bytes.load(Ordering::Relaxed);
        buf.clear();
        let first_seq = next_seq;
        let mut records = Vec::new();
        let mut replies: Vec<(Reply, Result<Outcome, StoreError>)> = Vec::new();
        for job in jobs {
            let (sub, reply) = match job {
                Job::Store { sub, reply } => (*sub, reply),
                Job::Ping(pong) => {
                    let _ = pong.send(());
                    continue;
                }
            };
            let job = Pending { sub, reply };
            if shared.stopped.load(Ordering::SeqCst) {
                let _ = job.reply.send(Err(StoreError::Stopped));
                continue;
            }
            if free < opts.free_space_floor {
                let _ = job.reply.send(Err(StoreError::DiskFull { free, floor: opts.free_space_floor }));
                continue;
            }
            match prepare(job.sub, &index, &pending_msgs, &pending_stems, next_seq, &opts) {
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
                Ok(Prepared::Duplicate) => {
                    shared.duplicates.fetch_add(1, Ordering::Relaxed);
                    replies.push((job.reply, Ok(Outcome::Duplicate)));
                }
                Ok(Prepared::New(entry, raw, dkey, skey)) => {
                    let seq = next_seq;
                    next_seq += 1;
                    wal::encode(&mut buf, seq, &entry, &raw);
                    pending_msgs.insert(dkey, seq);
                    pending_stems.insert(skey, seq);
                    let file_name = format!(
                        "{}_{}",
                        entry.stem,
                        if entry.processing == hakobune_index::Processing::Del { '0' } else { '1' }
                    );
                    replies.push((job.reply, Ok(Outcome::Stored { seq, file_name })));
                    records.push(Record { seq, entry: *entry, raw });
                }
            }
        }
        if !records.is_empty() {
            let t = Instant::now();
            let appended = wal.append_durable(first_seq, &buf);
            slow("write-ahead log group commit", t, records.len());
            if let Err(e) = appended {
                shared.fail("write-ahead log append", &e);
                for (reply, _) in replies {
                    let _ = reply.send(Err(StoreError::Stopped));
                }
                break;
            }
            shared.committed.store(next_seq - 1, Ordering::SeqCst);
            shared.group_commits.fetch_add(1, Ordering::Relaxed);
            shared.stored.fetch_add(records.len() as u64, Ordering::Relaxed);
            let _ = mat_tx.send(next_seq - 1);
        }
        for (reply, r) in replies {
            let _ = reply.send(r);
        }
    }
}

enum Prepared {
    Duplicate,
    New(Box<Entry>, Vec<u8>, String, String),
}

fn prepare(
    sub: Submission,
    index: &Index,
    pending_msgs: &HashMap<String, u64>,
    pending_stems: &HashMap<String, u64>,
    seq: u64,
    opts: &StoreOptions,
) -> Result<Prepared, StoreError> {
    let Submission { mut entry, raw } = sub;
    let sha = crate::sha256_hex(&raw);
    let dkey = format!("{}\u{1f}{}\u{1f}{}", entry.facility_id, entry.control_id, sha);
    if pending_msgs.contains_key(&dkey) || index.contains_message(&entry.facility_id, &entry.control_id, &sha)? {
        return Ok(Prepared::Duplicate);
    }
    entry.sha256 = sha;
    entry.byte_len = raw.len() as u64;
    entry.wal_seq = seq;
    entry.volume_label = opts.volume_label.clone();
    loop {
        let skey = format!("{}/{}/{}", entry.facility_id, entry.out_rel_directory, entry.stem);
        if !pending_stems.contains_key(&skey)
            && !index.stem_exists(&entry.facility_id, &entry.out_rel_directory, &entry.stem)?
        {
            return Ok(Prepared::New(Box::new(entry), raw, dkey, skey));
        }
        // Another message of this key already has this 発生日時: keep both by moving this one on.
        entry.transaction_datetime = bump_ts17(&entry.transaction_datetime);
        entry.stem = format!("{}{}_{}", entry.key_prefix, entry.transaction_datetime, entry.enter_org_cd);
    }
}

#[allow(clippy::too_many_arguments)]
fn materializer_loop(
    rx: std_mpsc::Receiver<u64>,
    mut reader: wal::Reader,
    mut index: Index,
    mut txs: TxStorage,
    layout: Layout,
    shared: Arc<Shared>,
    opts: StoreOptions,
    applied_tx: watch::Sender<u64>,
) {
    // Checkpoints run on their own thread so that syncfs, which can take a while under load, does
    // not stall materialization (and through it, the group commits that wait for queue space).
    let (cp_tx, cp_rx) = std_mpsc::sync_channel::<(u64, String)>(1);
    let checkpointer = {
        let layout = layout.clone();
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("hkb-checkpoint".into())
            .spawn(move || checkpointer_loop(cp_rx, layout, shared))
    };
    let checkpointer = match checkpointer {
        Ok(t) => t,
        Err(e) => {
            shared.fail(
                "starting the checkpoint thread",
                &StoreError::Io { op: "spawn", path: "checkpoint".into(), source: e },
            );
            return;
        }
    };
    let mut last_cp = Instant::now();
    let mut since_cp = 0usize;
    let mut applied = shared.applied.load(Ordering::SeqCst);
    let mut target = applied;
    loop {
        let done = match rx.recv_timeout(opts.checkpoint_interval / 4) {
            Ok(seq) => {
                target = target.max(seq);
                while let Ok(seq) = rx.try_recv() {
                    target = target.max(seq);
                }
                false
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => false,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                target = target.max(shared.committed.load(Ordering::SeqCst));
                true
            }
        };
        let mut failed = false;
        while reader.next_seq() <= target {
            let t = Instant::now();
            let result = reader
                .read_up_to(target, 256)
                .and_then(|records| apply_records(&layout, &mut index, &mut txs, &records).map(|()| records));
            let records = match result {
                Ok(r) => r,
                Err(e) => {
                    shared.fail("materializing stored messages", &e);
                    failed = true;
                    break;
                }
            };
            slow("materializing", t, records.len());
            applied = records.last().map(|r| r.seq).unwrap_or(applied);
            since_cp += records.len();
            shared.applied.store(applied, Ordering::SeqCst);
            let _ = applied_tx.send(applied);
            if since_cp >= 50_000 || last_cp.elapsed() >= opts.checkpoint_interval {
                break; // let a checkpoint happen during a long catch-up
            }
        }
        if failed {
            break;
        }
        let done = done && reader.next_seq() > target;
        if since_cp > 0 && (done || last_cp.elapsed() >= opts.checkpoint_interval || since_cp >= 50_000) {
            // Everything up to `applied` has been issued to the OS; the checkpointer's syncfs makes
            // it durable before recording the checkpoint.
            if let Err(e) = txs.flush() {
                shared.fail("flushing transaction storage", &e);
                break;
            }
            let job = (applied, txs.checkpoint_state());
            let sent = if done {
                cp_tx.send(job).map_err(|_| ())
            } else {
                match cp_tx.try_send(job) {
                    Ok(()) => Ok(()),
                    Err(std_mpsc::TrySendError::Full(_)) => Err(()), // busy: try again soon
                    Err(std_mpsc::TrySendError::Disconnected(_)) => break,
                }
            };
            if sent.is_ok() {
                since_cp = 0;
                last_cp = Instant::now();
            }
        }
        if done {
            break;
        }
    }
    drop(cp_tx);
    let _ = checkpointer.join();
}

fn checkpointer_loop(rx: std_mpsc::Receiver<(u64, String)>, layout: Layout, shared: Arc<Shared>) {
    let mut index = match Index::open(&layout.index_path()) {
        Ok(ix) => ix,
        Err(e) => {
            shared.fail("opening the index for checkpoints", &e.into());
            return;
        }
    };
    while let Ok((seq, store_state)) = rx.recv() {
        let t = Instant::now();
        let result = durable_checkpoint(&layout, &mut index, seq, store_state);
        slow("checkpoint (syncfs)", t, 0);
        if let Err(e) = result {
            shared.fail("checkpoint", &e);
            return;
        }
        shared.checkpoint.store(seq, Ordering::SeqCst);
    }
}

/// syncfs, then the checkpoint row, then old WAL segments go.
fn durable_checkpoint(layout: &Layout, index: &mut Index, seq: u64, store_state: String) -> Result<(), StoreError> {
    let root = File::open(layout.root()).map_err(StoreError::io("open", layout.root()))?;
    rustix::fs::syncfs(&root).map_err(|e| StoreError::Io {
        op: "syncfs",
        path: layout.root().to_owned(),
        source: e.into(),
    })?;
    let mut batch = index.batch()?;
    batch.set_checkpoint(&Checkpoint { wal_seq: seq, store_state })?;
    batch.commit()?;
    wal::remove_checkpointed(&layout.wal_dir(), seq)?;
    Ok(())
}

#[cfg(test)]
mod unit {
    #[test]
    fn bump_ts17_carries_like_a_clock() {
        assert_eq!(super::bump_ts17("20111220224447339"), "20111220224447340");
        assert_eq!(super::bump_ts17("20111231235959999"), "20120101000000000");
    }
}
