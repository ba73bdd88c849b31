// The installed `walogs` package: appends, iteration, reopen, recovery, errors, options.
// Run in a fresh project that installed the packed tarball (see test-installed.sh).

import assert from 'node:assert/strict';
import {
  appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { open, Wal, WalogsError } from 'walogs';

const root = mkdtempSync(join(tmpdir(), 'walogs-npm-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `wal-${++dirs}`);

const decoder = new TextDecoder();
const texts = (wal, from) => [...wal.entries(from)].map(({ lsn, data }) => [lsn, decoder.decode(data)]);
const segmentFiles = (dir) => readdirSync(dir).filter((n) => /^wal-\d{6}\.log$/.test(n)).sort();
/** Whether `e` is a WalogsError with `code` and a message that reads as text. */
const walogsError = (code) => (e) =>
  e instanceof WalogsError && e instanceof Error && e.code === code && !e.message.includes('[object');

test('strings are stored as UTF-8, bytes as they are, and LSNs are bigints', () => {
  const dir = freshDir();
  const wal = open(dir);
  assert.equal(wal.append('héllo ✓'), 1n);
  assert.equal(wal.append(Buffer.from([0, 255, 7])), 2n);
  assert.equal(wal.append(new Uint8Array([1, 2])), 3n);
  assert.deepEqual(wal.appendBatch(['a', Buffer.from('b')]), { start: 4n, end: 6n });
  assert.equal(wal.sync(), 5n);
  assert.equal(wal.durableLsn, 5n);
  const entries = [...wal];
  assert.deepEqual(entries[0].data, new TextEncoder().encode('héllo ✓'));
  assert.deepEqual([...entries[1].data], [0, 255, 7]);
  assert.deepEqual(texts(wal, 4), [[4n, 'a'], [5n, 'b']]);
  assert.deepEqual(texts(wal, 5n), [[5n, 'b']], 'bigint and number LSNs both work');
  wal.close();

  const again = new Wal(dir);
  try {
    assert.deepEqual(again.tailState, { kind: 'clean' });
    assert.deepEqual([again.firstLsn, again.lastLsn, again.nextLsn], [1n, 5n, 6n]);
    assert.equal(again.append(''), 6n, 'an empty entry is an entry');
  } finally {
    again.close();
  }
});

test('anything but a Uint8Array, Buffer or string is a TypeError and appends nothing', () => {
  const wal = open(freshDir());
  try {
    for (const bad of [42, null, undefined, {}, [1, 2], new Uint16Array([1]), new ArrayBuffer(4), new DataView(new ArrayBuffer(1))]) {
      assert.throws(() => wal.append(bad), TypeError, `append(${String(bad)})`);
    }
    assert.throws(() => wal.appendBatch(['ok', 7]), TypeError);
    assert.equal(wal.nextLsn, 1n, 'nothing was appended');
    assert.throws(() => [...wal.entries(-1)], TypeError);
    assert.throws(() => wal.checkpoint(1.5), TypeError);
    assert.throws(() => wal.truncateAfter('1'), TypeError);
  } finally {
    wal.close();
  }
});

test('options are checked: unknown keys, bad types and bad values are TypeErrors', () => {
  const dir = freshDir();
  for (const options of [
    { readonly: true },
    { durability: 'sometimes' },
    { readOnly: 'yes' },
    { verifyOnOpen: 1 },
    { maxSegmentSize: -1 },
    { maxSegmentSize: 1.5 },
    { maxSegmentSize: 1n << 64n },
    null,
  ]) {
    assert.throws(() => open(dir, options), TypeError, String(Object.keys(options ?? {})));
  }
});

test('the default configuration rotates at 64 MiB; 0 never rotates', () => {
  const entry = new Uint8Array(16 * 1024 * 1024);
  for (const [options, segments] of [[{}, 2], [{ maxSegmentSize: 0 }, 1]]) {
    const wal = open(freshDir(), { durability: 'none', ...options });
    try {
      for (let i = 0; i < 5; i++) wal.append(entry);
      assert.equal(wal.segments.length, segments, JSON.stringify(options));
    } finally {
      wal.close();
    }
  }
});

test('checkpoint deletes applied sealed segments and LSNs go on', () => {
  const dir = freshDir();
  const wal = open(dir, { maxSegmentSize: 256 });
  for (let i = 1; i <= 40; i++) assert.equal(wal.append(`entry ${i}`), BigInt(i));
  const before = wal.segments.length;
  assert.ok(before > 2);
  const deleted = wal.checkpoint(30);
  assert.ok(deleted > 0);
  assert.equal(wal.segments.length, before - deleted);
  assert.deepEqual(texts(wal, 40), [[40n, 'entry 40']]);
  wal.truncateAfter(38);
  assert.equal(wal.append('after truncate'), 39n);
  wal.close();
});

test('a torn tail is cut off on reopen and appends continue', () => {
  const dir = freshDir();
  const wal = open(dir);
  wal.appendBatch(['one', 'two', 'three']);
  wal.close();
  const segment = join(dir, segmentFiles(dir).at(-1));
  const cleanSize = statSync(segment).size;
  appendFileSync(segment, Buffer.from([0x17, 0x00, 0x00, 0x00, 0xde, 0xad]));

  const reopened = open(dir);
  try {
    assert.deepEqual(reopened.tailState, { kind: 'truncated-at', offset: BigInt(cleanSize) });
    assert.deepEqual(texts(reopened), [[1n, 'one'], [2n, 'two'], [3n, 'three']]);
    assert.equal(reopened.append('four'), 4n);
  } finally {
    reopened.close();
  }
});

test('a frame cut short loses only that frame', () => {
  const dir = freshDir();
  const first = open(dir);
  first.append('kept');
  first.close();
  // Measured on a closed log: an open one's active segment is pre-filled past its frames.
  const segment = join(dir, segmentFiles(dir).at(-1));
  const frameStart = statSync(segment).size;
  const wal = open(dir);
  wal.append('cut short by the crash');
  wal.close();
  truncateSync(segment, statSync(segment).size - 5);

  const reopened = open(dir);
  try {
    assert.deepEqual(reopened.tailState, { kind: 'truncated-at', offset: BigInt(frameStart) });
    assert.deepEqual(texts(reopened), [[1n, 'kept']]);
    assert.equal(reopened.append('again'), 2n);
  } finally {
    reopened.close();
  }
});

test('errors are WalogsErrors with a code and a readable message', () => {
  const dir = freshDir();
  const wal = open(dir, { maxSegmentSize: 128 });
  try {
    assert.throws(() => wal.append(new Uint8Array(16 * 1024 * 1024 + 1)), (e) => {
      assert.ok(walogsError('entry-too-large')(e));
      assert.deepEqual(e.detail, { size: 16777217n, max: 16777216n });
      assert.match(e.message, /16777217 bytes/);
      return true;
    });
    assert.throws(() => [...wal.entries(99)], walogsError('lsn-out-of-range'));
    for (let i = 0; i < 20; i++) wal.append(`entry ${i}`);
  } finally {
    wal.close();
  }
  assert.throws(() => wal.append('x'), walogsError('closed'));
  wal.close(); // closing twice is fine

  assert.throws(() => open(join(dir, segmentFiles(dir)[0])), walogsError('not-a-directory'));
  const reader = open(dir, { readOnly: true });
  assert.throws(() => reader.append('x'), walogsError('read-only'));
  reader.close();

  const sealed = join(dir, segmentFiles(dir)[0]);
  const bytes = readFileSync(sealed);
  bytes[bytes.length - 2] ^= 0xff;
  writeFileSync(sealed, bytes);
  const damaged = open(dir, { readOnly: true });
  try {
    assert.throws(() => damaged.verify(), (e) => walogsError('corrupt')(e) && e.message.startsWith('the log is damaged'));
  } finally {
    damaged.close();
  }
});

test('Symbol.dispose closes the log and releases the lock', () => {
  const dir = freshDir();
  const wal = open(dir);
  wal.append('x');
  assert.equal(typeof wal[Symbol.dispose], 'function');
  wal[Symbol.dispose]();
  assert.ok(wal.closed);
  const again = open(dir);
  assert.equal(again.nextLsn, 2n);
  again.close();
});
