#!/usr/bin/env python3
# Reads a PNG screenshot (8-bit RGB/RGBA, as grim and cairo write them) with
# the standard library only and answers questions about its pixels:
#   png-probe.py FILE saturated X Y W H   -> count of strongly coloured pixels
#   png-probe.py FILE pixel X Y           -> "r g b" of one pixel
#   png-probe.py FILE dark X Y W H        -> count of near-black pixels
#   png-probe.py FILE light X Y W H       -> count of near-white pixels
#   png-probe.py FILE diff OTHER X Y W H  -> count of pixels that differ
#   png-probe.py FILE box R G B           -> "count x0 y0 x1 y1": pixels of
#                                            exactly that colour, bounding box
import struct
import sys
import zlib


def read_png(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG: ' + path)
    pos = 8
    idat = b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            width, height, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise SystemExit('unsupported PNG format')
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    path, what = sys.argv[1], sys.argv[2]
    other = None
    if what == 'diff':
        other = read_png(sys.argv[3])
        del sys.argv[3]
    args = [int(v) for v in sys.argv[3:]]
    width, height, bpp, rows = read_png(path)

    def px(x, y):
        r = rows[y]
        return r[x * bpp], r[x * bpp + 1], r[x * bpp + 2]

    if what == 'pixel':
        print('%d %d %d' % px(args[0], args[1]))
        return
    if what == 'box':
        want = tuple(args)
        n, x0, y0, x1, y1 = 0, width, height, -1, -1
        for y in range(height):
            for x in range(width):
                if px(x, y) == want:
                    n += 1
                    x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
        print(n, x0, y0, x1, y1)
        return
    x0, y0, w, h = args if args else (0, 0, width, height)
    count = 0
    for y in range(max(0, y0), min(height, y0 + h)):
        for x in range(max(0, x0), min(width, x0 + w)):
            r, g, b = px(x, y)
            if what == 'saturated' and max(r, g, b) - min(r, g, b) > 96:
                count += 1
            elif what == 'dark' and max(r, g, b) < 40:
                count += 1
            elif what == 'light' and min(r, g, b) > 200:
                count += 1
            elif what == 'diff':
                o = other[3][y]
                ob = other[2]
                if (r, g, b) != (o[x * ob], o[x * ob + 1], o[x * ob + 2]):
                    count += 1
    print(count)


main()
