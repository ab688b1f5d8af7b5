#!/usr/bin/env python3
# Writes the seed corpus of fuzz_wl_msg (tests/fuzz/corpus/fuzz_wl_msg/):
# message sequences as a client and its compositor exchange them, each
# message one direction byte (0 request, 1 event) and the message. The
# target has already done wl_display.get_registry(2), bound the globals
# below at ids 3.. and created wl_surface 19; new ids start at 20.
import os
import struct

REQ, EV = 0, 1
SERVER = 0xff000000
(COMPOSITOR, SUBCOMPOSITOR, SHM, SEAT, OUTPUT, DDM, WM_BASE, DECORATION, VIEWPORTER,
 PRESENTATION, XDG_OUTPUT, PRIMARY, RELATIVE, CONSTRAINTS, ACTIVATION, DMABUF,
 SURFACE) = range(3, 20)


class Array(bytes):
    pass


def msg(obj, op, *args):
    body = b''
    for a in args:
        if isinstance(a, Array):
            body += struct.pack('<I', len(a)) + a + b'\0' * (-len(a) % 4)
        elif isinstance(a, str):
            s = a.encode() + b'\0'
            body += struct.pack('<I', len(s)) + s + b'\0' * (-len(s) % 4)
        else:
            body += struct.pack('<I', a & 0xffffffff)
    return struct.pack('<II', obj, (8 + len(body)) << 16 | op) + body


def req(obj, op, *args):
    return bytes([REQ]) + msg(obj, op, *args)


def ev(obj, op, *args):
    return bytes([EV]) + msg(obj, op, *args)


def seed(name, *records):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'fuzz_wl_msg')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b''.join(records))


def fixed(v):
    return int(v * 256)


# registry traffic, a late bind, a global going away
seed('registry',
     ev(2, 0, 1, 'wl_compositor', 5), ev(2, 0, 40, 'wl_seat', 8),
     req(2, 0, 40, 'wl_seat', 8, 20), req(20, 1, 21), ev(20, 0, 3), ev(20, 1, 'seat1'),
     ev(2, 1, 40), req(20, 3), ev(1, 1, 21), ev(1, 1, 20),
     req(1, 0, 22), ev(22, 0, 7), ev(1, 1, 22))
# shm buffers on the surface, frame callbacks, delete_id and reuse
seed('surface',
     req(SHM, 0, 20, 65536), req(20, 0, 21, 0, 64, 64, 256, 0), ev(SHM, 0, 1),
     req(SURFACE, 1, 21, 0, 0), req(SURFACE, 2, 0, 0, 64, 64), req(SURFACE, 3, 22),
     req(SURFACE, 8, 2), req(SURFACE, 9, 0, 0, 128, 128), req(SURFACE, 6),
     ev(21, 0), ev(22, 0, 1000), ev(1, 1, 22), req(SURFACE, 3, 22), req(SURFACE, 6),
     ev(SURFACE, 0, OUTPUT), req(20, 2, 131072), req(21, 0), ev(1, 1, 21), req(20, 1),
     ev(1, 1, 20), req(COMPOSITOR, 1, 20), req(20, 1, 0, 0, 10, 10), req(SURFACE, 5, 20))
# an xdg toplevel and a popup
seed('xdg',
     req(WM_BASE, 2, 20, SURFACE), req(20, 1, 21), req(21, 2, 'a title'),
     req(21, 3, 'org.example.App'), req(21, 8, 100, 100), req(SURFACE, 6),
     ev(21, 3, Array(struct.pack('<4I', 1, 2, 3, 4))),
     ev(21, 0, 640, 480, Array(struct.pack('<2I', 4, 1))), ev(20, 0, 5), req(20, 4, 5),
     req(20, 3, 0, 0, 640, 480), ev(WM_BASE, 0, 77), req(WM_BASE, 3, 77),
     req(COMPOSITOR, 0, 22), req(WM_BASE, 2, 23, 22), req(WM_BASE, 1, 24),
     req(24, 1, 100, 50), req(24, 2, 0, 0, 10, 10), req(23, 2, 25, 20, 24),
     ev(25, 0, 5, 5, 100, 50), ev(23, 0, 6), ev(25, 1), req(25, 0), req(23, 0),
     ev(21, 1), req(21, 0), req(20, 0))
# seat input with a keymap fd, a pointer and the clipboard
seed('seat',
     ev(SEAT, 0, 7), req(SEAT, 1, 20), req(SEAT, 0, 21),
     ev(20, 0, 1, 48000), ev(20, 5, 25, 600),
     ev(20, 1, 10, SURFACE, Array(struct.pack('<2I', 30, 31))),
     ev(20, 3, 11, 1234, 30, 1), ev(20, 4, 12, 1, 0, 0, 0),
     ev(21, 0, 13, SURFACE, fixed(10.5), fixed(3)), ev(21, 2, 99, fixed(11), fixed(4)),
     ev(21, 3, 14, 100, 272, 1), ev(21, 5), req(21, 0, 13, 0, 0, 0),
     req(DDM, 1, 22, SEAT), ev(22, 0, SERVER), ev(SERVER, 0, 'text/plain'),
     ev(SERVER, 0, 'text/plain;charset=utf-8'), ev(22, 5, SERVER),
     req(SERVER, 1, 'text/plain'), req(SERVER, 2),
     req(DDM, 0, 23), req(23, 0, 'text/plain'), req(22, 1, 23, 14), ev(23, 1, 'text/plain'),
     ev(22, 0, SERVER), ev(22, 5, 0), ev(20, 2, 15, SURFACE), ev(21, 1, 16, SURFACE))
# outputs and the smaller protocols
seed('extensions',
     ev(OUTPUT, 0, 0, 0, 300, 200, 0, 'Maker', 'Model', 0), ev(OUTPUT, 1, 3, 1920, 1080, 60000),
     ev(OUTPUT, 3, 1), ev(OUTPUT, 4, 'HDMI-A-1'), ev(OUTPUT, 2),
     req(XDG_OUTPUT, 1, 20, OUTPUT), ev(20, 0, 0, 0), ev(20, 1, 1920, 1080), ev(20, 3, 'HDMI-A-1'),
     req(COMPOSITOR, 0, 21), req(SUBCOMPOSITOR, 1, 22, 21, SURFACE), req(22, 1, 10, 10),
     req(22, 2, SURFACE), req(22, 5),
     req(VIEWPORTER, 1, 23, SURFACE), req(23, 1, 0, 0, fixed(32), fixed(32)), req(23, 2, 64, 64),
     req(PRESENTATION, 1, SURFACE, 24), ev(PRESENTATION, 0, 1), ev(24, 0, OUTPUT),
     ev(24, 1, 0, 1, 2, 16666666, 0, 1, 7),
     req(SEAT, 0, 25), req(RELATIVE, 1, 26, 25), ev(26, 0, 0, 1, fixed(1), fixed(2), 0, 0),
     req(CONSTRAINTS, 1, 27, SURFACE, 25, 0, 1), ev(27, 0), ev(27, 1), req(27, 0),
     req(ACTIVATION, 1, 28), req(28, 0, 5, SEAT), req(28, 2, SURFACE), req(28, 3),
     ev(28, 0, 'token-123'), req(ACTIVATION, 2, 'token-123', SURFACE),
     req(PRIMARY, 1, 29, SEAT), ev(29, 0, SERVER + 1), ev(SERVER + 1, 0, 'text/plain'))
# decorations and dma-bufs (an fd per plane, a compositor-created buffer)
seed('dmabuf',
     req(WM_BASE, 2, 20, SURFACE), req(20, 1, 21), req(DECORATION, 1, 22, 21), req(22, 1, 2),
     ev(22, 0, 2), req(DMABUF, 2, 23), ev(23, 1, 4096), ev(23, 2, Array(b'\1' * 8)),
     ev(23, 5, Array(struct.pack('<3H', 0, 1, 2))), ev(23, 3), ev(23, 0),
     req(DMABUF, 1, 24), req(24, 1, 0, 0, 256, 0, 0), req(24, 1, 1, 4096, 256, 0, 0),
     req(24, 2, 64, 64, 0x34325258, 0), ev(24, 0, SERVER + 2), req(SURFACE, 1, SERVER + 2, 0, 0),
     req(DMABUF, 1, 25), req(25, 3, 26, 64, 64, 0x34325258, 0), req(SURFACE, 1, 26, 0, 0))
# refused messages between good ones
seed('malformed',
     req(WM_BASE, 2, 20, SURFACE), req(20, 1, 21),
     bytes([REQ]) + struct.pack('<III', 21, 20 << 16 | 2, 5) + b'hello\0\0\0',
     bytes([REQ]) + struct.pack('<IIII', 21, 16 << 16 | 2, 100, 0),
     bytes([EV]) + struct.pack('<IIIII', 21, 20 << 16, 1, 1, 64),
     req(COMPOSITOR, 0, SURFACE), req(555, 0), req(SURFACE, 40), ev(1, 9, 0),
     bytes([REQ]) + struct.pack('<II', 1, 8 << 16 | 1),
     bytes([REQ]) + struct.pack('<IIII', 1, 16 << 16 | 1, 30, 0),
     req(WM_BASE, 2, 31, 4242), req(WM_BASE, 2, 31, 0),
     req(2, 0, 50, 'wl_nonexistent', 1, 32), req(2, 0, 51, 'wl_seat', 0x80000000, 33),
     bytes([REQ]) + struct.pack('<II', SURFACE, 4 << 16 | 6),
     req(21, 2, 'after all that'),
     bytes([REQ]) + struct.pack('<II', SURFACE, 0xffff0006))
