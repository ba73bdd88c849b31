//! The trace: every change the guest makes to its directory, as the interposer saw it.
//!
//! A [`Recorder`] is shared by every store of one run (it rides in the
//! [`FaultPlan`](walogs_host::interpose::FaultPlan)); the interposer resolves each WASI call to a file or a
//! directory of the preopen and appends an [`FsEvent`]. Files are named by a [`FileId`] (an
//! inode: it survives renames and unlinks), directories by their path under the preopen
//! (`""` is the preopen itself).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use walogs_host::interpose::FsObserver;
pub use walogs_host::interpose::{FileId, Node};

/// One change to the filesystem, in the order the guest made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsEvent {
    /// A new, empty file linked as `name` in `dir`.
    Create {
        /// The directory.
        dir: String,
        /// The entry name.
        name: String,
        /// The new file.
        file: FileId,
    },
    /// A new directory `name` in `dir`.
    MkDir {
        /// The parent directory.
        dir: String,
        /// The entry name.
        name: String,
    },
    /// Bytes written to a file.
    Write {
        /// The file.
        file: FileId,
        /// Where; `None` appends at the end (a stream opened with `append-via-stream`).
        offset: Option<u64>,
        /// What reached the file (for a torn or short write, only that part).
        data: Arc<[u8]>,
    },
    /// A file cut or extended (`set-size`, or an open with `truncate`).
    SetSize {
        /// The file.
        file: FileId,
        /// Its new size.
        size: u64,
    },
    /// A successful `sync` or `sync-data`: a file's data, or a directory's entries, are
    /// durable.
    Sync {
        /// What was synced.
        node: Node,
    },
    /// A failed sync. Like Linux after an fsync error, the file's unsynced writes are lost
    /// for good: a later successful sync does not bring them back.
    SyncFailed {
        /// What failed to sync.
        node: Node,
    },
    /// An entry removed (`unlink-file-at`).
    Unlink {
        /// The directory.
        dir: String,
        /// The entry name.
        name: String,
    },
    /// A directory removed (`remove-directory-at`).
    RmDir {
        /// The parent directory.
        dir: String,
        /// The entry name.
        name: String,
    },
    /// An entry renamed, replacing any entry at the target.
    Rename {
        /// The source directory.
        from_dir: String,
        /// The source name.
        from: String,
        /// The target directory.
        to_dir: String,
        /// The target name.
        to: String,
    },
}

/// The recorded run: the names the guest can see now, and the events so far.
#[derive(Debug, Default)]
struct Trace {
    /// Every entry under the preopen by full path (`"a/b"`), as the guest sees it now.
    names: BTreeMap<String, Node>,
    next_file: FileId,
    events: Vec<FsEvent>,
    problems: Vec<String>,
}

/// A shared, growing trace of [`FsEvent`]s. Cloning shares it; two recorders are equal
/// when they share one trace.
#[derive(Clone)]
pub struct Recorder(Arc<Mutex<Trace>>);

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("events", &self.len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Recorder {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Recorder {}

impl Recorder {
    /// A recorder for a directory whose entries are `names` (full paths under the preopen);
    /// new files get ids from `next_file` on.
    pub fn new(names: BTreeMap<String, Node>, next_file: FileId) -> Self {
        Self(Arc::new(Mutex::new(Trace {
            names,
            next_file,
            ..Trace::default()
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Trace> {
        // A panic while recording leaves a usable trace: keep going.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Events recorded so far.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the events recorded so far.
    pub fn events(&self) -> Vec<FsEvent> {
        self.lock().events.clone()
    }

    /// Calls the recorder could not map onto the model (a file it never saw created, a
    /// descriptor it does not know). Empty when the trace is complete.
    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    fn push(&self, event: FsEvent) {
        self.lock().events.push(event);
    }

    /// This recorder as the observer a [`FaultPlan`](walogs_host::interpose::FaultPlan)
    /// carries (sharing the trace).
    pub fn observer(&self) -> Arc<dyn FsObserver> {
        Arc::new(self.clone())
    }
}

/// The interposer's calls become events of the trace.
impl FsObserver for Recorder {
    /// Records a creation or truncation, and returns what the descriptor refers to.
    fn opened(&self, dir: &str, path: &str, is_dir: bool, create: bool, truncate: bool) -> Node {
        let full = resolve(dir, path);
        if is_dir {
            return Node::Dir(full);
        }
        let mut trace = self.lock();
        let file = match trace.names.get(&full) {
            Some(Node::File(id)) => *id,
            found => {
                if found.is_some() || !create {
                    let msg = format!("opened {full:?}, which the trace does not know as a file");
                    trace.problems.push(msg);
                }
                let id = trace.next_file;
                trace.next_file += 1;
                trace.names.insert(full.clone(), Node::File(id));
                let (dir, name) = split(&full);
                trace.events.push(FsEvent::Create {
                    dir,
                    name,
                    file: id,
                });
                id
            }
        };
        if truncate {
            trace.events.push(FsEvent::SetSize { file, size: 0 });
        }
        Node::File(file)
    }

    /// Bytes reached a file.
    fn wrote(&self, file: FileId, offset: Option<u64>, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let data = Arc::from(data);
        self.push(FsEvent::Write { file, offset, data });
    }

    /// A file's size was set.
    fn set_size(&self, file: FileId, size: u64) {
        self.push(FsEvent::SetSize { file, size });
    }

    /// A sync of `node` succeeded (`ok`) or failed.
    fn synced(&self, node: Node, ok: bool) {
        self.push(if ok {
            FsEvent::Sync { node }
        } else {
            FsEvent::SyncFailed { node }
        });
    }

    /// A descriptor the interposer does not know was used for `what`.
    fn problem(&self, what: String) {
        self.lock().problems.push(what);
    }

    /// `path` under `dir` was unlinked (a file) or removed (a directory).
    fn removed(&self, dir: &str, path: &str, is_dir: bool) {
        let full = resolve(dir, path);
        let mut trace = self.lock();
        trace.names.retain(|n, _| n != &full && !is_under(n, &full));
        let (dir, name) = split(&full);
        trace.events.push(if is_dir {
            FsEvent::RmDir { dir, name }
        } else {
            FsEvent::Unlink { dir, name }
        });
    }

    /// A directory `path` was created under `dir`.
    fn made_dir(&self, dir: &str, path: &str) {
        let full = resolve(dir, path);
        let mut trace = self.lock();
        trace.names.insert(full.clone(), Node::Dir(full.clone()));
        let (dir, name) = split(&full);
        trace.events.push(FsEvent::MkDir { dir, name });
    }

    /// `from` (under `from_dir`) was renamed to `to` (under `to_dir`).
    fn renamed(&self, from_dir: &str, from: &str, to_dir: &str, to: &str) {
        let (src, dst) = (resolve(from_dir, from), resolve(to_dir, to));
        let mut trace = self.lock();
        let Some(node) = trace.names.remove(&src) else {
            trace
                .problems
                .push(format!("renamed {src:?}, which the trace does not know"));
            return;
        };
        trace.names.insert(dst.clone(), node);
        let ((from_dir, from), (to_dir, to)) = (split(&src), split(&dst));
        trace.events.push(FsEvent::Rename {
            from_dir,
            from,
            to_dir,
            to,
        });
    }
}

/// `path` resolved against directory `dir`: a normalised relative path (`.` and empty
/// components dropped, `..` applied, never above the preopen).
pub fn resolve(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A full path split into its directory and its last component.
pub fn split(full: &str) -> (String, String) {
    match full.rsplit_once('/') {
        Some((dir, name)) => (dir.to_owned(), name.to_owned()),
        None => (String::new(), full.to_owned()),
    }
}

/// Whether `path` lies inside directory `dir` (both full paths).
fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_the_preopen() {
        assert_eq!(resolve("", "."), "");
        assert_eq!(resolve("", "./wal-000001.log"), "wal-000001.log");
        assert_eq!(resolve("a", "../b/c"), "b/c");
        assert_eq!(resolve("", "../../x"), "x");
        assert_eq!(split("a/b/c"), ("a/b".into(), "c".into()));
        assert_eq!(split("c"), (String::new(), "c".into()));
    }

    #[test]
    fn the_recorder_names_files_by_inode() {
        let rec = Recorder::new(BTreeMap::new(), 7);
        assert_eq!(rec.opened("", "x", false, true, false), Node::File(7));
        assert_eq!(rec.opened("", "./x", false, false, true), Node::File(7));
        rec.renamed("", "x", "", "y");
        assert_eq!(rec.opened("", "y", false, false, false), Node::File(7));
        assert!(rec.problems().is_empty());
        assert_eq!(rec.opened("", "z", false, false, false), Node::File(8));
        assert_eq!(rec.problems().len(), 1);
        let events = rec.events();
        assert!(matches!(events[0], FsEvent::Create { file: 7, .. }));
        assert!(matches!(events[1], FsEvent::SetSize { file: 7, size: 0 }));
        assert!(matches!(events[2], FsEvent::Rename { .. }));
    }
}
