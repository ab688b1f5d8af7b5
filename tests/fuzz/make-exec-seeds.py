#!/usr/bin/env python3
# Writes the seed corpus of fuzz_exec (tests/fuzz/corpus/fuzz_exec/): exec
# sessions as bulkheadctl sends them to the agent (first byte 0) and as the
# agent answers (first byte 1), each message a little-endian u16 length and
# its bytes, and a few that a reader must refuse.
import os
import struct

START, STDIN, EOF, SIGNAL, RESIZE = 1, 2, 3, 4, 5
STDOUT, STDERR, EXIT, ERROR = 16, 17, 18, 19
PTY = 1


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack('<I', len(b)) + b


def start(*argv, flags=0, rows=0, cols=0):
    return bytes([START]) + struct.pack('<IHHI', flags, rows, cols, len(argv)) + \
        b''.join(s(a) for a in argv)


def seed(name, side, *msgs):
    out = bytes([side]) + b''.join(struct.pack('<H', len(m)) + m for m in msgs)
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_exec')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(out)


# The agent's side: what bulkheadctl exec and shell send.
seed('exec', 0, start('sh', '-c', 'echo hi; exit 3'), bytes([EOF]))
seed('exec-stdin', 0, start('cat'), bytes([STDIN]) + b'x' * 1000, bytes([STDIN]) + b'y',
     bytes([EOF]), bytes([SIGNAL]) + struct.pack('<I', 15))
seed('shell', 0, start('/bin/sh', '-c', 'exec "${SHELL:-/bin/sh}" -l', flags=PTY, rows=24,
                       cols=80),
     bytes([RESIZE]) + struct.pack('<HH', 50, 132), bytes([STDIN]) + b'ls\r', bytes([EOF]),
     bytes([SIGNAL]) + struct.pack('<I', 2))
seed('empty-arg', 0, start('printf', '', '%s\\n', 'a b'))
seed('before-start', 0, bytes([STDIN]) + b'early', start('true'))
seed('second-start', 0, start('true'), start('false'))
seed('too-many-args', 0, bytes([START]) + struct.pack('<IHHI', 0, 0, 0, 5000) + s('a') * 8)
seed('nul-in-arg', 0, bytes([START]) + struct.pack('<IHHI', 0, 0, 0, 1) + s(b'a\0b'))
seed('arg-past-end', 0, bytes([START]) + struct.pack('<IHHI', 0, 0, 0, 1) +
     struct.pack('<I', 100) + b'abc')
seed('signal-0', 0, start('true'), bytes([SIGNAL]) + struct.pack('<I', 0))
seed('resize-short', 0, start('true'), bytes([RESIZE, 1]))
# bulkheadctl's side: what the agent sends back.
seed('output', 1, bytes([STDOUT]) + b'hi\n', bytes([STDERR]) + b'oops\n',
     bytes([EXIT]) + struct.pack('<II', 0, 3))
seed('killed', 1, bytes([STDOUT]) + b'up\n', bytes([EXIT]) + struct.pack('<II', 1, 15))
seed('error', 1, bytes([ERROR]) + b'could not start nosuchcommand')
seed('after-exit', 1, bytes([EXIT]) + struct.pack('<II', 0, 0), bytes([STDOUT]) + b'late')
seed('exit-short', 1, bytes([EXIT]) + struct.pack('<I', 0))
seed('error-long', 1, bytes([ERROR]) + b'e' * 1100)
seed('host-type', 1, bytes([STDIN]) + b'wrong way')
