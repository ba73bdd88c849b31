// walogs for Node.js: the walogs WASI component, transpiled by jco, behind a `Wal` class.
//
// Each open log gets its own component instance that sees only the log's directory, preopened
// at /wal. A writer holds flock(LOCK_EX) on <dir>/LOCK, the lock every walogs host takes, so a
// second writer (in this or any other process, in any language) gets a WalogsError 'locked'.

import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import fsExt from 'fs-ext';
import { instantiate } from './gen/walogs.js';

const GUEST_ROOT = '/wal';
const LOCK_FILE = 'LOCK';
const U64_MAX = (1n << 64n) - 1n;
const DURABILITIES = ['always', 'explicit', 'none'];
const OPTIONS = ['maxSegmentSize', 'durability', 'readOnly', 'verifyOnOpen'];
const dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

/** Compiles each core module of the transpiled component once per process. */
const modules = new Map();
function getCoreModule(name) {
  if (!modules.has(name)) {
    const bytes = readFileSync(new URL(`./gen/${name}`, import.meta.url));
    modules.set(name, new WebAssembly.Module(bytes));
  }
  return modules.get(name);
}

/** Readable messages for the WIT error variants. */
const MESSAGES = {
  io: (v) => `I/O error (${v.code}): ${v.message}`,
  'entry-too-large': (v) => `the entry has ${v.size} bytes, more than the ${v.max} a log entry may have`,
  corrupt: (v) => `the log is damaged: ${v}`,
  locked: (v) => `another writer holds the log: ${v}`,
  poisoned: (v) => `an earlier write or sync failed, reopen the log: ${v}`,
  'lsn-out-of-range': (v) => `LSN ${v.lsn} is not in the log (it holds ${v.first} up to ${v.next - 1n})`,
  'invalid-path': (v) => `the path is not usable: ${v}`,
  'not-a-directory': (v) => `not a directory: ${v}`,
  'read-only': () => 'the log was opened read-only',
  closed: () => 'the log is closed',
};

/**
 * A failed walogs call. `code` is the WIT error variant ('io', 'entry-too-large', 'corrupt',
 * 'locked', 'poisoned', 'lsn-out-of-range', 'invalid-path', 'not-a-directory', 'read-only')
 * or 'closed'; `detail` is the variant's payload, if any.
 */
export class WalogsError extends Error {
  constructor(code, detail, options) {
    super(MESSAGES[code](detail), options);
    this.name = 'WalogsError';
    this.code = code;
    this.detail = detail;
  }
}

/** Runs `f`, turning the component's error results into WalogsErrors (guest paths made host paths). */
function call(dir, f) {
  try {
    return f();
  } catch (e) {
    const payload = e?.payload;
    if (typeof payload?.tag !== 'string' || !(payload.tag in MESSAGES)) throw e;
    const hostPaths = (text) => text.replaceAll(GUEST_ROOT, dir);
    const { val } = payload;
    const detail =
      typeof val === 'string' ? hostPaths(val) : typeof val?.message === 'string' ? { ...val, message: hostPaths(val.message) } : val;
    throw new WalogsError(payload.tag, detail, { cause: e });
  }
}

/** An LSN or count from a number or a bigint: a non-negative integer below 2^64. */
function toU64(value, name) {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return value;
  throw new TypeError(`${name} must be a non-negative integer (number or bigint), got ${String(value)}`);
}

const encoder = new TextEncoder();

/** An entry's bytes: a Uint8Array (a Buffer is one) as it is, a string as UTF-8. */
function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  const what = data === null ? 'null' : typeof data === 'object' ? data.constructor?.name ?? 'object' : typeof data;
  throw new TypeError(`an entry must be a Uint8Array, a Buffer or a string, got ${what}`);
}

/** The component's config record from the user's options, checked. */
function toConfig(log, options) {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) throw new TypeError(`unknown option ${key} (known: ${OPTIONS.join(', ')})`);
  }
  const config = log.defaultConfig();
  const { maxSegmentSize, durability, readOnly, verifyOnOpen } = options;
  if (maxSegmentSize !== undefined) config.maxSegmentSize = toU64(maxSegmentSize, 'maxSegmentSize');
  if (durability !== undefined) {
    if (!DURABILITIES.includes(durability)) {
      throw new TypeError(`durability must be one of ${DURABILITIES.join(', ')}, got ${String(durability)}`);
    }
    config.durability = durability;
  }
  for (const [key, value] of [['readOnly', readOnly], ['verifyOnOpen', verifyOnOpen]]) {
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new TypeError(`${key} must be a boolean, got ${String(value)}`);
    config[key] = value;
  }
  return config;
}

/** Takes flock(LOCK_EX | LOCK_NB) on dir/LOCK; returns the descriptor that holds it. */
function lockDir(dir) {
  const path = resolve(dir, LOCK_FILE);
  const fd = openSync(path, 'a');
  try {
    fsExt.flockSync(fd, 'exnb');
  } catch (e) {
    closeSync(fd);
    if (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK') throw new WalogsError('locked', path, { cause: e });
    throw e;
  }
  return fd;
}

/**
 * Opens (creating it unless `readOnly`) the log in directory `dir`.
 * Options: maxSegmentSize (bytes, number or bigint; 0 never rotates; default 64 MiB),
 * durability ('always' (default) | 'explicit' | 'none'), readOnly, verifyOnOpen.
 */
export function open(dir, options = {}) {
  return new Wal(dir, options);
}

/** An open log. LSNs are bigints (numbers are accepted as inputs); entries are `{ lsn, data }`. */
export class Wal {
  #wal;
  #lock;
  #dir;

  /** Opens the log in `dir`; see {@link open}. */
  constructor(dir, options = {}) {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
    this.#dir = resolve(dir);
    const shim = new WASIShim({
      sandbox: { preopens: { [GUEST_ROOT]: this.#dir }, env: {}, enableNetwork: false },
    });
    const { log } = instantiate(getCoreModule, shim.getImportObject());
    const config = toConfig(log, options);
    if (statSync(this.#dir, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new WalogsError('not-a-directory', this.#dir);
    }
    if (!config.readOnly) {
      mkdirSync(this.#dir, { recursive: true });
      this.#lock = lockDir(this.#dir);
    }
    try {
      this.#wal = this.#call(() => log.Wal.open(GUEST_ROOT, config));
    } catch (e) {
      this.#unlock();
      throw e;
    }
  }

  #call(f) {
    return call(this.#dir, f);
  }

  /** The component's `wal` resource; throws WalogsError 'closed' once the log is closed. */
  get #open() {
    if (this.#wal === undefined) throw new WalogsError('closed');
    return this.#wal;
  }

  /** The log's directory (absolute). */
  get dir() {
    return this.#dir;
  }

  /** Appends one entry (a Uint8Array, a Buffer, or a string stored as UTF-8); returns its LSN. */
  append(data) {
    const bytes = toBytes(data);
    return this.#call(() => this.#open.append(bytes));
  }

  /** Appends entries with one write and one sync; returns `{ start, end }` (end exclusive). */
  appendBatch(entries) {
    const all = Array.from(entries, toBytes);
    return this.#call(() => this.#open.appendBatch(all));
  }

  /** Makes everything appended so far durable and returns the durable LSN. */
  sync() {
    return this.#call(() => this.#open.sync());
  }

  /** The highest LSN known durable (0n when none). */
  get durableLsn() {
    return this.#open.durableLsn();
  }

  /** Iterates over the entries `{ lsn, data }`, from the first or from LSN `from`. */
  *entries(from) {
    const wal = this.#open;
    const start = from === undefined ? undefined : toU64(from, 'from');
    const cursor = this.#call(() => (start === undefined ? wal.iter() : wal.iterFrom(start)));
    try {
      for (;;) {
        const batch = this.#call(() => cursor.nextBatch(256, 1n << 20n));
        if (batch.length === 0) return;
        yield* batch;
      }
    } finally {
      cursor[Symbol.dispose]?.();
    }
  }

  /** `for (const { lsn, data } of wal)` iterates from the first entry. */
  [Symbol.iterator]() {
    return this.entries();
  }

  /** Deletes sealed segments whose entries are all at or below `appliedUpTo`; returns how many. */
  checkpoint(appliedUpTo) {
    const lsn = toU64(appliedUpTo, 'appliedUpTo');
    return this.#call(() => this.#open.checkpoint(lsn));
  }

  /** Removes every entry after `lsn`; the next append gets `lsn + 1`. */
  truncateAfter(lsn) {
    const after = toU64(lsn, 'lsn');
    this.#call(() => this.#open.truncateAfter(after));
  }

  /** Seals the active segment and starts a new one (no-op when it is empty). */
  rotate() {
    this.#call(() => this.#open.rotate());
  }

  /** Reads and checks every frame of every segment; returns a report, throws 'corrupt' on damage. */
  verify() {
    return this.#call(() => this.#open.verify());
  }

  /** What the open found at the tail: `{ kind: 'clean' }` or `{ kind: 'truncated-at', offset }`. */
  get tailState() {
    const state = this.#open.tailState();
    return state.tag === 'clean' ? { kind: 'clean' } : { kind: 'truncated-at', offset: state.val };
  }

  /** The LSN the next append gets. */
  get nextLsn() {
    return this.#open.nextLsn();
  }

  /** The first LSN the log holds, or undefined. */
  get firstLsn() {
    return this.#open.firstLsn();
  }

  /** The last LSN the log holds, or undefined. */
  get lastLsn() {
    return this.#open.lastLsn();
  }

  /** The segment files, oldest first: `{ seq, firstLsn, size }`. */
  get segments() {
    return this.#open.segments();
  }

  /** Whether the log is closed. */
  get closed() {
    return this.#wal === undefined;
  }

  /** Closes the log's files and releases the directory lock; closing twice is fine. */
  close() {
    this.#wal?.[Symbol.dispose]?.();
    this.#wal = undefined;
    this.#unlock();
  }

  #unlock() {
    if (this.#lock !== undefined) closeSync(this.#lock);
    this.#lock = undefined;
  }

  /** `using wal = open(dir)` closes the log at the end of the block. */
  [dispose]() {
    this.close();
  }
}
