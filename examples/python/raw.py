"""The walogs component with wasmtime-py alone, no walogs package: what a binding must do.

Usage: python raw.py DIR COMPONENT   (COMPONENT: walogs.wasm, built by `just component`)
"""

import fcntl
import os
import sys

from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Variant

path, wasm = sys.argv[1], sys.argv[2]
os.makedirs(path, exist_ok=True)

# WASI has no locks: the host must hold the directory's lock while a writer is open.
lock = os.open(os.path.join(path, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: another writer has it

engine = Engine()
linker = Linker(engine)
linker.add_wasip2()
store = Store(engine)
wasi = WasiConfig()
wasi.preopen_dir(path, "/wal")  # the guest sees only the log directory
store.set_wasi(wasi)
instance = linker.instantiate(store, Component.from_file(engine, wasm))
log = instance.get_export_index(store, "walogs:wal/log@0.2.0")


def call(name, *args):
    """Calls an export by its mangled name; every call needs post_return; errors are Variants."""
    func = instance.get_func(store, instance.get_export_index(store, name, log))
    result = func(store, *args)
    func.post_return(store)
    if isinstance(result, Variant):
        raise RuntimeError(f"{result.tag}: {result.payload}")
    return result


config = call("default-config")  # 64 MiB segments; fields keep kebab-case names
wal = call("[static]wal.open", "/wal", config)
print("appended", call("[method]wal.append", wal, b"raw bytes"))  # only `bytes`, byte by byte
cursor = call("[method]wal.iter", wal)
while batch := call("[method]cursor.next-batch", cursor, 64, 1 << 20):
    for entry in batch:
        print(f"{entry.lsn}: {bytes(entry.data).decode()}")
cursor.drop(store)
wal.drop(store)  # resources are closed explicitly
os.close(lock)
