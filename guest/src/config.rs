//! How a log is opened: segment size, durability, read-only, verification.

/// When appended entries are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every append and batch is fdatasync'd before it returns `Ok` (0.1.0's behaviour).
    #[default]
    Always,
    /// Appends are written but not synced; [`crate::Wal::sync`] makes everything appended
    /// so far durable. A crash loses at most the entries after the last `sync`.
    Explicit,
    /// Appends are never synced. **A power loss may lose any entry** that no rotation or
    /// checkpoint happened to make durable; only for tests and caches.
    None,
}

/// Configuration for the WAL.
///
/// Build it with struct-update syntax so that new fields keep your code compiling:
/// `WalConfig { max_segment_size: Some(1 << 20), ..WalConfig::default() }`.
#[derive(Debug, Clone)]
pub struct WalConfig {
    /// Maximum segment size in bytes before auto-rotation.
    /// `None` disables auto-rotation (call [`crate::Wal::rotate`] yourself).
    /// Default: `Some(64 * 1024 * 1024)` (64 MiB). A single frame larger than this
    /// still gets a segment of its own.
    pub max_segment_size: Option<u64>,
    /// When appends are made durable. Default: [`Durability::Always`].
    pub durability: Durability,
    /// Open without changing anything on disk: no directory or file is created, a torn
    /// tail is reported in [`crate::Wal::tail_state`] but left in place, no write lock is
    /// taken, and every mutating call returns [`crate::WalError::ReadOnly`].
    pub read_only: bool,
    /// Read and check every frame of every sealed segment during open. Otherwise open
    /// reads only each sealed segment's first frame (damage further in is reported by
    /// iteration and by [`crate::Wal::verify`]). Default: `false`.
    pub verify_on_open: bool,
    /// Pre-allocate the active segment under [`Durability::Always`]: the space ahead of
    /// the write position is filled (with a fixed pattern, not zeros) far enough for
    /// 256 more writes of the current size (64 KiB to 1 MiB at a time), so that a
    /// durable append's fdatasync has no file size or allocation to commit. The segment
    /// is cut
    /// back to its last frame before it is sealed, truncated or closed, so every sealed
    /// or cleanly closed segment is exactly what walogs 0.1.0 writes (docs/FORMAT.md,
    /// "Pre-allocation"). Ignored by the other modes, whose appends must not sync.
    /// Default: `true`.
    pub preallocate: bool,
}

impl Default for WalConfig {
    fn default() -> Self {
        Self {
            max_segment_size: Some(64 * 1024 * 1024),
            durability: Durability::Always,
            read_only: false,
            verify_on_open: false,
            preallocate: true,
        }
    }
}
