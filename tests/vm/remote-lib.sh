# A throwaway sshd on localhost, for tests of tags on "another machine"
# reached through qemu+ssh. Source it BEFORE test-lifecycle-lib.sh (as root
# it makes the test user able to run a command over ssh, then the
# lifecycle library runs the test again as that user), then:
#   bh_remote_start     starts sshd and exports BH_REMOTE_URI, the tag URI
#   bh_remote_stop      stops it, its connections included (the host "goes away")
# sshd runs as the user that runs the VMs, with its own host key and one
# authorized key, both in the test's scratch directory: nothing of the
# machine's own ssh set-up is read or changed. libvirt's ssh transport runs
# virt-ssh-helper (or nc) on the far side, which finds the test's session
# daemon through the environment sshd gives the session (SetEnv).

BH_SOURCE_ROOT=${BH_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# sshd runs every command through the user's login shell; the VM tests'
# dedicated user is made with nologin, so it gets a plain shell here (it has
# no password and no home; only the key of a test's sshd lets it in).
if [ "$(id -u)" = 0 ]; then
	_bh_remote_user=${BH_VM_TEST_USER:-bulkhead-test}
	if ! id "$_bh_remote_user" >/dev/null 2>&1; then
		useradd --system --home-dir /nonexistent --no-create-home \
			--shell /bin/sh "$_bh_remote_user" ||
			{ echo "FAIL: cannot create the test user $_bh_remote_user" >&2; exit 1; }
	fi
	case $(getent passwd "$_bh_remote_user" | cut -d: -f7) in
	*/nologin | */false | "")
		usermod --shell /bin/sh "$_bh_remote_user" ||
			{ echo "FAIL: cannot give the test user $_bh_remote_user a shell for ssh" >&2; exit 1; }
		;;
	esac
	unset _bh_remote_user
	return 0 2>/dev/null || exit 0
fi

BH_REMOTE_DIR=
BH_REMOTE_PID=
BH_REMOTE_PORT=

# Makes the keys and the config once; every start listens on the same port,
# so a tag's URI stays valid across a stop and a start.
_bh_remote_setup() {
	[ -n "$BH_REMOTE_DIR" ] && return 0
	bh_need sshd ssh ssh-keygen virt-ssh-helper python3
	BH_REMOTE_DIR=${BH_TMP:?bh_tmpdir first}/sshd
	mkdir -p "$BH_REMOTE_DIR"
	chmod 700 "$BH_REMOTE_DIR"
	ssh-keygen -q -t ed25519 -N '' -f "$BH_REMOTE_DIR/host_key" ||
		bh_fail "ssh-keygen could not make the test sshd's host key"
	ssh-keygen -q -t ed25519 -N '' -f "$BH_REMOTE_DIR/client_key" ||
		bh_fail "ssh-keygen could not make the test's client key"
	cp "$BH_REMOTE_DIR/client_key.pub" "$BH_REMOTE_DIR/authorized_keys"
	BH_REMOTE_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
		bh_fail "no free localhost port for the test sshd"
	local shell
	shell=$(getent passwd "$(id -un)" | cut -d: -f7)
	case $shell in
	*/nologin | */false | "")
		bh_fail "user $(id -un) has the login shell '$shell'; sshd runs commands through it (source tests/vm/remote-lib.sh as root first, or give the user a shell)"
		;;
	esac
	# The far side's session: the test's own libvirt session daemon.
	local env="HOME=$HOME XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
	local v
	for v in XDG_CONFIG_HOME XDG_STATE_HOME XDG_DATA_HOME XDG_CACHE_HOME PATH; do
		[ -n "${!v:-}" ] && env="$env $v=${!v}"
	done
	cat >"$BH_REMOTE_DIR/sshd_config" <<CFG
ListenAddress 127.0.0.1:$BH_REMOTE_PORT
AddressFamily inet
HostKey $BH_REMOTE_DIR/host_key
PidFile $BH_REMOTE_DIR/sshd.pid
AuthorizedKeysFile $BH_REMOTE_DIR/authorized_keys
AllowUsers $(id -un)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel VERBOSE
SetEnv $env
CFG
	local query="keyfile=$BH_REMOTE_DIR/client_key&no_verify=1&no_tty=1"
	export BH_REMOTE_URI="qemu+ssh://$(id -un)@localhost:$BH_REMOTE_PORT/session?$query"
}

bh_remote_start() {
	_bh_remote_setup
	[ -z "$BH_REMOTE_PID" ] || bh_fail "the test sshd runs already"
	"$(command -v sshd)" -D -e -f "$BH_REMOTE_DIR/sshd_config" 2>>"$BH_REMOTE_DIR/sshd.log" &
	BH_REMOTE_PID=$!
	BH_CLEANUP_PIDS+=("$BH_REMOTE_PID")
	bh_wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $BH_REMOTE_PORT), 1)" ||
		bh_fail "the test sshd did not listen on port $BH_REMOTE_PORT: $(tail -5 "$BH_REMOTE_DIR/sshd.log")"
	# The whole way, as a tag's libvirt connection goes.
	bh_wait_for 30 virsh -c "$BH_REMOTE_URI" version >/dev/null 2>&1 ||
		bh_fail "libvirt over the test sshd does not answer: $(virsh -c "$BH_REMOTE_URI" version 2>&1 | tail -3); sshd: $(tail -5 "$BH_REMOTE_DIR/sshd.log")"
}

# The host goes away: the listener and every connection it serves (each is
# a child of the listener), so the tags' libvirt connections drop too.
bh_remote_stop() {
	[ -n "$BH_REMOTE_PID" ] || return 0
	local child children
	children=$(ps -o pid= --ppid "$BH_REMOTE_PID" 2>/dev/null)
	kill "$BH_REMOTE_PID" 2>/dev/null
	for child in $children; do
		kill "$child" 2>/dev/null
	done
	wait "$BH_REMOTE_PID" 2>/dev/null
	BH_REMOTE_PID=
	bh_wait_for 10 sh -c "! python3 -c \"import socket; socket.create_connection(('127.0.0.1', $BH_REMOTE_PORT), 1)\"" ||
		bh_fail "the test sshd still listens on port $BH_REMOTE_PORT after its stop"
}
