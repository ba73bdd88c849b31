// The walogs component from Node.js: open, append, append-batch, iterate, checkpoint,
// reopen, and recovery of a torn tail this test makes itself.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openWal, WalError } from '../walogs.js';

const root = mkdtempSync(join(tmpdir(), 'walogs-node-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `wal-${++dirs}`);

const text = (entry) => new TextDecoder().decode(entry.data);
const all = (wal, from) => [...wal.entries(from)].map((e) => [e.lsn, text(e)]);
const segmentFiles = (dir) => readdirSync(dir).filter((n) => /^wal-\d{6}\.log$/.test(n)).sort();
/** The newest segment file, `wal-NNNNNN.log`. */
const newestSegment = (dir) => join(dir, segmentFiles(dir).at(-1));
/** Whether `e` is a WalError of `kind`. */
const walError = (kind) => (e) => e instanceof WalError && e.kind === kind;

test('append, append-batch, iterate, reopen', () => {
  const dir = freshDir();
  const wal = openWal(dir);
  assert.deepEqual(wal.tailState, { tag: 'clean' });
  assert.equal(wal.append('a'), 1n);
  assert.deepEqual(wal.appendBatch(['b', 'c', new Uint8Array([100])]), { start: 2n, end: 5n });
  assert.equal(wal.sync(), 4n);
  assert.deepEqual(all(wal), [[1n, 'a'], [2n, 'b'], [3n, 'c'], [4n, 'd']]);
  assert.deepEqual(all(wal, 3), [[3n, 'c'], [4n, 'd']]);
  wal.close();

  const again = openWal(dir);
  try {
    assert.deepEqual(again.tailState, { tag: 'clean' });
    assert.deepEqual([again.firstLsn, again.lastLsn, again.nextLsn], [1n, 4n, 5n]);
    assert.equal(again.append('e'), 5n);
    assert.deepEqual(all(again).map(([lsn]) => lsn), [1n, 2n, 3n, 4n, 5n]);
  } finally {
    again.close();
  }
});

test('checkpoint deletes applied sealed segments and LSNs go on', () => {
  const dir = freshDir();
  const wal = openWal(dir, { maxSegmentSize: 256 });
  for (let i = 1; i <= 40; i++) assert.equal(wal.append(`entry ${i}`), BigInt(i));
  const before = wal.segments;
  assert.ok(before.length > 2, `expected rotation, got ${before.length} segment(s)`);
  const deleted = wal.checkpoint(30);
  assert.ok(deleted > 0);
  assert.equal(wal.segments.length, before.length - deleted);
  assert.ok(wal.firstLsn > 1n && wal.firstLsn <= 31n);
  assert.deepEqual(all(wal, 31).map(([, data]) => data).at(-1), 'entry 40');
  wal.close();

  const again = openWal(dir, { maxSegmentSize: 256 });
  assert.equal(again.append('after checkpoint'), 41n);
  again.close();
});

test('a torn tail is cut off on reopen and appends continue', () => {
  const dir = freshDir();
  const wal = openWal(dir);
  wal.appendBatch(['one', 'two', 'three']);
  wal.close();

  // A crash in the middle of a write leaves garbage after the last whole frame.
  const segment = newestSegment(dir);
  const cleanSize = statSync(segment).size;
  appendFileSync(segment, Buffer.from([0x17, 0x00, 0x00, 0x00, 0xde, 0xad]));

  const reopened = openWal(dir);
  try {
    assert.deepEqual(reopened.tailState, { tag: 'truncated-at', val: BigInt(cleanSize) });
    assert.equal(statSync(segment).size, cleanSize);
    assert.deepEqual(all(reopened), [[1n, 'one'], [2n, 'two'], [3n, 'three']]);
    assert.equal(reopened.append('four'), 4n);
  } finally {
    reopened.close();
  }
});

test('a frame cut short loses only that frame', () => {
  const dir = freshDir();
  const wal = openWal(dir);
  wal.append('kept');
  const frameStart = statSync(newestSegment(dir)).size;
  wal.append('cut short by the crash');
  wal.close();

  const segment = newestSegment(dir);
  truncateSync(segment, statSync(segment).size - 5);

  const reopened = openWal(dir);
  try {
    assert.deepEqual(reopened.tailState, { tag: 'truncated-at', val: BigInt(frameStart) });
    assert.deepEqual(all(reopened), [[1n, 'kept']]);
    assert.equal(reopened.append('again'), 2n);
  } finally {
    reopened.close();
  }
});

test('errors are WalErrors with the WIT variant as kind', () => {
  const dir = freshDir();
  const wal = openWal(dir, { maxSegmentSize: 128 });
  try {
    const tooLarge = new Uint8Array(16 * 1024 * 1024 + 1);
    assert.throws(() => wal.append(tooLarge), walError('entry-too-large'));
    assert.throws(() => [...wal.entries(99)], walError('lsn-out-of-range'));
    for (let i = 0; i < 20; i++) wal.append(`entry ${i}`);
  } finally {
    wal.close();
  }

  const reader = openWal(dir, { readOnly: true });
  assert.throws(() => reader.append('x'), walError('read-only'));
  reader.close();

  // Damage inside a sealed segment is corruption, never a silent end.
  const sealed = join(dir, segmentFiles(dir)[0]);
  const bytes = readFileSync(sealed);
  bytes[bytes.length - 2] ^= 0xff;
  writeFileSync(sealed, bytes);
  const damaged = openWal(dir, { readOnly: true });
  try {
    assert.throws(() => damaged.verify(), walError('corrupt'));
  } finally {
    damaged.close();
  }
});

test('a closed log refuses calls', () => {
  const wal = openWal(freshDir());
  wal.close();
  assert.throws(() => wal.append('x'), /the log is closed/);
  wal.close(); // closing twice is fine
});

/** The fenced blocks of `lang` in docs/EMBEDDING.md. */
const docBlocks = (lang) => {
  const doc = readFileSync(new URL('../../../docs/EMBEDDING.md', import.meta.url), 'utf8');
  return [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
};
const source = (name) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

test('the example runs and prints what docs/EMBEDDING.md shows', () => {
  const example = fileURLToPath(new URL('../example.js', import.meta.url));
  const cwd = freshDir();
  mkdirSync(cwd);
  const out = execFileSync(process.execPath, [example, 'my-wal'], { cwd, encoding: 'utf8' });
  const lines = out.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['appended 1, then 2..4', '102: event 97', '103: event 98', '104: event 99']);
  assert.match(out, /checkpoint deleted 2 segments; the log now starts at 86/);
  assert.ok(docBlocks('text').includes(out), 'docs/EMBEDDING.md shows this output');
});

test('docs/EMBEDDING.md shows exactly the code the tests run', () => {
  const blocks = docBlocks('js');
  assert.ok(blocks.includes(source('example.js')), 'the doc shows example.js in full');
  for (const block of blocks) {
    const shown = source('example.js').includes(block) || source('walogs.js').includes(block);
    assert.ok(shown, `not in the sources:\n${block}`);
  }
});
