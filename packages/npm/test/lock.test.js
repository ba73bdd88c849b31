// Two writers on one directory: the second gets WalogsError 'locked', in this process or in
// another, and nothing the first acknowledged is lost, even when the first is killed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { open, WalogsError } from 'walogs';

const root = mkdtempSync(join(tmpdir(), 'walogs-npm-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A child process that opens `dir`, appends `count` entries, prints each LSN it got acknowledged, then waits. */
function writer(dir, count) {
  const script = `
    import { open } from 'walogs';
    const wal = open(${JSON.stringify(dir)});
    for (let i = 1; i <= ${count}; i++) console.log(String(wal.append('child ' + i)));
    console.log('holding');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  return { child, exited, lines: lines[Symbol.asyncIterator]() };
}

const locked = (e) => e instanceof WalogsError && e.code === 'locked' && e.message.includes('LOCK');

test('a second writer in the same process is refused; a reader is not', () => {
  const dir = join(root, 'same-process');
  const first = open(dir);
  try {
    first.append('one');
    assert.throws(() => open(dir), locked);
    const reader = open(dir, { readOnly: true });
    assert.equal(reader.lastLsn, 1n);
    reader.close();
    assert.equal(first.append('two'), 2n, 'the refused open changed nothing');
  } finally {
    first.close();
  }
  open(dir).close(); // released on close
});

test('a live iterator does not keep the lock once its log is closed', () => {
  const dir = join(root, 'live-iterator');
  const wal = open(dir);
  for (const data of ['one', 'two', 'three']) wal.append(data);
  const entries = wal.entries();
  assert.equal(entries.next().value.lsn, 1n);
  wal.close();
  const next = open(dir); // not 'locked': the lock went with close, not with the cursor
  try {
    assert.equal(next.nextLsn, 4n);
  } finally {
    next.close();
  }
  entries.return();
});

test('a writer in another process locks out this one; its acknowledged entries survive a kill', async () => {
  const dir = join(root, 'two-processes');
  const { child, exited, lines } = writer(dir, 50);
  const acknowledged = [];
  try {
    for (;;) {
      const { value, done } = await lines.next();
      assert.ok(!done, 'the writer exited early');
      if (value === 'holding') break;
      acknowledged.push(BigInt(value));
    }
    assert.equal(acknowledged.length, 50);
    assert.throws(() => open(dir), locked);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }

  // The kernel drops a dead process's lock: the next writer gets in and finds every entry.
  const wal = open(dir);
  try {
    const entries = [...wal];
    assert.deepEqual(entries.map((e) => e.lsn), acknowledged);
    assert.equal(new TextDecoder().decode(entries.at(-1).data), 'child 50');
    assert.equal(wal.append('after the kill'), 51n);
  } finally {
    wal.close();
  }
});

test('the lock is the flock every walogs host takes: one held by another program locks out too', async () => {
  // Python's fcntl.flock is what the PyPI package and (as File::try_lock) the Rust host use.
  const dir = join(root, 'foreign-flock');
  open(dir).close();
  const holder = spawn('python3', ['-c', `
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("holding", flush=True)
time.sleep(600)
`, join(dir, 'LOCK')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(holder, 'exit');
  try {
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'holding');
    assert.throws(() => open(dir), locked);
  } finally {
    holder.kill('SIGKILL');
    await exited;
  }
  open(dir).close();
});
