//! Power-loss states of an [`FsModel`]: what syncs made durable, plus (as variants) a
//! prefix of a directory's unsynced entry changes or of a file's unsynced writes with the
//! last one torn; or any subset of the unsynced pages of every file (`pages.rs`).

use std::collections::{BTreeMap, BTreeSet};

use super::image::Image;
use super::model::{FileOp, FileState, FsModel, apply_dir_op, apply_op, write_at};
use super::trace::{FileId, Node};

/// How the bytes of a torn write that did not make it look after the power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fill {
    /// They are absent: the file ends where the write was cut (or keeps its old bytes).
    Absent,
    /// The file reaches the write's end, with zeros in place of the missing bytes.
    Zero,
    /// The file reaches the write's end, with garbage in place of the missing bytes.
    Garbage,
}

/// Which state a power loss leaves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PowerLoss {
    /// Only what syncs made durable.
    Durable,
    /// Durable, plus the first `keep` unsynced entry changes of directory `dir`.
    DirPrefix {
        /// The directory (`""` is the log directory).
        dir: String,
        /// How many of its unsynced changes survive.
        keep: usize,
    },
    /// Durable, plus the first `op` unsynced changes of `file`, plus change `op` itself:
    /// whole (`cut: None`) or a write cut at byte offset `cut` of the file, the rest
    /// filled as `fill` says.
    Torn {
        /// The file.
        file: FileId,
        /// Index of the torn change among the file's unsynced changes.
        op: usize,
        /// The file offset at which the write is cut; `None` for the whole change.
        cut: Option<u64>,
        /// What replaces the missing bytes.
        fill: Fill,
    },
    /// Durable directory entries, plus the unsynced 4 KiB pages and new sizes that `mask`
    /// keeps, over every file at once (out-of-order persistence; see
    /// [`FsModel::page_bits`]).
    Pages {
        /// Bit `i` keeps choice `i` of [`FsModel::page_bits`].
        mask: u64,
    },
}

impl FsModel {
    /// What a power loss leaves, or `None` when `variant` does not apply to this state.
    pub fn power_loss(&self, variant: &PowerLoss) -> Option<Image> {
        match variant {
            PowerLoss::Durable => Some(self.durable_image(None, |_, s| s.durable.clone())),
            PowerLoss::Pages { mask } => self.pages_lost(*mask),
            PowerLoss::DirPrefix { dir, keep } => {
                let pending = &self.dirs.get(dir)?.pending;
                if *keep == 0 || *keep > pending.len() {
                    return None;
                }
                let mut entries = self.dirs[dir].durable.clone();
                for op in &pending[..*keep] {
                    apply_dir_op(&mut entries, op);
                }
                Some(self.durable_image(Some((dir, entries)), |_, s| s.durable.clone()))
            }
            PowerLoss::Torn {
                file,
                op,
                cut,
                fill,
            } => {
                let state = self.files.get(file)?;
                let torn_op = state.pending.get(*op)?;
                let mut bytes = state.durable.clone();
                for earlier in &state.pending[..*op] {
                    apply_op(&mut bytes, earlier);
                }
                match cut {
                    None => apply_op(&mut bytes, torn_op),
                    Some(cut) => apply_torn(&mut bytes, torn_op, *cut, *fill, *file)?,
                }
                let image = self.durable_image(None, |id, s| {
                    if id == *file {
                        bytes.clone()
                    } else {
                        s.durable.clone()
                    }
                });
                // A file that a power loss unlinks cannot show its torn write.
                self.durably_linked(*file).then_some(image)
            }
        }
    }

    /// Every power-loss variant beyond [`PowerLoss::Durable`] this state offers: each
    /// directory's unsynced entry changes kept in part, each file's unsynced changes kept
    /// in part with the last one whole or torn at 1 byte and at 512-byte and 4 KiB
    /// boundaries.
    pub fn power_loss_variants(&self) -> Vec<PowerLoss> {
        let mut out = Vec::new();
        for (dir, state) in &self.dirs {
            for keep in 1..=state.pending.len() {
                let dir = dir.clone();
                out.push(PowerLoss::DirPrefix { dir, keep });
            }
        }
        for (&file, state) in &self.files {
            if !self.durably_linked(file) {
                continue;
            }
            for (i, op) in state.pending.iter().enumerate() {
                out.push(PowerLoss::Torn {
                    file,
                    op: i,
                    cut: None,
                    fill: Fill::Absent,
                });
                for cut in cut_points(op) {
                    for fill in [Fill::Absent, Fill::Zero, Fill::Garbage] {
                        let cut = Some(cut);
                        out.push(PowerLoss::Torn {
                            file,
                            op: i,
                            cut,
                            fill,
                        });
                    }
                }
            }
        }
        out
    }

    /// Whether `file` has an entry that a power loss keeps.
    pub(crate) fn durably_linked(&self, file: FileId) -> bool {
        let nodes = self.reachable(|_, s| s.durable.clone());
        nodes.iter().any(|(_, node)| *node == Node::File(file))
    }

    /// The image reachable through durable entries (with `over` replacing one directory's
    /// entries), each file's bytes given by `content`.
    fn durable_image(
        &self,
        over: Option<(&String, BTreeMap<String, Node>)>,
        content: impl Fn(FileId, &FileState) -> Vec<u8>,
    ) -> Image {
        self.walk(
            |dir, state| match &over {
                Some((d, e)) if *d == dir => e.clone(),
                _ => state.durable.clone(),
            },
            content,
        )
    }
}

/// Applies write `op` cut at file offset `cut`, the rest as `fill` says. `None` when the
/// cut is not inside the write.
fn apply_torn(bytes: &mut Vec<u8>, op: &FileOp, cut: u64, fill: Fill, file: FileId) -> Option<()> {
    let FileOp::Write { offset, data } = op else {
        return None;
    };
    let kept = usize::try_from(cut.checked_sub(*offset)?).ok()?;
    if kept == 0 || kept >= data.len() {
        return None;
    }
    write_at(bytes, *offset, &data[..kept]);
    let rest = data.len() - kept;
    match fill {
        Fill::Absent => {}
        Fill::Zero => write_at(bytes, cut, &vec![0; rest]),
        Fill::Garbage => write_at(bytes, cut, &garbage(rest, cut ^ (u64::from(file) << 48))),
    }
    Some(())
}

/// Deterministic garbage: `len` bytes from `seed`.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = super::rng::Rng::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Where a write may be torn: after its first byte, at the first and last 512-byte
/// boundary inside it and at every 4 KiB boundary inside it (file offsets).
fn cut_points(op: &FileOp) -> Vec<u64> {
    let FileOp::Write { offset, data } = op else {
        return Vec::new();
    };
    let (start, end) = (*offset, *offset + data.len() as u64);
    let mut cuts = BTreeSet::new();
    if data.len() > 1 {
        cuts.insert(start + 1);
    }
    let first = (start / 512 + 1) * 512;
    let last = (end - 1) / 512 * 512;
    if first < end {
        cuts.insert(first);
    }
    if last > start {
        cuts.insert(last);
    }
    let mut at = (start / 4096 + 1) * 4096;
    while at < end {
        cuts.insert(at);
        at += 4096;
    }
    cuts.into_iter().collect()
}
