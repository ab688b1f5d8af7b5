#!/usr/bin/env python3
# A tiny client of the compositor's JSON IPC (BULKHEAD_SOCKET) for tests:
#   ipc.py windows          -> one line per window: id tag x y w h focused app_id title
#   ipc.py focus ID         -> focuses a window
#   ipc.py wait-window TAG APP_ID SECONDS -> prints the id once such a window exists
#   ipc.py call JSON        -> sends one request, prints the reply
#   ipc.py get windows|tags -> one JSON object per line
import json
import os
import socket
import sys
import time


def request(req, timeout=None):
    """Sends one request, returns the reply as it is (tests/soak uses it too)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.environ['BULKHEAD_SOCKET'])
    s.sendall((json.dumps(req) + '\n').encode())
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def call(req):
    reply = request(req)
    if not reply.get('ok'):
        raise SystemExit('ipc: %s failed: %s' % (req['cmd'], reply.get('error')))
    return reply


def windows():
    return call({'cmd': 'windows'}).get('windows', [])


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'windows':
        for w in windows():
            print(w['id'], w.get('tag') or '-', w['x'], w['y'], w['width'], w['height'],
                  int(bool(w.get('focused'))), w.get('app_id') or '-', w.get('title') or '')
    elif cmd == 'call':
        # ipc.py call '{"cmd": ...}' -> the reply, as JSON
        print(json.dumps(call(json.loads(sys.argv[2]))))
    elif cmd == 'get':
        # ipc.py get windows|tags -> the list, one JSON object per line
        for item in call({'cmd': sys.argv[2]}).get(sys.argv[2], []):
            print(json.dumps(item))
    elif cmd == 'tag-field':
        # ipc.py tag-field TAG FIELD -> that field of the tag ("" when unset)
        for t in call({'cmd': 'tags'}).get('tags', []):
            if t['name'] == sys.argv[2]:
                print(t.get(sys.argv[3]) or '')
    elif cmd == 'focus':
        call({'cmd': 'focus', 'id': int(sys.argv[2])})
    elif cmd == 'wait-window':
        tag, app_id, seconds = sys.argv[2], sys.argv[3], float(sys.argv[4])
        end = time.time() + seconds
        while time.time() < end:
            for w in windows():
                if (w.get('tag') or '-') == tag and (app_id == '*' or w.get('app_id') == app_id) \
                        and w['width'] > 0:
                    print(w['id'], w['x'], w['y'], w['width'], w['height'], w.get('title') or '')
                    sys.exit(0)
            time.sleep(0.2)
        sys.exit(1)
    else:
        raise SystemExit('ipc.py: unknown command ' + cmd)
