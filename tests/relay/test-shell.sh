#!/bin/bash
# bulkheadctl shell through the proxy and the agent, driven from a pseudo
# terminal like a user's: the local terminal is raw while the shell runs and
# restored after, the guest shell has a tty of the local window's size and
# follows resizes, ^C reaches the guest (not bulkheadctl), and the shell's
# exit status is bulkheadctl's.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need python3
start_agent
start_compositor
spawn_tag
python3 - "$CTL" <<'PY' || bh_fail "the interactive shell did not behave (see above)"
import fcntl, os, pty, select, struct, sys, termios, time

ctl = sys.argv[1]
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
    os.execv(ctl, [ctl, 'shell', 't1'])

seen = b''
def expect(what, timeout=10):
    global seen
    end = time.time() + timeout
    while what.encode() not in seen:
        left = end - time.time()
        if left <= 0 or not select.select([master], [], [], left)[0]:
            sys.exit('FAIL: no %r from the guest shell; it printed %r' % (what, seen[-300:]))
        try:
            seen += os.read(master, 4096)
        except OSError:
            sys.exit('FAIL: the shell ended early; it printed %r' % seen[-300:])
    seen = seen[seen.index(what.encode()) + len(what):]

def send(text):
    os.write(master, text.encode())

time.sleep(0.5)
attrs = termios.tcgetattr(master)
if attrs[3] & (termios.ICANON | termios.ECHO):
    sys.exit('FAIL: the local terminal is not in raw mode while the shell runs')
# Marker arithmetic: the echo of the typed line does not contain the answer.
send('stty size; echo ok-$((40+2))\n')
expect('30 100')
expect('ok-42')
send('tty; echo ok-$((50+5))\n')
expect('/dev/pts/')
expect('ok-55')
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', 45, 132, 0, 0))
time.sleep(0.5)
send('stty size; echo ok-$((60+6))\n')
expect('45 132')
expect('ok-66')
send('sleep 30; echo after-$((1+1))\n')
time.sleep(0.5)
send('\x03')
send('echo alive-$((3+4))\n')
expect('alive-7', 5)
if b'after-2' in seen:
    sys.exit('FAIL: ^C did not interrupt the guest command')
send('exit 7\n')
_, status = os.waitpid(pid, 0)
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 7:
    sys.exit('FAIL: bulkheadctl shell ended with %r, not exit status 7' % status)
attrs = termios.tcgetattr(master)
if not attrs[3] & termios.ICANON or not attrs[3] & termios.ECHO:
    sys.exit('FAIL: the local terminal was not restored after the shell')
print('shell: size, resize, ^C and exit status pass through')
PY
echo "the interactive shell works"
