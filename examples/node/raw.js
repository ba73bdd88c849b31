// The walogs component with jco's output alone, no walogs package: what a binding must do.
// Usage: node raw.js DIR   (after `npm run transpile`, which writes ./gen)

import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import fsExt from 'fs-ext';
import { instantiate } from './gen/walogs.js';

const dir = resolve(process.argv[2]);
mkdirSync(dir, { recursive: true });

// WASI has no locks: the host must hold the directory's lock while a writer is open.
const lock = openSync(join(dir, 'LOCK'), 'a');
fsExt.flockSync(lock, 'exnb'); // throws EAGAIN: another writer has it

// The guest sees only the log directory, at /wal.
const shim = new WASIShim({ sandbox: { preopens: { '/wal': dir } } });
const getCoreModule = (name) => new WebAssembly.Module(readFileSync(new URL(`./gen/${name}`, import.meta.url)));
const { log } = instantiate(getCoreModule, shim.getImportObject());

const config = log.defaultConfig(); // 64 MiB segments; maxSegmentSize is a BigInt, 0n never rotates
const wal = log.Wal.open('/wal', config); // errors are thrown with the WIT variant in `.payload`
// list<u8> wants a Uint8Array: jco stores a JS string as an empty entry, so encode it yourself.
console.log(`appended ${wal.append(new TextEncoder().encode('raw bytes'))}`); // LSNs are BigInts
const cursor = wal.iter();
for (let batch; (batch = cursor.nextBatch(64, 1n << 20n)).length > 0; ) {
  for (const { lsn, data } of batch) console.log(`${lsn}: ${new TextDecoder().decode(data)}`);
}
cursor[Symbol.dispose]();
wal[Symbol.dispose](); // closes the log's files
closeSync(lock);
