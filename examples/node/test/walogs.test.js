// The Node.js examples run, print what docs/EMBEDDING.md shows, and the page shows their code.
// The package's own behaviour is tested in packages/npm/test, against the packed tarball.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = mkdtempSync(join(tmpdir(), 'walogs-node-example-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The fenced blocks of `lang` in docs/EMBEDDING.md. */
const docBlocks = (lang) => {
  const doc = readFileSync(new URL('../../../docs/EMBEDDING.md', import.meta.url), 'utf8');
  return [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
};
const source = (name) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');
const run = (name, ...args) =>
  execFileSync(process.execPath, [fileURLToPath(new URL(`../${name}`, import.meta.url)), ...args], {
    cwd: root,
    encoding: 'utf8',
  });

test('the example runs and prints what docs/EMBEDDING.md shows', () => {
  const out = run('example.js', 'my-wal');
  const lines = out.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['appended 1, then 2..4', '102: event 97', '103: event 98', '104: event 99']);
  assert.match(out, /checkpoint deleted 2 segments; the log now starts at 86/);
  assert.ok(docBlocks('text').includes(out), 'docs/EMBEDDING.md shows this output');
});

test('the raw bindings append and LSNs go on across runs', () => {
  assert.equal(run('raw.js', 'raw-wal'), 'appended 1\n1: raw bytes\n');
  assert.equal(run('raw.js', 'raw-wal'), 'appended 2\n1: raw bytes\n2: raw bytes\n');
});

test('docs/EMBEDDING.md shows exactly the code the tests run', () => {
  const blocks = docBlocks('js');
  for (const name of ['example.js', 'raw.js']) {
    assert.ok(blocks.includes(source(name)), `the doc shows ${name} in full`);
  }
});
