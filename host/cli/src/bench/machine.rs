//! What the benchmark ran on: CPU, cores, kernel, and the file system under the log
//! directory (read from `/proc`; "unknown" elsewhere).

use std::path::Path;

use serde::Serialize;

/// The machine and file system of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Logical CPUs available.
    pub cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// File-system type under the benchmark directory (e.g. `ext4`).
    pub fs_type: String,
    /// Device (or source) of that file system.
    pub fs_device: String,
    /// Mount options of that file system.
    pub fs_options: String,
    /// The directory the logs were written in.
    pub dir: String,
}

impl Machine {
    /// Describes this machine and the file system holding `dir`.
    pub fn detect(dir: &Path) -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, v)| v.trim().to_owned());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        let mounts = read("/proc/self/mounts");
        // The mount whose point is the longest prefix of `dir` holds it.
        let mount = mounts
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 4 && dir.starts_with(f[1])).then(|| (f[1].len(), f))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, f)| f);
        let field = |i: usize| mount.as_ref().map_or("unknown".into(), |f| f[i].to_owned());
        Self {
            cpu,
            cores,
            kernel: if kernel.is_empty() {
                "unknown".into()
            } else {
                kernel
            },
            fs_device: field(0),
            fs_type: field(2),
            fs_options: field(3),
            dir: dir.display().to_string(),
        }
    }

    /// Whether the logs live in memory, where fdatasync measures nothing.
    pub fn is_memory_fs(&self) -> bool {
        matches!(self.fs_type.as_str(), "tmpfs" | "ramfs")
    }
}
