#!/usr/bin/env python3
# Writes the seed corpus of fuzz_archive (tests/fuzz/corpus/fuzz_archive/):
# archives as bulkheadctl and the agent send them, each message a
# little-endian u16 length and its bytes.
import os
import struct

DIR, REG, DATA, END, SYMLINK = 33, 34, 35, 36, 39


def s(text):
    b = text.encode()
    return struct.pack('<I', len(b)) + b


def d(path, mode=0o755):
    return bytes([DIR]) + struct.pack('<IqI', mode, 1600000000, 5) + s(path)


def f(path, size, mode=0o644):
    return bytes([REG]) + struct.pack('<IqIQ', mode, 1600000000, 7, size) + s(path)


def data(b):
    return bytes([DATA]) + b


def link(path, target):
    return bytes([SYMLINK]) + struct.pack('<qI', 1600000000, 0) + s(target) + s(path)


def seed(name, *msgs):
    out = b''.join(struct.pack('<H', len(m)) + m for m in msgs)
    p = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_archive')
    os.makedirs(p, exist_ok=True)
    with open(os.path.join(p, name), 'wb') as fh:
        fh.write(out)


seed('tree', d('t'), d('t/a'), f('t/a/x', 5), data(b'hello'), link('t/l', '../x'),
     d('t/b', 0o700), f('t/b/y', 0), bytes([END]))
seed('file', f('one', 3), data(b'abc'), bytes([END]))
seed('escape', d('t'), link('t/e', '/'), d('t/e'), f('t/e/x', 0), bytes([END]))
seed('dotdot', d('t'), f('t/../x', 0), bytes([END]))
seed('oversize', f('one', 2), data(b'abcdef'))
