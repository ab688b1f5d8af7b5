#!/usr/bin/env python3
# The soak's driver: for the given minutes it uses a running headless session
# the way a user would (windows opened and closed, typing, copy and paste,
# exec, push and pull, resizes) while it injects faults at random moments
# (kill -9 of an agent, a proxy, a qemu, a guest client; a cut channel).
# Then it checks that the compositor lived and did not grow, that nothing
# was left behind, that every overlay is sound and that every tag's home
# still holds what was written there. Every choice comes from one seeded
# RNG: the seed is printed, SOAK_SEED replays it.
#
# Set up by run.sh, from the environment: BH_TMP, BH_BUILD_ROOT,
# BH_SOURCE_ROOT, XDG_* (private), BULKHEAD_SOCKET, WAYLAND_DISPLAY,
# SOAK_VM_TAGS and SOAK_RELAY_TAGS (space separated), SOAK_MINUTES, SOAK_SEED.
import hashlib
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time

TMP = os.environ['BH_TMP']
BUILD = os.environ['BH_BUILD_ROOT']
CTL = os.path.join(BUILD, 'cli', 'bulkheadctl')
AGENT = os.path.join(BUILD, 'guest-agent', 'bulkhead-agent')
CLIP = os.path.join(BUILD, 'tests', 'relay', 'clip-client')
RUNTIME = os.environ['XDG_RUNTIME_DIR']
STATE = os.environ['XDG_STATE_HOME']
VM_TAGS = os.environ.get('SOAK_VM_TAGS', '').split()
RELAY_TAGS = os.environ.get('SOAK_RELAY_TAGS', '').split()
TAGS = VM_TAGS + RELAY_TAGS
MINUTES = float(os.environ.get('SOAK_MINUTES', '3'))
SEED = int(os.environ['SOAK_SEED'])
# Bounds on the compositor after the run, against its values after the
# warm-up, both measured with no window of the driver's open.
RSS_BOUND_KIB = int(os.environ.get('SOAK_RSS_BOUND_KIB', str(8 * 1024)))
FD_BOUND = int(os.environ.get('SOAK_FD_BOUND', '8'))
VM_BOOT_SECS = 240  # TCG, a shared machine: generous
RELAY_UP_SECS = 45

rng = random.Random(SEED)
LOG = open(os.path.join(TMP, 'soak.log'), 'a', buffering=1)
FAULTS = open(os.path.join(TMP, 'faults.jsonl'), 'a', buffering=1)
T0 = time.time()


def log(msg):
    line = '[%7.1f] %s' % (time.time() - T0, msg)
    LOG.write(line + '\n')
    print(line, flush=True)


problems = []


def problem(msg):
    problems.append(msg)
    log('PROBLEM: ' + msg)


# ---- the compositor's IPC ----

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'relay'))
from ipc import request as ipc_request  # noqa: E402  (the one IPC client of the tests)


def ipc(request, timeout=20):
    return ipc_request(request, timeout)


def windows():
    return ipc({'cmd': 'windows'}).get('windows', [])


def tag_info(name):
    for t in ipc({'cmd': 'tags'}).get('tags', []):
        if t['name'] == name:
            return t
    return {'name': name, 'state': 'unknown'}


def tag_windows(name):
    return [w for w in windows() if w.get('tag') == name]


def wait_for(pred, secs, step=0.2):
    end = time.time() + secs
    while time.time() < end:
        try:
            v = pred()
        except (OSError, ValueError):
            v = None
        if v:
            return v
        time.sleep(step)
    return None


def ctl(*args, timeout=120, stdin=None):
    try:
        r = subprocess.run([CTL] + list(args), capture_output=True, text=True,
                           timeout=timeout, input=stdin)
        return r.returncode, r.stdout, r.stderr.strip()
    except subprocess.TimeoutExpired:
        return 124, '', 'timed out after %d s' % timeout


# ---- processes ----

def our_processes():
    """Processes of this user started for this run (they carry its private
    XDG_RUNTIME_DIR), but the driver, its parents and libvirt's daemons."""
    mine = set()
    p = os.getpid()
    while p > 1:
        mine.add(p)
        try:
            with open('/proc/%d/stat' % p) as f:
                p = int(f.read().rsplit(')', 1)[1].split()[1])
        except OSError:
            break
    marker = ('XDG_RUNTIME_DIR=' + RUNTIME).encode()
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) in mine:
            continue
        try:
            if os.stat('/proc/' + d).st_uid != os.getuid():
                continue
            with open('/proc/%s/environ' % d, 'rb') as f:
                env = f.read().split(b'\0')
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode(errors='replace').strip()
            with open('/proc/%s/comm' % d) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if marker not in env and TMP not in cmd:
            continue
        if comm in ('libvirtd', 'virtlogd', 'virtlockd') or not cmd:
            continue
        out.append((int(d), comm, cmd))
    return out


def find_pids(pred):
    return [p for p, comm, cmd in our_processes() if pred(comm, cmd)]


def proxy_pid(tag):
    pids = find_pids(lambda c, cmd: 'bulkhead-proxy' in cmd and ('--tag %s ' % tag) in cmd + ' ')
    return pids[0] if pids else None


def qemu_pid(tag):
    pids = find_pids(lambda c, cmd: c.startswith('qemu') and ('guest=bulkhead-%s,' % tag) in cmd)
    return pids[0] if pids else None


def proc_status(pid):
    rss = None
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
    return rss, len(os.listdir('/proc/%d/fd' % pid))


# ---- relay tags: their agents and the channel in between ----

class Relay:
    """A relay-only tag: its agent listens on a unix socket; the proxy
    reaches it through a forwarder the driver can cut."""

    def __init__(self, tag):
        self.tag = tag
        self.front = os.path.join(TMP, '%s-front.sock' % tag)
        self.back = os.path.join(TMP, '%s-agent.sock' % tag)
        self.display = 'soak-%s-%d' % (tag, os.getpid())
        self.home = os.path.join(TMP, 'home-' + tag)
        os.makedirs(self.home, exist_ok=True)
        self.agent = None
        self.pairs = []
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.front)
        self.listener.listen(4)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def start_agent(self):
        if os.path.exists(self.back):
            os.unlink(self.back)
        self.agent = subprocess.Popen(
            [AGENT, '--channel', 'unix:' + self.back, '--listen', '--wayland-display',
             self.display], stderr=open(os.path.join(TMP, 'agent-%s.log' % self.tag), 'a'),
            env=dict(os.environ, HOME=self.home))
        if not wait_for(lambda: os.path.exists(self.back), 10):
            problem('the agent of %s did not listen on %s' % (self.tag, self.back))

    def accept_loop(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                b.connect(self.back)
            except OSError:
                c.close()
                b.close()
                continue
            with self.lock:
                self.pairs.append((c, b))
            threading.Thread(target=self.pump, args=(c, b), daemon=True).start()

    def pump(self, a, b):
        # Both directions in one thread; ends when either side ends or the
        # pair is cut. The forwarder passes file descriptors on (the shared
        # region is a memfd over the unix channel without a VM).
        socks = [a, b]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 1.0)
                if not any(s.fileno() >= 0 for s in socks):
                    return
                for s in r:
                    other = b if s is a else a
                    msg, fds, flags, _ = socket.recv_fds(s, 262144, 64)
                    if not msg:
                        return
                    socket.send_fds(other, [msg], fds) if fds else other.sendall(msg)
                    for fd in fds:
                        os.close(fd)
        except (OSError, ValueError):
            return
        finally:
            self.close_pair(a, b)

    def close_pair(self, a, b):
        with self.lock:
            if (a, b) in self.pairs:
                self.pairs.remove((a, b))
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        with self.lock:
            pairs = list(self.pairs)
        for a, b in pairs:
            self.close_pair(a, b)
        return len(pairs)

    def guest_env(self):
        return dict(os.environ, WAYLAND_DISPLAY=self.display, HOME=self.home)

    def stop(self):
        self.listener.close()
        if self.agent is not None and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(10)
            except subprocess.TimeoutExpired:
                problem('the agent of %s ignored SIGTERM' % self.tag)
                self.agent.kill()
        self.cut()
        for p in (self.front,):
            if os.path.exists(p):
                os.unlink(p)


relays = {t: Relay(t) for t in RELAY_TAGS}

# ---- what the driver did and must find again ----

written = {t: {} for t in TAGS}  # tag -> {guest path: sha256}
homes = {}                        # tag -> the home directory in the guest
typed = []                        # (file, text) typed into host terminals
clients = []                      # [(Popen, tag or None, app_id)]
counts = {}
faults = []
recent_fault = {t: 0.0 for t in TAGS}


def count(kind):
    counts[kind] = counts.get(kind, 0) + 1


def tag_up(tag):
    return tag_info(tag).get('state') == 'running'


def settled(tag):
    """A tag the driver may use: running, and no fault in the last seconds."""
    return tag_up(tag) and time.time() - recent_fault[tag] > 3


def start_tag(tag):
    """Starts a tag through bulkheadctl as a user would, and waits for it."""
    rc, out, err = ctl('start', tag, timeout=VM_BOOT_SECS + 30)
    if rc != 0:
        return err or 'bulkheadctl start %s exited %d' % (tag, rc)
    if not wait_for(lambda: tag_up(tag), VM_BOOT_SECS if tag in VM_TAGS else RELAY_UP_SECS):
        return 'not running after start: %s' % json.dumps(tag_info(tag))
    return None


def exec_in(tag, script, timeout=90):
    return ctl('exec', tag, '--', 'sh', '-c', script, timeout=timeout)


# ---- operations ----

def op_open_window(tag=None):
    """Opens a window and waits for it to map, as a user would: a window
    that maps later takes the focus from whatever is being typed into."""
    if tag is None:
        tag = rng.choice([None] + TAGS)
    ids = {w['id'] for w in windows()}
    opened = open_window(tag)
    if opened and not wait_for(lambda: [w for w in windows() if w['id'] not in ids and
                                        w.get('tag') == tag and w['width'] > 0],
                               90 if tag in VM_TAGS else 20):
        if time.time() - recent_fault.get(tag, 0) > 10:
            problem('a window opened in %s never mapped' % (tag or 'the host'))


def open_window(tag):
    if tag is None:
        app = rng.choice(['foot', 'weston-simple-shm', 'weston-terminal'])
        p = subprocess.Popen([app], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        clients.append((p, None, app))
        log('opened host %s (pid %d)' % (app, p.pid))
    elif tag in VM_TAGS:
        if not settled(tag):
            return False
        rc, out, err = ctl('run', tag, '--', 'foot', '--app-id=soak-foot', timeout=60)
        if rc != 0 and time.time() - recent_fault[tag] > 10:
            problem('run foot in %s failed: %s' % (tag, err))
        log('opened foot in %s: %s' % (tag, (out or err).strip()))
        count('open window')
        return rc == 0
    else:
        if not settled(tag):
            return False
        app = rng.choice(['foot', 'weston-simple-shm', 'weston-terminal'])
        p = subprocess.Popen([app], env=relays[tag].guest_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        clients.append((p, tag, app))
        log('opened %s in %s (pid %d)' % (app, tag, p.pid))
    count('open window')
    return True


def op_close_window():
    ws = [w for w in windows() if w.get('app_id') != 'soak-typing']
    if not ws:
        return
    w = rng.choice(ws)
    r = ipc({'cmd': 'close', 'id': w['id']})
    log('closed window %d (%s %s): %s' % (w['id'], w.get('tag') or 'host', w.get('app_id'),
                                         'ok' if r.get('ok') else r.get('error')))
    count('close window')


def op_type():
    """Types a line into a host terminal that appends what it reads to a
    file, and checks the line arrived (typing reaches host clients only)."""
    path = os.path.join(TMP, 'typed-%d.txt' % len(typed))
    p = subprocess.Popen(['foot', '--app-id=soak-typing', 'sh', '-c', 'cat >> "$0"', path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w = wait_for(lambda: [w for w in windows() if w.get('app_id') == 'soak-typing'
                          and w['width'] > 0], 20)
    if not w:
        problem('the typing terminal never mapped')
        p.kill()
        p.wait()
        return
    text = 'soak %d %08x' % (len(typed), rng.getrandbits(32))
    ipc({'cmd': 'focus', 'id': w[0]['id']})
    wait_for(lambda: [x for x in windows() if x['id'] == w[0]['id'] and x.get('focused')], 5)
    subprocess.run(['wtype', text, '-k', 'Return'], check=False)
    ok = wait_for(lambda: os.path.exists(path) and text in open(path).read(), 10)
    focused = [x for x in windows() if x.get('focused')]
    typed.append((path, text))
    if not ok:
        problem('typed "%s" but the terminal did not get it (%r; focus now on %s)' %
                (text, open(path).read() if os.path.exists(path) else None,
                 [(x.get('tag'), x.get('app_id')) for x in focused]))
    ipc({'cmd': 'close', 'id': w[0]['id']})
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log('typed "%s" into a host terminal: %s' % (text, 'received' if ok else 'LOST'))
    count('type')


def op_copy_paste():
    """Copy in one guest window of a relay tag, paste in another."""
    candidates = [t for t in RELAY_TAGS if settled(t)]
    if not candidates:
        return
    tag = rng.choice(candidates)
    text = 'clip-%s-%08x' % (tag, rng.getrandbits(32))
    env = relays[tag].guest_env()
    cp = subprocess.Popen([CLIP, 'copy', text], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    result = 'no copy window'
    try:
        w = wait_for(lambda: [w for w in tag_windows(tag) if w.get('app_id') == 'clip-copy'
                              and w['width'] > 0], 20)
        if not w:
            return
        ipc({'cmd': 'focus', 'id': w[0]['id']})
        if not select.select([cp.stdout], [], [], 10)[0] or 'copied' not in cp.stdout.readline():
            result = 'the copy client never owned the selection'
            return
        pp = subprocess.Popen([CLIP, 'paste', '5'], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        w2 = wait_for(lambda: [w for w in tag_windows(tag) if w.get('app_id') == 'clip-paste'
                               and w['width'] > 0] or pp.poll() is not None, 20)
        if isinstance(w2, list):
            ipc({'cmd': 'focus', 'id': w2[0]['id']})
        try:
            out = pp.communicate(timeout=20)[0].strip()
        except subprocess.TimeoutExpired:
            pp.kill()
            out = pp.communicate()[0].strip()
        result = 'pasted' if out == 'pasted: ' + text else 'paste gave %r' % out
    finally:
        cp.kill()
        cp.wait()
        log('copy and paste in %s: %s' % (tag, result))
        if result != 'pasted' and time.time() - recent_fault[tag] > 10 and settled(tag):
            problem('copy and paste in %s: %s' % (tag, result))
        count('copy and paste')


def home_of(tag):
    if tag not in homes:
        if tag in RELAY_TAGS:
            homes[tag] = relays[tag].home
        else:
            rc, out, err = exec_in(tag, 'echo $HOME')
            if rc != 0 or not out.strip().startswith('/'):
                return None
            homes[tag] = out.strip()
    return homes[tag]


def op_exec():
    tag = rng.choice(TAGS)
    if not settled(tag):
        return
    n = rng.randrange(1, 1 << 20)
    rc, out, err = exec_in(tag, 'echo $((%d * 7)); exit %d' % (n, n % 7))
    ok = rc == n % 7 and out.strip() == str(n * 7)
    log('exec in %s: status %d, %r%s' % (tag, rc, out.strip(), '' if ok else ' (' + err + ')'))
    if not ok and time.time() - recent_fault[tag] > 10 and settled(tag):
        problem('exec in %s gave status %d, output %r: %s' % (tag, rc, out, err))
    count('exec')


def op_push():
    tag = rng.choice(TAGS)
    if not settled(tag):
        return
    home = home_of(tag)
    if home is None:
        return
    name = 'f-%d' % sum(len(v) for v in written.values())
    local = os.path.join(TMP, 'push-' + name)
    size = rng.choice([0, 1, 4096, 65536, 300000, 2 * 1024 * 1024 + 17])
    data = rng.getrandbits(8 * size).to_bytes(size, 'little') if size else b''
    with open(local, 'wb') as f:
        f.write(data)
    guest = os.path.join(home, 'soak', name)
    rc, out, err = ctl('exec', tag, '--', 'mkdir', '-p', os.path.join(home, 'soak'), timeout=60)
    if rc == 0:
        rc, out, err = ctl('push', tag, local, guest, timeout=180)
    # Written is what the guest has synced: a kill -9 of its VM is a power cut.
    if rc == 0:
        rc, out, err = ctl('exec', tag, '--', 'sync', timeout=120)
    os.unlink(local)
    if rc == 0:
        written[tag][guest] = hashlib.sha256(data).hexdigest()
    elif time.time() - recent_fault[tag] > 10 and settled(tag):
        problem('push of %d bytes into %s failed: %s' % (size, tag, err))
    log('push %d bytes to %s:%s: %s' % (size, tag, guest, 'ok' if rc == 0 else err))
    count('push')


pending = []      # background operations: dicts with kind, tag, proc, start, ...
uncertain = {t: {} for t in TAGS}  # pushes a fault broke: absent, or whole


# When the next fault comes, and at which tag when a background operation
# asked for one in its middle.
schedule = {'next': 0.0, 'tag': None}


def fault_soon(tag):
    if rng.random() < 0.6:
        schedule['next'] = time.time() + rng.uniform(0.1, 1.5)
        schedule['tag'] = tag


def fault_since(tag, t):
    return recent_fault[tag] >= t


def op_push_background():
    """A larger push left running while the driver goes on, so that a
    fault can land in the middle of it."""
    if sum(1 for p in pending if p['kind'] == 'push') >= 2:
        return
    tag = rng.choice(TAGS)
    if not settled(tag):
        return
    home = home_of(tag)
    if home is None:
        return
    rc, out, err = ctl('exec', tag, '--', 'mkdir', '-p', os.path.join(home, 'soak'), timeout=60)
    if rc != 0:
        return
    name = 'bg-%d' % rng.getrandbits(32)
    local = os.path.join(TMP, 'push-' + name)
    size = rng.choice([4, 8, 16]) * 1024 * 1024 + rng.randrange(4096)
    data = rng.getrandbits(8 * size).to_bytes(size, 'little')
    with open(local, 'wb') as f:
        f.write(data)
    guest = os.path.join(home, 'soak', name)
    proc = subprocess.Popen([CTL, 'push', tag, local, guest], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    pending.append({'kind': 'push', 'tag': tag, 'proc': proc, 'start': time.time(),
                    'guest': guest, 'local': local, 'size': size,
                    'digest': hashlib.sha256(data).hexdigest()})
    log('push of %d bytes to %s:%s started in the background' % (size, tag, guest))
    fault_soon(tag)
    count('push (background)')


def op_exec_background():
    """An exec that streams for a few seconds, left running."""
    if sum(1 for p in pending if p['kind'] == 'exec') >= 2:
        return
    tag = rng.choice(TAGS)
    if not settled(tag):
        return
    lines = rng.randrange(100, 400)
    script = 'i=0; while [ $i -lt %d ]; do echo line $i; i=$((i+1)); ' \
             'if [ $((i %% 20)) = 0 ]; then sleep 0.1; fi; done' % lines
    proc = subprocess.Popen([CTL, 'exec', tag, '--', 'sh', '-c', script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pending.append({'kind': 'exec', 'tag': tag, 'proc': proc, 'start': time.time(),
                    'lines': lines})
    log('streaming exec of %d lines in %s started in the background' % (lines, tag))
    fault_soon(tag)
    count('exec (background)')


def reap(wait=False):
    for p in list(pending):
        proc = p['proc']
        if proc.poll() is None:
            if not wait and time.time() - p['start'] < 600:
                continue
            try:
                proc.wait(300 if wait else 1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                problem('background %s in %s hung for %d s' % (p['kind'], p['tag'],
                                                              time.time() - p['start']))
        pending.remove(p)
        out, err = proc.communicate()
        tag = p['tag']
        broken = fault_since(tag, p['start'])
        if p['kind'] == 'push':
            os.unlink(p['local'])
            ok = proc.returncode == 0
            if ok:
                # Written is what was synced before any fault: a push that
                # ended before a power cut, unsynced, may be gone.
                rc, _, serr = ctl('exec', tag, '--', 'sync', timeout=120)
                if rc == 0 and not fault_since(tag, p['start']):
                    written[tag][p['guest']] = p['digest']
                else:
                    uncertain[tag][p['guest']] = p['digest']
            else:
                uncertain[tag][p['guest']] = p['digest']
                if not broken:
                    problem('background push to %s:%s failed with no fault: %s' %
                            (tag, p['guest'], err.strip()))
            log('background push of %d bytes to %s: %s%s' % (
                p['size'], tag, 'ok' if ok else err.strip(),
                ' (a fault hit the tag meanwhile)' if broken else ''))
        else:
            want = ''.join('line %d\n' % i for i in range(p['lines']))
            ok = proc.returncode == 0 and out == want
            if proc.returncode == 0 and out != want:
                # Success with output lost or changed is never acceptable.
                problem('streaming exec in %s exited 0 with %d of %d lines' %
                        (tag, out.count('\n'), p['lines']))
            elif not ok and not broken:
                problem('streaming exec in %s failed with no fault: status %d, %s' %
                        (tag, proc.returncode, err.strip()))
            log('background exec in %s: %s%s' % (
                tag, 'ok' if ok else 'status %d, %s' % (proc.returncode, err.strip()),
                ' (a fault hit the tag meanwhile)' if broken else ''))


def op_pull():
    tag = rng.choice(TAGS)
    if not written[tag] or not settled(tag):
        return
    guest = rng.choice(sorted(written[tag]))
    local = os.path.join(TMP, 'pulled')
    if os.path.exists(local):
        os.unlink(local)
    rc, out, err = ctl('pull', tag, guest, local, timeout=180)
    if rc == 0:
        got = hashlib.sha256(open(local, 'rb').read()).hexdigest()
        os.unlink(local)
        if got != written[tag][guest]:
            problem('pulled %s:%s back different' % (tag, guest))
    elif time.time() - recent_fault[tag] > 10 and settled(tag):
        problem('pull of %s:%s failed: %s' % (tag, guest, err))
    log('pull %s:%s: %s' % (tag, guest, 'ok' if rc == 0 else err))
    count('pull')


def op_resize():
    ws = windows()
    if not ws:
        return
    w = rng.choice(ws)
    action = rng.choice(['maximize', 'fullscreen'])
    ipc({'cmd': 'focus', 'id': w['id']})
    r = ipc({'cmd': 'action', 'action': action})
    after = wait_for(lambda: [x for x in windows() if x['id'] == w['id'] and
                              (x['width'], x['height']) != (w['width'], w['height'])], 5)
    log('%s window %d (%s %s): %dx%d -> %s' % (
        action, w['id'], w.get('tag') or 'host', w.get('app_id'), w['width'], w['height'],
        '%dx%d' % (after[0]['width'], after[0]['height']) if after else 'unchanged'))
    if not r.get('ok'):
        problem('action %s refused: %s' % (action, r.get('error')))
    count('resize')


# ---- faults ----

def user_view(tag, before_windows, secs=15):
    """What the user saw: the tag's state and error line once it changed,
    and how many of its windows went."""
    seen = wait_for(lambda: (lambda t: t if t.get('state') != 'running' else None)(tag_info(tag)),
                    secs)
    t = seen or tag_info(tag)
    gone = before_windows - len(tag_windows(tag))
    return {'state': t.get('state'), 'error': t.get('error'), 'windows_gone': gone}


def recover(tag, fault):
    """Brings a tag back as a user would; returns the seconds it took."""
    t0 = time.time()
    if tag in RELAY_TAGS and (relays[tag].agent is None or relays[tag].agent.poll() is not None):
        time.sleep(rng.uniform(0.5, 3))
        relays[tag].start_agent()
    # A relay tag reconnects to its agent on its own; a tag whose qemu or
    # proxy died is started again by the user.
    if tag in VM_TAGS or fault == 'kill proxy' or not wait_for(lambda: tag_up(tag), 10):
        if not tag_up(tag):
            err = start_tag(tag)
            if err is not None:
                problem('after %s, %s did not come back: %s' % (fault, tag, err))
                return None
    return time.time() - t0


COMPOSITOR_LOG = os.path.join(TMP, 'compositor.log')


def status_lines(tag, since):
    """The compositor's lines on the tag's failure since that offset."""
    with open(COMPOSITOR_LOG, errors='replace') as f:
        f.seek(since)
        lines = f.read().splitlines()
    want = 'tag %s failed: ' % tag
    return [line.split(want, 1)[1] for line in lines if want in line][:3]


def inject_fault():
    kinds = []
    for t in RELAY_TAGS:
        kinds += [('kill agent', t), ('cut channel', t), ('kill proxy', t),
                  ('kill guest client', t)]
    for t in VM_TAGS:
        kinds += [('kill qemu', t), ('kill proxy', t), ('kill guest client', t)]
    target = schedule['tag']
    schedule['tag'] = None
    if target is not None:
        kinds = [k for k in kinds if k[1] == target and k[0] != 'kill guest client']
    kind, tag = rng.choice(kinds)
    if not tag_up(tag):
        return
    before = len(tag_windows(tag))
    log_at = os.path.getsize(COMPOSITOR_LOG)
    detail = ''
    if kind == 'kill agent':
        relays[tag].agent.kill()
        relays[tag].agent.wait()
        detail = 'pid %d' % relays[tag].agent.pid
    elif kind == 'cut channel':
        detail = '%d connection(s) cut' % relays[tag].cut()
    elif kind == 'kill proxy':
        pid = proxy_pid(tag)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        detail = 'pid %d' % pid
    elif kind == 'kill qemu':
        pid = qemu_pid(tag)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        detail = 'pid %d' % pid
    elif kind == 'kill guest client':
        if tag in RELAY_TAGS:
            live = [c for c in clients if c[1] == tag and c[0].poll() is None]
            if not live:
                return
            p = rng.choice(live)[0]
            p.kill()
            p.wait()
            detail = 'pid %d' % p.pid
        else:
            if not tag_windows(tag):
                return
            rc, out, err = exec_in(tag, 'killall -9 foot; echo $?', timeout=60)
            detail = 'killall -9 foot in the guest: %s' % (out.strip() or err)
    recent_fault[tag] = time.time()
    count('fault: ' + kind)
    if kind == 'kill guest client':
        seen = {'state': tag_info(tag).get('state'), 'error': None,
                'windows_gone': before - len(wait_for(
                    lambda: (lambda ws: ws if len(ws) < before else None)(tag_windows(tag)), 10)
                    or tag_windows(tag))}
    else:
        seen = user_view(tag, before)
    # The status line shows what the compositor logs as the tag's failure.
    seen['status_line'] = status_lines(tag, log_at)
    took = recover(tag, kind)
    recent_fault[tag] = time.time()
    rec = {'t': round(time.time() - T0, 1), 'kind': kind, 'tag': tag, 'detail': detail,
           'user_saw': seen, 'recovered_after_s': None if took is None else round(took, 1)}
    faults.append(rec)
    FAULTS.write(json.dumps(rec) + '\n')
    log('FAULT %s on %s (%s): the user saw %s; back after %s s' % (
        kind, tag, detail, json.dumps(seen), rec['recovered_after_s']))
    if kind not in ('kill guest client',) and seen['state'] == 'running' \
            and not seen['error'] and not seen['status_line']:
        # A process died and the session showed nothing: the user would
        # not know why the tag's windows went.
        if seen['windows_gone'] > 0:
            problem('%s on %s closed %d window(s) without a word to the user' %
                    (kind, tag, seen['windows_gone']))


last_revive = {'t': 0.0}


def revive():
    """A tag a recovery could not bring back is tried again now and then,
    so that one failure does not leave it out of the rest of the run."""
    if time.time() - last_revive['t'] < 30:
        return
    last_revive['t'] = time.time()
    for t in TAGS:
        if time.time() - recent_fault[t] > 30 and not tag_up(t):
            err = start_tag(t)
            log('%s was down; started again: %s' % (t, err or 'running'))
            if err is not None:
                problem('%s stays down: %s' % (t, err))


def close_all_windows():
    for w in windows():
        ipc({'cmd': 'close', 'id': w['id']})
    wait_for(lambda: not windows(), 30)
    for p, tag, app in clients:
        if p.poll() is None:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                problem('%s (%s) stayed after its window was closed' % (app, tag or 'host'))
                p.kill()
                p.wait()
    clients.clear()
    left = windows()
    if left:
        problem('windows stayed after close: %s' % [(w.get('tag'), w.get('app_id')) for w in left])


def compositor_pid():
    return int(os.path.basename(os.environ['BULKHEAD_SOCKET']).split('-')[1].split('.')[0])


def measure(label):
    time.sleep(3)
    rss, fds = proc_status(compositor_pid())
    log('compositor %s: RSS %d KiB, %d fds' % (label, rss, fds))
    return rss, fds


# ---- the run ----

def main():
    print('soak: seed %d (replay: SOAK_SEED=%d tests/soak/run.sh %g)' % (SEED, SEED, MINUTES),
          flush=True)
    log('tags: VM %s, relay %s; %g minutes' % (VM_TAGS, RELAY_TAGS, MINUTES))
    shm_before = set(os.listdir('/dev/shm'))
    for r in relays.values():
        r.start_agent()
    for t in TAGS:
        err = start_tag(t)
        if err is not None:
            problem('%s did not start: %s' % (t, err))
            return finish(None, shm_before)
        log('%s is running' % t)
    # Warm-up: one of each operation, then a quiet point.
    for t in TAGS:
        op_open_window(t)
    op_type()
    op_exec()
    op_push()
    op_pull()
    op_copy_paste()
    op_resize()
    time.sleep(5)
    close_all_windows()
    base = measure('after warm-up')
    ops = [(op_open_window, 6), (op_close_window, 4), (op_type, 1), (op_copy_paste, 1),
           (op_exec, 3), (op_push, 2), (op_pull, 1), (op_resize, 2),
           (op_push_background, 1), (op_exec_background, 1)]
    funcs = [f for f, w in ops for _ in range(w)]
    end = time.time() + MINUTES * 60
    schedule['next'] = time.time() + rng.uniform(5, 20)
    while time.time() < end:
        if time.time() >= schedule['next']:
            inject_fault()
            schedule['next'] = time.time() + rng.uniform(5, 20)
        else:
            rng.choice(funcs)()
            reap()
            revive()
            # Too many windows slow a 2-core machine down to a crawl.
            if len(windows()) > 12:
                op_close_window()
            time.sleep(rng.uniform(0.1, 1.5))
    return finish(base, shm_before)


def finish(base, shm_before):
    reap(wait=True)
    log('the run is over: checking')
    pid = compositor_pid()
    try:
        alive = ipc({'cmd': 'version'}).get('ok')
    except OSError as e:
        alive = False
        log('the compositor does not answer: %s' % e)
    if not alive:
        problem('the compositor is not alive at the end')
        return report(base, None)
    # Every tag back up, so that its home can be read.
    for t in TAGS:
        if not tag_up(t):
            err = start_tag(t)
            if err is not None:
                problem('%s could not be started for the final checks: %s' % (t, err))
    close_all_windows()
    final = measure('at the end')
    # Homes: every file written (and synced) is there with its contents.
    lost = 0
    for t in TAGS:
        for path, digest in sorted(written[t].items()):
            rc, out, err = ctl('exec', t, '--', 'sha256sum', path, timeout=120)
            got = out.split()[0] if rc == 0 and out.split() else None
            if got != digest:
                lost += 1
                problem('%s:%s lost or changed (%s)' % (t, path, err or got))
    # What a broken push left: nothing, or the whole file; and no partial
    # file in any home.
    for t in TAGS:
        home = homes.get(t)
        if home is None:
            continue
        rc, out, err = ctl('exec', t, '--', 'ls', '-a', os.path.join(home, 'soak'), timeout=120)
        names = [n for n in out.split() if n not in ('.', '..')]
        for n in names:
            path = os.path.join(home, 'soak', n)
            if path in written[t]:
                continue
            if path in uncertain[t]:
                rc, out2, err2 = ctl('exec', t, '--', 'sha256sum', path, timeout=120)
                if rc == 0 and out2.split()[0] != uncertain[t][path]:
                    lost += 1
                    problem('%s:%s, from a push a fault broke, is there but torn' % (t, path))
                continue
            problem('%s:%s is in its home but the driver never wrote it (a partial file?)' %
                    (t, path))
    for path, text in typed:
        if not os.path.exists(path) or text not in open(path).read():
            lost += 1
            problem('the typed line "%s" is not in %s' % (text, path))
    log('homes: %d files checked, %d lost' % (sum(len(v) for v in written.values()), lost))
    # Stop everything through the compositor; the session stays.
    for t in TAGS:
        ipc({'cmd': 'stop', 'tag': t})
    for t in TAGS:
        if not wait_for(lambda: proxy_pid(t) is None and qemu_pid(t) is None, 90):
            problem('%s: its proxy or qemu is still there after stop' % t)
    for r in relays.values():
        r.stop()
    time.sleep(2)
    left = [(p, cmd) for p, comm, cmd in our_processes() if p != pid]
    for p, cmd in left:
        problem('left over: process %d %s' % (p, cmd[:160]))
    comp_socks = {os.path.basename(os.environ['BULKHEAD_SOCKET']),
                  os.environ['WAYLAND_DISPLAY'], os.environ['WAYLAND_DISPLAY'] + '.lock'}
    for root, dirs, files in os.walk(RUNTIME):
        if root.startswith(os.path.join(RUNTIME, 'libvirt')):
            continue
        for f in files:
            full = os.path.join(root, f)
            if root == RUNTIME and f in comp_socks:
                continue
            if stat_is_socket(full):
                problem('left over: socket %s' % full)
    # A file another run of this user holds open is that run's.
    held = shm_held_elsewhere()
    for f in sorted(set(os.listdir('/dev/shm')) - shm_before - held):
        try:
            if os.stat('/dev/shm/' + f).st_uid == os.getuid():
                problem('left over: /dev/shm/%s' % f)
        except OSError:
            pass
    # Overlays: every disk of every tag passes qemu-img check.
    tags_dir = os.path.join(STATE, 'bulkhead', 'tags')
    checked = 0
    for d in sorted(os.listdir(tags_dir)) if os.path.isdir(tags_dir) else []:
        for f in sorted(os.listdir(os.path.join(tags_dir, d))):
            if f.endswith('.qcow2'):
                r = subprocess.run(['qemu-img', 'check', '-q', os.path.join(tags_dir, d, f)],
                                   capture_output=True, text=True)
                checked += 1
                if r.returncode != 0:
                    problem('qemu-img check: %s/%s: %s' % (d, f, (r.stdout + r.stderr).strip()))
    log('qemu-img check: %d disks' % checked)
    return report(base, final, lost)


def shm_held_elsewhere():
    ours = {p for p, _, _ in our_processes()} | {os.getpid()}
    held = set()
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) in ours:
            continue
        try:
            for fd in os.listdir('/proc/%s/fd' % d):
                target = os.readlink('/proc/%s/fd/%s' % (d, fd))
                if target.startswith('/dev/shm/'):
                    held.add(target[len('/dev/shm/'):].split(' ')[0])
            with open('/proc/%s/maps' % d) as f:
                for line in f:
                    if '/dev/shm/' in line:
                        held.add(line.split('/dev/shm/', 1)[1].split(' ')[0].strip())
        except OSError:
            continue
    return held


def stat_is_socket(path):
    import stat
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


def report(base, final, lost=None):
    by_kind = {}
    for f in faults:
        by_kind[f['kind']] = by_kind.get(f['kind'], 0) + 1
    print('---- soak summary (seed %d, %g minutes) ----' % (SEED, MINUTES))
    print('operations: ' + ', '.join('%s %d' % (k, v) for k, v in sorted(counts.items())
                                     if not k.startswith('fault')))
    print('faults injected: %d (%s)' % (len(faults), ', '.join(
        '%s %d' % kv for kv in sorted(by_kind.items()))))
    unrecovered = [f for f in faults if f['recovered_after_s'] is None]
    print('faults recovered from: %d of %d' % (len(faults) - len(unrecovered), len(faults)))
    if base is not None and final is not None:
        rss_ok = final[0] <= base[0] + RSS_BOUND_KIB
        fd_ok = final[1] <= base[1] + FD_BOUND
        print('compositor RSS: %d KiB after warm-up, %d KiB at the end (bound +%d KiB): %s' %
              (base[0], final[0], RSS_BOUND_KIB, 'held' if rss_ok else 'EXCEEDED'))
        print('compositor fds: %d after warm-up, %d at the end (bound +%d): %s' %
              (base[1], final[1], FD_BOUND, 'held' if fd_ok else 'EXCEEDED'))
        if not rss_ok:
            problem('the compositor grew from %d to %d KiB' % (base[0], final[0]))
        if not fd_ok:
            problem('the compositor holds %d fds, %d after warm-up' % (final[1], base[1]))
    files = sum(len(v) for v in written.values())
    print('homes: %d files written and synced, %d lost; %d typed lines' %
          (files, lost if lost is not None else -1, len(typed)))
    print('faults, each with what the user saw: %s' % os.path.join(TMP, 'faults.jsonl'))
    for p in problems:
        print('problem: ' + p)
    print('soak: %s (seed %d)' % ('PASS' if not problems else 'FAIL', SEED), flush=True)
    return 0 if not problems else 1


if __name__ == '__main__':
    # A run ended by a signal (a test timeout) still ends its agents.
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    status = 1
    try:
        status = main()
    finally:
        # Whatever happened, the relay agents are the driver's to end.
        for r in relays.values():
            if r.agent is not None and r.agent.poll() is None:
                r.agent.kill()
                r.agent.wait()
    sys.exit(status)
