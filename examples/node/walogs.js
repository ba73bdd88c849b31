// A small JavaScript face for the walogs component, transpiled by jco into ./gen.
//
// Each open log gets its own component instance that sees only the log's directory,
// preopened at /wal, as the Rust host does. WIT `result` errors become `WalError`s.

import { mkdirSync, readFileSync } from 'node:fs';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { instantiate } from './gen/walogs.js';

const GUEST_ROOT = '/wal';
const modules = new Map();

/** Compiles each core module of the transpiled component once per process. */
function getCoreModule(name) {
  if (!modules.has(name)) {
    const bytes = readFileSync(new URL(`./gen/${name}`, import.meta.url));
    modules.set(name, new WebAssembly.Module(bytes));
  }
  return modules.get(name);
}

/** A failed walogs call: `kind` is the WIT error variant ('corrupt', 'entry-too-large', …). */
export class WalError extends Error {
  constructor({ tag, val }) {
    super(typeof val === 'string' ? `${tag}: ${val}` : tag);
    this.name = 'WalError';
    this.kind = tag;
    this.detail = val;
  }
}

/** Runs `f`, turning the component's error results into `WalError`s. */
function call(f) {
  try {
    return f();
  } catch (e) {
    if (e && typeof e.payload?.tag === 'string') throw new WalError(e.payload);
    throw e;
  }
}

/**
 * Opens (creating it unless `readOnly`) the log in directory `dir`.
 * Options: maxSegmentSize (bytes), durability ('always' | 'explicit' | 'none'),
 * readOnly, verifyOnOpen.
 */
export function openWal(dir, options = {}) {
  const { maxSegmentSize, durability = 'always', readOnly = false, verifyOnOpen = false } = options;
  if (!readOnly) mkdirSync(dir, { recursive: true });
  const shim = new WASIShim({
    sandbox: { preopens: { [GUEST_ROOT]: dir }, env: {}, enableNetwork: false },
  });
  const { log } = instantiate(getCoreModule, shim.getImportObject());
  const config = {
    maxSegmentSize: maxSegmentSize === undefined ? undefined : BigInt(maxSegmentSize),
    durability,
    readOnly,
    verifyOnOpen,
  };
  return new Wal(call(() => log.Wal.open(GUEST_ROOT, config)));
}

const encoder = new TextEncoder();
const bytes = (data) => (typeof data === 'string' ? encoder.encode(data) : data);

/** An open log. LSNs are BigInts; entries are `{ lsn, data }` with `data` a Uint8Array. */
export class Wal {
  #wal;

  constructor(wal) {
    this.#wal = wal;
  }

  /** The component's `wal` resource; throws once the log is closed. */
  get #open() {
    if (this.#wal === undefined) throw new Error('the log is closed');
    return this.#wal;
  }

  /** Appends one entry (bytes or a string) and returns its LSN. */
  append(data) {
    return call(() => this.#open.append(bytes(data)));
  }

  /** Appends entries with one write and one sync; returns `{ start, end }` (end exclusive). */
  appendBatch(entries) {
    return call(() => this.#open.appendBatch(entries.map(bytes)));
  }

  /** Makes everything appended so far durable and returns the durable LSN. */
  sync() {
    return call(() => this.#open.sync());
  }

  /** Iterates over the entries, from the first or from LSN `from`. */
  *entries(from) {
    const wal = this.#open;
    const cursor = call(() => (from === undefined ? wal.iter() : wal.iterFrom(BigInt(from))));
    try {
      for (;;) {
        const batch = call(() => cursor.nextBatch(256, 1n << 20n));
        if (batch.length === 0) return;
        yield* batch;
      }
    } finally {
      cursor[Symbol.dispose]();
    }
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /** Deletes sealed segments whose entries are all at or below `appliedUpTo`; returns how many. */
  checkpoint(appliedUpTo) {
    return call(() => this.#open.checkpoint(BigInt(appliedUpTo)));
  }

  /** Removes every entry after `lsn`. */
  truncateAfter(lsn) {
    call(() => this.#open.truncateAfter(BigInt(lsn)));
  }

  /** Seals the active segment and starts a new one. */
  rotate() {
    call(() => this.#open.rotate());
  }

  /** Checks every frame of every segment; returns a report. */
  verify() {
    return call(() => this.#open.verify());
  }

  /** What the open found at the tail: `{ tag: 'clean' }` or `{ tag: 'truncated-at', val }`. */
  get tailState() {
    return this.#open.tailState();
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

  /** Closes the log (its files are closed; nothing more to sync under durability 'always'). */
  close() {
    this.#wal?.[Symbol.dispose]();
    this.#wal = undefined;
  }

  [Symbol.dispose]() {
    this.close();
  }
}
