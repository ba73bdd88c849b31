//! Out-of-order persistence: at a power loss, any subset of the unsynced 4 KiB pages of
//! every file reaches the disk, and each file's size is its durable one or its new one.
//!
//! What is modelled, per file that a power loss keeps (one whose entry is durable):
//!
//! - The *target* is what a complete flush would leave: the durable bytes with every
//!   unsynced change applied. A page (`4096 × n .. 4096 × (n + 1)`) is *unsynced* when an
//!   unsynced write touches it below the target size.
//! - A kept page holds the target's bytes; a lost page holds the durable bytes where the
//!   file was overwritten in place, and zeros where it grew (past its durable size, or past
//!   the lowest size an unsynced cut gave it, when the new size persisted: freed blocks
//!   never come back).
//! - The size is metadata that persists on its own: it is the durable size or the target
//!   size (one choice when they differ). A page past the kept size is gone, kept or not.
//!
//! A choice is a bit mask: per file in id order, its size bit (when the sizes differ), then
//! one bit per unsynced page in offset order. Only the first [`MAX_BITS`] choices are
//! offered; later pages are lost (their state is the plain power loss's).

use super::image::Image;
use super::model::{FileOp, FileState, FsModel, apply_op};
use super::trace::FileId;

/// The page size the model persists at.
pub const PAGE: u64 = 4096;

/// The most choices one state offers (the width of a mask).
pub const MAX_BITS: usize = 64;

/// One choice of an out-of-order power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageBit {
    /// The file's size: set, the target size; clear, the durable size.
    Size(FileId),
    /// One unsynced page of the file: set, kept; clear, lost.
    Page(FileId, u64),
}

/// A file's durable and target bytes, and where a lost page reads as zeros.
struct Flush {
    target: Vec<u8>,
    /// Below this, a lost page holds the durable bytes; from here on, zeros.
    floor: u64,
    /// The unsynced pages, in offset order.
    pages: Vec<u64>,
}

fn flush(state: &FileState) -> Flush {
    let mut target = state.durable.clone();
    let mut floor = state.durable.len() as u64;
    let mut touched = std::collections::BTreeSet::new();
    for op in &state.pending {
        match op {
            FileOp::Write { offset, data } if !data.is_empty() => {
                let end = offset + data.len() as u64;
                touched.extend(offset / PAGE..end.div_ceil(PAGE));
            }
            FileOp::Write { .. } => {}
            FileOp::SetSize(size) => floor = floor.min(*size),
        }
        apply_op(&mut target, op);
    }
    let size = target.len() as u64;
    let pages = touched.into_iter().filter(|&p| p * PAGE < size).collect();
    Flush {
        target,
        floor,
        pages,
    }
}

impl FsModel {
    /// The choices an out-of-order power loss has in this state (at most [`MAX_BITS`]).
    pub fn page_bits(&self) -> Vec<PageBit> {
        let mut bits = Vec::new();
        for (&file, state) in &self.files {
            if state.pending.is_empty() || !self.durably_linked(file) {
                continue;
            }
            let f = flush(state);
            if f.target.len() != state.durable.len() {
                bits.push(PageBit::Size(file));
            }
            bits.extend(f.pages.iter().map(|&p| PageBit::Page(file, p)));
        }
        bits.truncate(MAX_BITS);
        bits
    }

    /// What an out-of-order power loss with choices `mask` (over [`Self::page_bits`])
    /// leaves: durable directory entries, and per file the pages and size `mask` keeps.
    /// `None` when the mask names choices this state does not have.
    pub fn pages_lost(&self, mask: u64) -> Option<Image> {
        let bits = self.page_bits();
        if bits.len() < 64 && mask >> bits.len() != 0 {
            return None;
        }
        let kept = |bit: &PageBit| {
            bits.iter()
                .position(|b| b == bit)
                .is_some_and(|i| mask >> i & 1 == 1)
        };
        Some(self.walk(
            |_, s| s.durable.clone(),
            |id, state| {
                if state.pending.is_empty() {
                    return state.durable.clone();
                }
                let f = flush(state);
                let grown = f.target.len() == state.durable.len() || kept(&PageBit::Size(id));
                let size = if grown {
                    f.target.len()
                } else {
                    state.durable.len()
                };
                // A cut whose size persisted freed the blocks past it: zeros there. One
                // whose size did not persist never happened.
                let floor = if grown {
                    usize::try_from(f.floor).unwrap_or(usize::MAX)
                } else {
                    usize::MAX
                };
                let mut bytes: Vec<u8> = (0..size)
                    .map(|i| match state.durable.get(i) {
                        Some(&b) if i < floor => b,
                        _ => 0,
                    })
                    .collect();
                for &p in f.pages.iter().filter(|&&p| kept(&PageBit::Page(id, p))) {
                    let lo = usize::try_from(p * PAGE).unwrap_or(usize::MAX);
                    let hi = (lo + PAGE as usize).min(size).min(f.target.len());
                    if lo < hi {
                        bytes[lo..hi].copy_from_slice(&f.target[lo..hi]);
                    }
                }
                bytes
            },
        ))
    }

    /// The choices of `mask` in words: `f2 kept pages 0,2 of 0-3, new size; f5 lost all`.
    pub fn describe_pages(&self, mask: u64) -> String {
        let bits = self.page_bits();
        let mut files: Vec<(FileId, String)> = Vec::new();
        for (i, bit) in bits.iter().enumerate() {
            let set = mask >> i & 1 == 1;
            let (file, word) = match bit {
                PageBit::Size(f) => (*f, if set { "new size" } else { "durable size" }.into()),
                PageBit::Page(f, p) => (
                    *f,
                    format!("page {p} {}", if set { "kept" } else { "lost" }),
                ),
            };
            match files.last_mut() {
                Some((f, text)) if *f == file => *text += &format!(", {word}"),
                _ => files.push((file, word)),
            }
        }
        let parts: Vec<String> = files.iter().map(|(f, t)| format!("f{f}: {t}")).collect();
        parts.join("; ")
    }
}
