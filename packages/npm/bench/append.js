// Append cost of the installed walogs package, µs per append: 1 B, 4 KiB, 16 MiB entries,
// durable ('always') and not synced ('none'); beside it the same bytes written with node:fs
// directly (writeSync, plus fdatasyncSync when durable), the floor for any file I/O from Node.
//
// Usage (in a project that installed walogs): node bench/append.js [--quick]   (asserts nothing)

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'walogs';

const quick = process.argv.includes('--quick');
const SIZES = [[1, 2000], [4096, 2000], [16 << 20, 5]];

function perCall(count, f) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) f();
  return Number(process.hrtime.bigint() - start) / 1e3 / count;
}

function walogsCost(size, count, durability) {
  const dir = mkdtempSync(join(tmpdir(), 'walogs-bench-'));
  const wal = open(dir, { durability });
  const data = randomBytes(size);
  try {
    wal.append(data);
    return perCall(count, () => wal.append(data));
  } finally {
    wal.close();
    rmSync(dir, { recursive: true });
  }
}

function nodeFsCost(size, count, durability) {
  const dir = mkdtempSync(join(tmpdir(), 'walogs-bench-'));
  const fd = openSync(join(dir, 'file'), 'a');
  const data = randomBytes(size);
  try {
    return perCall(count, () => {
      writeSync(fd, data);
      if (durability === 'always') fdatasyncSync(fd);
    });
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
}

console.log('| path | durability | 1 B | 4 KiB | 16 MiB |');
console.log('|---|---|---|---|---|');
for (const [name, cost] of [['walogs (npm)', walogsCost], ['node:fs write', nodeFsCost]]) {
  for (const durability of ['always', 'none']) {
    const cells = SIZES.map(([size, count]) => cost(size, Math.max(1, quick ? count / 10 : count), durability).toFixed(1));
    console.log(`| ${name} | ${durability} | ${cells.join(' | ')} |`);
  }
}
