//! Read workloads: iteration over a large log, open (recovery) of a log with many sealed
//! segments, full verification.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use walogs::{Durability, Wal, WalConfig};

use super::Ctx;
use super::append::{note, size_name};
use super::logs::{Okay, V01};
use super::measure::{Measured, Role, Row, Subject, Unit, interleave, payload, rows, warm_up};

/// Bytes per entry in iteration and open.
pub const ENTRY: usize = 4096;

/// Writes `bytes` of [`ENTRY`]-byte entries natively into `dir`, in segments of
/// `segment` bytes, then rotates and appends one more entry so that the active segment is
/// nearly empty and every other segment is sealed. Returns the entries' payload bytes.
fn build(dir: &Path, bytes: u64, segment: Option<u64>) -> Result<u64> {
    let config = WalConfig {
        max_segment_size: segment,
        durability: Durability::None,
        ..WalConfig::default()
    };
    let mut wal = Wal::open_with_config(dir, config)?;
    let count = bytes / ENTRY as u64;
    let batch: Vec<Vec<u8>> = (0..256).map(|i| payload(ENTRY, i)).collect();
    let mut done = 0;
    while done < count {
        let n = (count - done).min(batch.len() as u64) as usize;
        wal.append_batch(&batch[..n])?;
        done += n as u64;
    }
    wal.rotate()?;
    wal.append(&batch[0])?;
    wal.sync()?;
    Ok((count + 1) * ENTRY as u64)
}

/// Writes the same entries into an okaywal log: entries of 256 chunks (one commit, so one
/// fsync, per 1 MiB; a commit per 4 KiB entry would take minutes to build).
fn build_okaywal(dir: &Path, bytes: u64) -> Result<()> {
    let okay = Okay::open(dir)?;
    let batch: Vec<Vec<u8>> = (0..256).map(|i| payload(ENTRY, i)).collect();
    let mut left = bytes / ENTRY as u64 + 1;
    while left > 0 {
        let n = left.min(batch.len() as u64) as usize;
        let mut entry = okay.0.begin_entry()?;
        for data in &batch[..n] {
            entry.write_chunk(data)?;
        }
        entry.commit()?;
        left -= n as u64;
    }
    Ok(())
}

/// The segment files of a walogs log, oldest first.
fn segment_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("wal-") && n.ends_with(".log"))
    });
    files.sort();
    Ok(files)
}

/// Reads every file whole in 1 MiB positional reads, optionally computing the CRC-32 of
/// every chunk; returns the bytes read.
fn read_files(files: &[PathBuf], buf: &mut [u8], crc: bool) -> Result<u64> {
    let mut total = 0;
    let mut sum = crc32fast::Hasher::new();
    for path in files {
        let file = File::open(path)?;
        let mut offset = 0;
        loop {
            let n = file.read_at(buf, offset)?;
            if n == 0 {
                break;
            }
            if crc {
                sum.update(&buf[..n]);
            }
            offset += n as u64;
        }
        total += offset;
    }
    std::hint::black_box(sum.finalize());
    Ok(total)
}

/// Counts the entries and payload bytes an iterator yields, failing on any error.
fn drain<E: std::error::Error + Send + Sync + 'static>(
    iter: impl Iterator<Item = Result<(impl Sized, Vec<u8>), E>>,
) -> Result<u64> {
    let mut bytes = 0;
    for item in iter {
        bytes += item?.1.len() as u64;
    }
    Ok(bytes)
}

/// Iteration over a log of [`ENTRY`]-byte entries: full passes, every frame checked.
pub fn iteration(ctx: &Ctx<'_>) -> Result<Vec<Row>> {
    let root = ctx.fresh("iteration")?;
    let (dir, okay_dir) = (root.join("walogs"), root.join("okaywal"));
    let bytes = build(
        &dir,
        ctx.sizes.iter_bytes,
        WalConfig::default().max_segment_size,
    )?;
    build_okaywal(&okay_dir, ctx.sizes.iter_bytes)?;
    let files = segment_files(&dir)?;
    let read_only = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    let native = Wal::open_with_config(&dir, read_only.clone())?;
    let mut component = ctx.rt.open_with_config(&dir, read_only)?;
    let v01 = V01::open(&dir)?;
    let check = move |got: u64| -> Result<()> {
        ensure!(
            got == bytes,
            "read {got} bytes of entries, expected {bytes}"
        );
        Ok(())
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut buf2 = vec![0u8; 1 << 20];
    let passes = |f: &mut dyn FnMut() -> Result<()>, n: u64| (0..n).try_for_each(|_| f());
    let mut subjects = vec![
        Subject::new("raw read (1 MiB preads)", Role::Baseline, |n| {
            passes(&mut || read_files(&files, &mut buf, false).map(drop), n)
        }),
        Subject::new("raw read + CRC-32", Role::Baseline, |n| {
            passes(&mut || read_files(&files, &mut buf2, true).map(drop), n)
        }),
        Subject::new("walogs native", Role::Walogs, |n| {
            passes(&mut || check(drain(native.iter())?), n)
        }),
        Subject::new("walogs component", Role::Walogs, |n| {
            passes(&mut || check(drain(component.iter()?)?), n)
        }),
        Subject::new("walogs 0.1.0", Role::Peer, |n| {
            passes(&mut || check(drain(v01.0.iter())?), n)
        }),
        Subject::new("okaywal 0.3.1 (recovery)", Role::Peer, |n| {
            passes(&mut || Okay::open(&okay_dir).map(drop), n)
        }),
    ];
    let ops = ctx.sizes.iter_passes;
    warm_up(&mut subjects, 1)?;
    let times = interleave(&mut subjects, ops, ops)?;
    let workload = format!(
        "iterate {} MiB of {} entries",
        bytes >> 20,
        size_name(ENTRY)
    );
    let m = Measured {
        workload: &workload,
        unit: Unit::GigabytesPerSec,
        ops,
        bytes: ops * bytes,
    };
    let mut out = rows(&m, &subjects, &times);
    note(&mut out, "raw", "the segment files, headers included");
    note(
        &mut out,
        "okaywal",
        "reopen + replay every chunk (okaywal reads entries only through recovery)",
    );
    Ok(out)
}

/// Logs for the open workload: the same number of sealed segments, small and large.
pub struct OpenLogs {
    /// Root of the logs.
    root: PathBuf,
}

impl OpenLogs {
    /// Builds both logs (and okaywal's equivalent of the large one).
    pub fn build(ctx: &Ctx<'_>) -> Result<Self> {
        let root = ctx.fresh("open")?;
        let s = &ctx.sizes;
        build(
            &root.join("small"),
            s.open_segments as u64 * s.open_small,
            Some(s.open_small),
        )?;
        build(
            &root.join("big"),
            s.open_segments as u64 * s.open_big,
            Some(s.open_big),
        )?;
        build_okaywal(&root.join("okaywal"), s.open_segments as u64 * s.open_big)?;
        Ok(Self { root })
    }

    fn dir(&self, which: &str) -> PathBuf {
        self.root.join(which)
    }
}

/// The floor of an open: list the directory, open every segment and read its first
/// frame (what walogs must read to index sealed segments).
fn first_frames(dir: &Path, buf: &mut [u8]) -> Result<()> {
    for path in segment_files(dir)? {
        let n = File::open(&path)?.read_at(buf, 0)?;
        std::hint::black_box(n);
    }
    Ok(())
}

/// Opening a log with many sealed segments, small and 16× larger, interleaved: open must
/// read each sealed segment's first frame and nothing more, so both take the same time.
pub fn open(ctx: &Ctx<'_>, logs: &OpenLogs) -> Result<Vec<Row>> {
    let s = &ctx.sizes;
    let rt = ctx.rt;
    let opens = |n: u64, f: &mut dyn FnMut() -> Result<()>| (0..n).try_for_each(|_| f());
    let mut subjects = Vec::new();
    let sizes = [("small", s.open_small), ("big", s.open_big)];
    for (which, seg) in sizes {
        let dir = logs.dir(which);
        let mut buf = vec![0u8; 16 + ENTRY];
        let name = format!(
            "raw: list + first frames, {} segments",
            size_name(seg as usize)
        );
        subjects.push(Subject::new(name, Role::Baseline, move |n| {
            opens(n, &mut || first_frames(&dir, &mut buf))
        }));
    }
    for (which, seg) in sizes {
        let dir = logs.dir(which);
        let name = format!("walogs native, {} segments", size_name(seg as usize));
        subjects.push(Subject::new(name, Role::Walogs, move |n| {
            opens(n, &mut || Wal::open(&dir).map(drop).context("open"))
        }));
    }
    for (which, seg) in sizes {
        let dir = logs.dir(which);
        let name = format!("walogs component, {} segments", size_name(seg as usize));
        subjects.push(Subject::new(name, Role::Walogs, move |n| {
            opens(n, &mut || rt.open(&dir).map(drop).context("open"))
        }));
    }
    let ops = s.open_rounds;
    warm_up(&mut subjects, 1)?;
    let times = interleave(&mut subjects, ops, ops)?;
    let workload = format!("open {} sealed segments", s.open_segments);
    let m = Measured {
        workload: &workload,
        unit: Unit::MillisPerOp,
        ops,
        bytes: 0,
    };
    Ok(rows(&m, &subjects, &times))
}

/// Full verification of the large open log, every frame of every segment read and
/// checked: `Wal::verify`, an open with `verify_on_open`, and the peers' opens, which
/// always read everything.
pub fn verify(ctx: &Ctx<'_>, logs: &OpenLogs) -> Result<Vec<Row>> {
    let dir = logs.dir("big");
    let okay = logs.dir("okaywal");
    let files = segment_files(&dir)?;
    let read_only = WalConfig {
        read_only: true,
        ..WalConfig::default()
    };
    let verify_on_open = WalConfig {
        verify_on_open: true,
        ..WalConfig::default()
    };
    let native = Wal::open_with_config(&dir, read_only.clone())?;
    let mut component = ctx.rt.open_with_config(&dir, read_only)?;
    let expected = native.verify()?.bytes;
    let rt = ctx.rt;
    let mut buf = vec![0u8; 1 << 20];
    let passes = |f: &mut dyn FnMut() -> Result<()>, n: u64| (0..n).try_for_each(|_| f());
    let mut subjects = vec![
        Subject::new("raw read + CRC-32", Role::Baseline, |n| {
            passes(&mut || read_files(&files, &mut buf, true).map(drop), n)
        }),
        Subject::new("walogs native", Role::Walogs, |n| {
            passes(
                &mut || match native.verify()?.bytes {
                    b if b == expected => Ok(()),
                    b => bail!("verified {b} bytes, expected {expected}"),
                },
                n,
            )
        }),
        Subject::new("walogs component", Role::Walogs, |n| {
            passes(&mut || component.verify().map(drop).context("verify"), n)
        }),
        Subject::new(
            "walogs native, open with verify_on_open",
            Role::Walogs,
            |n| {
                let config = verify_on_open.clone();
                passes(
                    &mut || {
                        Wal::open_with_config(&dir, config.clone())
                            .map(drop)
                            .context("open")
                    },
                    n,
                )
            },
        ),
        Subject::new(
            "walogs component, open with verify_on_open",
            Role::Walogs,
            |n| {
                let config = verify_on_open.clone();
                passes(
                    &mut || {
                        rt.open_with_config(&dir, config.clone())
                            .map(drop)
                            .context("open")
                    },
                    n,
                )
            },
        ),
        Subject::new("walogs 0.1.0 open", Role::Peer, |n| {
            passes(&mut || V01::open(&dir).map(drop), n)
        }),
        Subject::new("okaywal 0.3.1 open", Role::Peer, |n| {
            passes(&mut || Okay::open(&okay).map(drop), n)
        }),
    ];
    let ops = ctx.sizes.iter_passes;
    warm_up(&mut subjects, 1)?;
    let times = interleave(&mut subjects, ops, ops)?;
    let workload = format!(
        "verify {} MiB in {} segments (every frame)",
        expected >> 20,
        ctx.sizes.open_segments
    );
    let m = Measured {
        workload: &workload,
        unit: Unit::GigabytesPerSec,
        ops,
        bytes: ops * expected,
    };
    let mut out = rows(&m, &subjects, &times);
    note(&mut out, "0.1.0", "0.1.0 reads every frame on open");
    note(
        &mut out,
        "okaywal",
        "the same entries in one file; replays every chunk",
    );
    Ok(out)
}
