#!/usr/bin/env python3
# Writes the seed corpus of fuzz_relay (tests/fuzz/corpus/fuzz_relay/):
# realistic relay frame sequences as the agent sends them, each frame a
# little-endian u16 length and its bytes. The target has already done
# wl_display.get_registry(2) and shown globals 1 wl_compositor, 2 wl_shm,
# 3 xdg_wm_base, 4 wl_seat, 6 wl_data_device_manager.
import os
import struct

WL, FD_SHM, SHM_DATA, FD_FILE, FD_FILE_DATA, FD_PIPE = 1, 2, 3, 4, 5, 6
FD_REGION, SHM_GPA = 8, 9


def msg(obj, op, *args):
    body = b''
    for a in args:
        if isinstance(a, str):
            s = a.encode() + b'\0'
            body += struct.pack('<I', len(s)) + s + b'\0' * (-len(s) % 4)
        else:
            body += struct.pack('<I', a & 0xffffffff)
    return struct.pack('<II', obj, (8 + len(body)) << 16 | op) + body


def wl(*msgs):
    return bytes([WL]) + b''.join(msgs)


def seed(name, *frames, size_mod3=False):
    out = b''.join(struct.pack('<H', len(f)) + f for f in frames)
    # The target offers its shared region (16 MiB, and 8 MiB of "guest
    # memory" it reads) to inputs whose size is a multiple of 3.
    while size_mod3 and len(out) % 3:
        out += b'\0'
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_relay')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(out)


seed('pool',
     wl(msg(2, 0, 2, 'wl_shm', 1, 3)),
     bytes([FD_SHM]) + struct.pack('<IQ', 1, 4096),
     wl(msg(3, 0, 4, 4096), msg(4, 0, 5, 0, 16, 16, 64, 0)),
     bytes([SHM_DATA]) + struct.pack('<IQ', 1, 0) + bytes(range(256)),
     wl(msg(4, 2, 8192)),
     bytes([SHM_DATA]) + struct.pack('<IQ', 1, 8000) + b'\x55' * 100,
     wl(msg(5, 0), msg(4, 1)))
seed('surface',
     wl(msg(2, 0, 1, 'wl_compositor', 4, 3)),
     wl(msg(3, 0, 4), msg(3, 1, 5), msg(5, 1, 0, 0, 10, 10), msg(4, 2, 0, 0, 5, 5),
        msg(4, 4, 5), msg(4, 3, 6), msg(4, 6), msg(1, 0, 7)))
seed('xdg',
     wl(msg(2, 0, 1, 'wl_compositor', 4, 3), msg(2, 0, 3, 'xdg_wm_base', 3, 4)),
     wl(msg(3, 0, 5), msg(4, 2, 6, 5), msg(6, 1, 7), msg(7, 2, 'hello'),
        msg(7, 3, 'org.example'), msg(5, 6)))
seed('pipe',
     wl(msg(2, 0, 6, 'wl_data_device_manager', 3, 3), msg(2, 0, 4, 'wl_seat', 7, 4)),
     wl(msg(3, 1, 5, 4)),
     bytes([FD_PIPE]) + struct.pack('<I', 9))
seed('hidden-bind', wl(msg(2, 0, 5, 'zwp_linux_dmabuf_v1', 3, 3)))
seed('bad-frames',
     bytes([FD_FILE]) + struct.pack('<I', 10),
     bytes([99]),
     wl(b'\x01\x00\x00\x00\x04\x00'))
# Compressed buffer data (accepted when the input's length is even, as if
# the host had asked for it): a literal-only LZ4 block, one with a match,
# one that claims more bytes than it expands to, one past the pool's end.
SHM_LZ4 = 7


def lz4(pool, offset, raw, block):
    return bytes([SHM_LZ4]) + struct.pack('<IQI', pool, offset, raw) + block


seed('pool-lz4',
     wl(msg(2, 0, 2, 'wl_shm', 1, 3)),
     bytes([FD_SHM]) + struct.pack('<IQ', 1, 4096),
     wl(msg(3, 0, 4, 4096), msg(4, 0, 5, 0, 16, 16, 64, 0)),
     lz4(1, 0, 10, b'\xa0' + b'0123456789'),
     lz4(1, 100, 13, b'\x14a\x01\x00' + b'\x50' + b'vwxyz'),
     lz4(1, 200, 50, b'\xa0' + b'0123456789'),
     lz4(1, 4090, 10, b'\xa0' + b'0123456789'),
     wl(msg(5, 0), msg(4, 1)),
     b'x')  # makes the input's length even

# A pool on the shared region (taken when the input's length is a multiple
# of 3): the region's 16 MiB pool, buffers at slots, one reused after its
# destroy, one overlapping a live one.
FD_REGION = 8
REGION = 16 << 20


frames = [wl(msg(2, 0, 2, 'wl_shm', 1, 3)),
          bytes([FD_REGION]) + struct.pack('<I', 1),
          wl(msg(3, 0, 4, REGION), msg(4, 0, 5, 4096, 16, 16, 64, 0),
             msg(5, 0), msg(4, 0, 5, 4096, 16, 16, 64, 0),
             msg(4, 0, 6, 8192, 64, 64, 256, 0))]
while sum(2 + len(f) for f in frames) % 3 != 0:
    frames.append(b'')
seed('region', *frames)
seed('guest-memory',
     wl(msg(2, 0, 2, 'wl_shm', 1, 3)),
     bytes([FD_REGION]) + struct.pack('<I', 1),
     wl(msg(3, 0, 4, 16 << 20), msg(4, 0, 5, 4096, 64, 64, 256, 0)),
     bytes([SHM_GPA]) + struct.pack('<QQIQI', 4096, 8192, 4096, 1 << 20, 12288),
     bytes([SHM_GPA]) + struct.pack('<QQI', 4096 + 16000, 8192, 4096),
     size_mod3=True)
