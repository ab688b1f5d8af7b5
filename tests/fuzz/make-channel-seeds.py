#!/usr/bin/env python3
# Writes the seed corpus of fuzz_channel (tests/fuzz/corpus/fuzz_channel/):
# channel byte streams as a guest agent sends them. The first byte of each
# seed picks the read size the target splits the rest into.
import os
import struct

OPEN, DATA, CLOSE, CREDIT, CONTROL = 1, 2, 3, 4, 16
WAYLAND, EXEC, PUSH, PULL, PIPE = 1, 2, 3, 4, 5


def frame(ftype, stream, payload=b''):
    return struct.pack('<III', len(payload), stream, ftype) + payload


def hello():
    steps = [(b'kernel', 1500000), (b'agent', 300000)]
    body = struct.pack('<III', 1, 15, len(steps))
    for name, usec in steps:
        body += struct.pack('<I', len(name)) + name + struct.pack('<Q', usec)
    return frame(CONTROL + 1, 0, body)


def seed(name, split, *frames):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_channel')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(bytes([split]) + b''.join(frames))


seed('hello', 0, hello())
seed('wayland-stream', 3,
     hello(),
     frame(OPEN, 1, struct.pack('<I', WAYLAND)),
     frame(DATA, 1, b'\x01' + struct.pack('<II', 1, 12 << 16 | 1) + struct.pack('<I', 2)),
     frame(CREDIT, 1, struct.pack('<I', 4096)),
     frame(DATA, 1, b'\xff'),
     frame(CLOSE, 1, struct.pack('<I', 0) + b'bye'))
seed('two-streams', 1,
     frame(OPEN, 1, struct.pack('<I', WAYLAND)),
     frame(OPEN, 3, struct.pack('<I', PIPE)),
     frame(OPEN, 5, struct.pack('<I', WAYLAND)),
     frame(DATA, 5, b'\xfe' + b'x' * 100),
     frame(DATA, 1, b'y' * 300),
     frame(DATA, 5, b'\xfd'),
     frame(CONTROL + 2, 0),
     frame(DATA, 2, b'z'))
seed('bad-control', 0, frame(CONTROL + 3, 0, b'abc'))
seed('over-limit', 0, struct.pack('<III', 0x10001, 1, DATA))
seed('truncated', 5, frame(OPEN, 1, struct.pack('<I', WAYLAND)) + frame(DATA, 1, b'q' * 50)[:30])
seed('big', 200, frame(OPEN, 1, struct.pack('<I', EXEC)), frame(DATA, 1, bytes(range(256)) * 256))
# Large frames cut across reads are placed; one declined (0xfc), one cut
# short, then more frames after them.
seed('placed', 90, frame(OPEN, 1, struct.pack('<I', WAYLAND)),
     frame(DATA, 1, b'\x02' + bytes(range(256)) * 20),
     frame(DATA, 1, b'\xfc' + b'n' * 5000),
     frame(DATA, 1, b'y' * 30),
     frame(DATA, 1, b'\x02' + b'p' * 9000)[:4000])
