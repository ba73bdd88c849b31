// Types for walogs, the crash-safe write-ahead log, in Node.js.

/** A log sequence number: the first entry has LSN 1n; LSNs are dense and never reused. */
export type Lsn = bigint;

/** An LSN as an input: a bigint or a non-negative safe-integer number. */
export type LsnInput = bigint | number;

/** When appended entries reach the disk. */
export type Durability = 'always' | 'explicit' | 'none';

/** How a log is opened; every field is optional and checked. */
export interface OpenOptions {
  /** Rotate before a frame would push the active segment past this many bytes; 0 never rotates. Default 64 MiB. */
  maxSegmentSize?: bigint | number;
  /** 'always' (default): each append is fdatasync'd before it returns; 'explicit': `sync()` does it; 'none': never. */
  durability?: Durability;
  /** Open without changing anything on disk (and without the writer's lock). Default false. */
  readOnly?: boolean;
  /** Check every frame of every segment on open. Default false. */
  verifyOnOpen?: boolean;
}

/** One entry of the log. */
export interface Entry {
  lsn: Lsn;
  data: Uint8Array;
}

/** LSNs `start` up to but not including `end`. */
export interface LsnRange {
  start: Lsn;
  end: Lsn;
}

/** What the open found at the end of the active segment. */
export type TailState = { kind: 'clean' } | { kind: 'truncated-at'; offset: bigint };

/** One segment file, `wal-NNNNNN.log`. */
export interface SegmentInfo {
  seq: number;
  firstLsn: Lsn | undefined;
  size: bigint;
}

/** The result of `verify()`. */
export interface VerifyReport {
  segments: number;
  entries: bigint;
  bytes: bigint;
  firstLsn: Lsn | undefined;
  lastLsn: Lsn | undefined;
}

/** The error codes: the WIT error variants, and 'closed' for a call on a closed log. */
export type ErrorCode =
  | 'io'
  | 'entry-too-large'
  | 'corrupt'
  | 'locked'
  | 'poisoned'
  | 'lsn-out-of-range'
  | 'invalid-path'
  | 'not-a-directory'
  | 'read-only'
  | 'closed';

/** A failed walogs call. Bad arguments throw TypeError instead. */
export class WalogsError extends Error {
  readonly name: 'WalogsError';
  /** Which error. */
  readonly code: ErrorCode;
  /** The payload: a string, `{ code, message }` for 'io', `{ size, max }` for 'entry-too-large', `{ lsn, first, next }` for 'lsn-out-of-range'. */
  readonly detail: unknown;
}

/** Opens (creating it unless `readOnly`) the log in directory `dir`; a writer takes `dir/LOCK`. */
export function open(dir: string, options?: OpenOptions): Wal;

/** An open log. */
export class Wal implements Iterable<Entry> {
  /** Same as {@link open}. */
  constructor(dir: string, options?: OpenOptions);
  /** The log's directory (absolute). */
  readonly dir: string;
  /** Appends one entry (bytes as they are, a string as UTF-8) and returns its LSN. */
  append(data: Uint8Array | string): Lsn;
  /** Appends entries with one write and one sync per segment touched. */
  appendBatch(entries: Iterable<Uint8Array | string>): LsnRange;
  /** Makes everything appended so far durable and returns the durable LSN. */
  sync(): Lsn;
  /** The highest LSN known durable (0n when none). */
  readonly durableLsn: Lsn;
  /** The entries, from the first or from LSN `from`. */
  entries(from?: LsnInput): Generator<Entry, void, undefined>;
  [Symbol.iterator](): Iterator<Entry>;
  /** Deletes sealed segments whose entries are all at or below `appliedUpTo`; returns how many. */
  checkpoint(appliedUpTo: LsnInput): number;
  /** Removes every entry after `lsn`. */
  truncateAfter(lsn: LsnInput): void;
  /** Seals the active segment and starts a new one. */
  rotate(): void;
  /** Reads and checks every frame of every segment. */
  verify(): VerifyReport;
  /** What the open found at the tail. */
  readonly tailState: TailState;
  /** The LSN the next append gets. */
  readonly nextLsn: Lsn;
  /** The first LSN the log holds. */
  readonly firstLsn: Lsn | undefined;
  /** The last LSN the log holds. */
  readonly lastLsn: Lsn | undefined;
  /** Every segment file, oldest first. */
  readonly segments: SegmentInfo[];
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Closes the log and releases the directory lock. */
  close(): void;
  /** `using wal = open(dir)` closes it at the end of the block. */
  [Symbol.dispose](): void;
}
