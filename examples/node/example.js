// walogs from Node.js: open a log, append, iterate, checkpoint.
// Usage: node example.js [DIR]   (default: a new temporary directory)

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'walogs';

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'walogs-'));
const wal = open(dir, { maxSegmentSize: 1024 });
try {
  const lsn = wal.append('hello');
  const { start, end } = wal.appendBatch(['one', 'two', 'three']);
  console.log(`appended ${lsn}, then ${start}..${end - 1n}`);

  for (let i = 0; i < 100; i++) wal.append(`event ${i}`);
  for (const { lsn, data } of wal.entries(wal.lastLsn - 2n)) {
    console.log(`${lsn}: ${new TextDecoder().decode(data)}`);
  }

  // Everything up to here is applied elsewhere: drop the sealed segments that only hold it.
  const deleted = wal.checkpoint(wal.lastLsn);
  console.log(`checkpoint deleted ${deleted} segments; the log now starts at ${wal.firstLsn}`);
} finally {
  wal.close();
}
console.log(`log in ${dir}`);
