//! The filesystem model: per file, what a sync made durable and what is only in the page
//! cache; per directory, which entries a directory sync made durable. Replaying a trace
//! prefix into it gives the state a crash at that point can leave.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::image::Image;
pub use super::power::{Fill, PowerLoss};
use super::trace::{FileId, FsEvent, Node, Recorder};

/// A change to a file not yet made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileOp {
    /// Bytes written at an offset.
    Write { offset: u64, data: Arc<[u8]> },
    /// The size set.
    SetSize(u64),
}

/// A change to a directory's entries not yet made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirOp {
    Link(String, Node),
    Unlink(String),
    /// A rename within the directory: atomic, as journaling filesystems make it.
    Rename {
        from: String,
        to: String,
        node: Node,
    },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FileState {
    /// What survives a power loss.
    pub(crate) durable: Vec<u8>,
    /// What a reader sees now.
    pub(crate) volatile: Vec<u8>,
    /// Changes since the last sync, oldest first: `durable` + these = `volatile`, unless a
    /// failed sync dropped some.
    pub(crate) pending: Vec<FileOp>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DirState {
    pub(crate) durable: BTreeMap<String, Node>,
    pub(crate) volatile: BTreeMap<String, Node>,
    pub(crate) pending: Vec<DirOp>,
}

/// The model of one directory tree under crashes.
#[derive(Debug, Clone, Default)]
pub struct FsModel {
    pub(crate) files: BTreeMap<FileId, FileState>,
    pub(crate) dirs: BTreeMap<String, DirState>,
    next_file: FileId,
}

impl FsModel {
    /// A model of `image`, all of it durable. Files get ids in path order.
    pub fn from_image(image: &Image) -> Self {
        let mut model = FsModel::default();
        model.dirs.insert(String::new(), DirState::default());
        for dir in &image.dirs {
            model.dirs.insert(dir.clone(), DirState::default());
            let (parent, name) = super::trace::split(dir);
            model.link_durably(&parent, name, Node::Dir(dir.clone()));
        }
        for (path, bytes) in &image.files {
            let id = model.next_file;
            model.next_file += 1;
            model.files.insert(
                id,
                FileState {
                    durable: bytes.clone(),
                    volatile: bytes.clone(),
                    pending: Vec::new(),
                },
            );
            let (parent, name) = super::trace::split(path);
            model.link_durably(&parent, name, Node::File(id));
        }
        model
    }

    fn link_durably(&mut self, dir: &str, name: String, node: Node) {
        let state = self.dirs.entry(dir.to_owned()).or_default();
        state.durable.insert(name.clone(), node.clone());
        state.volatile.insert(name, node);
    }

    /// `image` with `events` replayed.
    pub fn replay(image: &Image, events: &[FsEvent]) -> Self {
        let mut model = Self::from_image(image);
        for event in events {
            model.apply(event);
        }
        model
    }

    /// A recorder whose names are this model's current (volatile) entries, so that the
    /// events it records can be applied to this model.
    pub fn recorder(&self) -> Recorder {
        let mut names = BTreeMap::new();
        for (dir, state) in &self.dirs {
            for (name, node) in &state.volatile {
                let full = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                names.insert(full, node.clone());
            }
        }
        Recorder::new(names, self.next_file)
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &FsEvent) {
        match event {
            FsEvent::Create { dir, name, file } => {
                self.next_file = self.next_file.max(file + 1);
                self.files.insert(*file, FileState::default());
                self.dir_op(dir, DirOp::Link(name.clone(), Node::File(*file)));
            }
            FsEvent::MkDir { dir, name } => {
                let path = super::trace::resolve(dir, name);
                self.dirs.entry(path.clone()).or_default();
                self.dir_op(dir, DirOp::Link(name.clone(), Node::Dir(path)));
            }
            FsEvent::Write { file, offset, data } => {
                let state = self.files.entry(*file).or_default();
                let offset = offset.unwrap_or(state.volatile.len() as u64);
                let op = FileOp::Write {
                    offset,
                    data: Arc::clone(data),
                };
                apply_op(&mut state.volatile, &op);
                state.pending.push(op);
            }
            FsEvent::SetSize { file, size } => {
                let state = self.files.entry(*file).or_default();
                let op = FileOp::SetSize(*size);
                apply_op(&mut state.volatile, &op);
                state.pending.push(op);
            }
            FsEvent::Sync { node } => self.sync(node, true),
            FsEvent::SyncFailed { node } => self.sync(node, false),
            FsEvent::Unlink { dir, name } | FsEvent::RmDir { dir, name } => {
                self.dir_op(dir, DirOp::Unlink(name.clone()));
            }
            FsEvent::Rename {
                from_dir,
                from,
                to_dir,
                to,
            } => {
                let node = self.dirs.get(from_dir).and_then(|d| d.volatile.get(from));
                match node.cloned() {
                    Some(node) if from_dir == to_dir => {
                        let (from, to) = (from.clone(), to.clone());
                        self.dir_op(from_dir, DirOp::Rename { from, to, node });
                    }
                    // Across directories each side becomes durable with its own directory.
                    Some(node) => {
                        self.dir_op(from_dir, DirOp::Unlink(from.clone()));
                        self.dir_op(to_dir, DirOp::Link(to.clone(), node));
                    }
                    None => {}
                }
            }
        }
    }

    fn dir_op(&mut self, dir: &str, op: DirOp) {
        let state = self.dirs.entry(dir.to_owned()).or_default();
        apply_dir_op(&mut state.volatile, &op);
        state.pending.push(op);
    }

    fn sync(&mut self, node: &Node, ok: bool) {
        match node {
            Node::File(id) => {
                let Some(state) = self.files.get_mut(id) else {
                    return;
                };
                let pending = std::mem::take(&mut state.pending);
                if ok {
                    for op in &pending {
                        apply_op(&mut state.durable, op);
                    }
                }
            }
            // A failed directory sync may or may not have persisted the entries: they stay
            // pending (both outcomes remain possible).
            Node::Dir(path) if ok => {
                if let Some(state) = self.dirs.get_mut(path) {
                    state.durable = state.volatile.clone();
                    state.pending.clear();
                }
            }
            Node::Dir(_) => {}
        }
    }

    /// What a process crash leaves: everything the guest wrote (the page cache survives).
    pub fn process_crash(&self) -> Image {
        self.walk(
            |_, state| state.volatile.clone(),
            |_, state| state.volatile.clone(),
        )
    }

    /// Every path reachable from the root through the entries `entries` gives each
    /// directory, with what it names.
    pub(crate) fn reachable(
        &self,
        entries: impl Fn(&String, &DirState) -> BTreeMap<String, Node>,
    ) -> Vec<(String, Node)> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(dir) = stack.pop() {
            let Some(state) = self.dirs.get(&dir) else {
                continue;
            };
            for (name, node) in entries(&dir, state) {
                if let Node::Dir(sub) = &node {
                    stack.push(sub.clone());
                }
                out.push((super::trace::resolve(&dir, &name), node));
            }
        }
        out
    }

    /// The image of [`Self::reachable`], each file's bytes given by `content`.
    pub(crate) fn walk(
        &self,
        entries: impl Fn(&String, &DirState) -> BTreeMap<String, Node>,
        content: impl Fn(FileId, &FileState) -> Vec<u8>,
    ) -> Image {
        let mut image = Image::default();
        let empty = FileState::default();
        for (path, node) in self.reachable(entries) {
            match node {
                Node::File(id) => {
                    let file = self.files.get(&id).unwrap_or(&empty);
                    image.files.insert(path, content(id, file));
                }
                Node::Dir(_) => {
                    image.dirs.insert(path);
                }
            }
        }
        image
    }
}

/// Applies a file change to `bytes`.
pub(crate) fn apply_op(bytes: &mut Vec<u8>, op: &FileOp) {
    match op {
        FileOp::Write { offset, data } => write_at(bytes, *offset, data),
        FileOp::SetSize(size) => bytes.resize(usize::try_from(*size).unwrap_or(usize::MAX), 0),
    }
}

pub(crate) fn write_at(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = start + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[start..end].copy_from_slice(data);
}

pub(crate) fn apply_dir_op(entries: &mut BTreeMap<String, Node>, op: &DirOp) {
    match op {
        DirOp::Link(name, node) => {
            entries.insert(name.clone(), node.clone());
        }
        DirOp::Unlink(name) => {
            entries.remove(name);
        }
        DirOp::Rename { from, to, node } => {
            entries.remove(from);
            entries.insert(to.clone(), node.clone());
        }
    }
}
