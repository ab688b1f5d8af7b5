/* bulkheadctl doctor: what stands between this user and a first framed
 * window, each check with its fix (the report itself: doctor_report.c). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/doctor.h"
#include "common/log.h"
#include "vm/image.h"
#include "vm/paths.h"

#define TMPFS_MAGIC_NUMBER 0x01021994
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)

static const char *user_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : "$USER";
}

/* A device node's path: BH_TEST_DEV_DIR (a test hook, see bulkheadctl(1))
 * stands in for /dev. */
static void dev_path(const char *name, char *out, size_t size)
{
	const char *dir = getenv("BH_TEST_DEV_DIR");
	snprintf(out, size, "%s/%s", dir != NULL && dir[0] != '\0' ? dir : "/dev", name);
}

/* Opens the device read-write, as qemu will: 0 or the errno. */
static int try_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		return errno != 0 ? errno : EIO;
	}
	close(fd);
	return 0;
}

static bool in_path(const char *program, char *found, size_t size)
{
	const char *path = getenv("PATH");
	if (path == NULL) {
		path = "/usr/local/bin:/usr/bin:/bin";
	}
	const char *p = path;
	while (*p != '\0') {
		size_t len = strcspn(p, ":");
		if (len > 0 && snprintf(found, size, "%.*s/%s", (int)len, p, program) < (int)size &&
			access(found, X_OK) == 0) {
			return true;
		}
		p += len + (p[len] == ':');
	}
	return false;
}

static bool check_kvm(struct bh_doctor_report *r)
{
	char path[PATH_MAX];
	dev_path("kvm", path, sizeof(path));
	int err = try_open(path);
	const char *slower = "guests run under TCG emulation instead, several times slower "
			     "(a Debian base boots in about 25 s instead of 3 s)";
	if (err == 0) {
		bh_doctor_add(
			r, "kvm", BH_DOCTOR_OK, NULL, "%s is usable: guests run with KVM", path);
		return true;
	}
	if (err == ENOENT || err == ENXIO || err == ENODEV) {
		bh_doctor_add(r, "kvm", BH_DOCTOR_WARN,
			"enable virtualization (VT-x or AMD-V) in the firmware and load kvm_intel "
			"or kvm_amd (in a VM: turn on nested virtualization)",
			"%s is absent: %s", path, slower);
	} else if (err == EACCES || err == EPERM) {
		char fix[256];
		snprintf(fix, sizeof(fix), "sudo adduser %s kvm, then log out and in again",
			user_name());
		bh_doctor_add(
			r, "kvm", BH_DOCTOR_WARN, fix, "%s is not yours to open: %s", path, slower);
	} else {
		bh_doctor_add(r, "kvm", BH_DOCTOR_WARN,
			"check the kvm module's messages (journalctl -k | grep -i kvm)",
			"%s does not open (%s): %s", path, strerror(err), slower);
	}
	return false;
}

static void check_kvm_group(struct bh_doctor_report *r, bool kvm_usable)
{
	struct group *g = getgrnam("kvm");
	bool in_process = false, listed = false;
	if (g != NULL) {
		gid_t groups[NGROUPS_MAX];
		int n = getgroups(NGROUPS_MAX, groups);
		in_process = getgid() == g->gr_gid || getegid() == g->gr_gid;
		for (int i = 0; i < n; i++) {
			in_process = in_process || groups[i] == g->gr_gid;
		}
		const char *me = user_name();
		for (char **m = g->gr_mem; m != NULL && *m != NULL; m++) {
			listed = listed || strcmp(*m, me) == 0;
		}
	}
	char fix[256];
	snprintf(fix, sizeof(fix), "sudo adduser %s kvm, then log out and in again", user_name());
	switch (bh_doctor_kvm_group_state(
		getuid() == 0, g != NULL, in_process, listed, kvm_usable)) {
	case BH_KVM_GROUP_ROOT:
		bh_doctor_add(
			r, "kvm-group", BH_DOCTOR_OK, NULL, "running as root: no group needed");
		break;
	case BH_KVM_GROUP_MEMBER:
		bh_doctor_add(
			r, "kvm-group", BH_DOCTOR_OK, NULL, "%s is in group kvm", user_name());
		break;
	case BH_KVM_GROUP_NOT_NEEDED:
		bh_doctor_add(r, "kvm-group", BH_DOCTOR_OK, NULL,
			"%s is not in group kvm, but the login session gives access to /dev/kvm",
			user_name());
		break;
	case BH_KVM_GROUP_RELOGIN:
		bh_doctor_add(r, "kvm-group", BH_DOCTOR_WARN,
			"log out and in again (or run `newgrp kvm` in this terminal)",
			"%s was added to group kvm after this login started", user_name());
		break;
	case BH_KVM_GROUP_MISSING:
		bh_doctor_add(
			r, "kvm-group", BH_DOCTOR_WARN, fix, "%s is not in group kvm", user_name());
		break;
	case BH_KVM_GROUP_NO_GROUP:
		bh_doctor_add(r, "kvm-group", kvm_usable ? BH_DOCTOR_OK : BH_DOCTOR_INFO,
			"the group comes with the udev rules of systemd (package udev)",
			"there is no group kvm on this system");
		break;
	}
}

static void check_runtime_dir(struct bh_doctor_report *r)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	const char *fix = "log in through a display manager or a logind session (both set "
			  "XDG_RUNTIME_DIR), or set it to a private directory of yours";
	if (dir == NULL || dir[0] != '/') {
		bh_doctor_add(r, "runtime-dir", BH_DOCTOR_FAIL, fix,
			"XDG_RUNTIME_DIR is not set: the channels and sockets of tags live there");
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
		bh_doctor_add(r, "runtime-dir", BH_DOCTOR_FAIL, fix,
			"XDG_RUNTIME_DIR=%s is not a directory you can write to", dir);
	} else if (st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		bh_doctor_add(r, "runtime-dir", BH_DOCTOR_WARN, "chmod 700 it, or log in again",
			"XDG_RUNTIME_DIR=%s is not private to you (owner %u, mode %03o)", dir,
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	} else {
		bh_doctor_add(r, "runtime-dir", BH_DOCTOR_OK, NULL, "XDG_RUNTIME_DIR=%s", dir);
	}
}

static void check_program(struct bh_doctor_report *r, const char *id, const char *program,
	const char *package, const char *what)
{
	char found[PATH_MAX], fix[128];
	if (in_path(program, found, sizeof(found))) {
		bh_doctor_add(r, id, BH_DOCTOR_OK, NULL, "%s", found);
		return;
	}
	snprintf(fix, sizeof(fix), "sudo apt install %s", package);
	bh_doctor_add(r, id, BH_DOCTOR_FAIL, fix, "no %s in PATH: %s", program, what);
}

static void check_libvirt(struct bh_doctor_report *r)
{
	char error[BH_VM_ERROR_SIZE];
	struct bh_vm *vm = bh_vm_connect(bh_cli_uri(), error);
	if (vm != NULL) {
		bh_doctor_add(
			r, "libvirt", BH_DOCTOR_OK, NULL, "libvirt answers at %s", bh_vm_uri(vm));
		bh_vm_disconnect(vm);
		return;
	}
	/* One line: the library's sentence without its console tail. */
	error[strcspn(error, "\n")] = '\0';
	bh_doctor_add(r, "libvirt", BH_DOCTOR_FAIL,
		"sudo apt install libvirt-daemon libvirt-daemon-driver-qemu (the session daemon "
		"then starts on demand; `virsh -c qemu:///session version` tells why not)",
		"%s", error);
}

/* Returns whether a base is registered. */
static bool check_base(struct bh_doctor_report *r)
{
	struct bh_base *bases;
	char dir[PATH_MAX];
	if (!bh_paths_bases_root(dir, sizeof(dir))) {
		bh_doctor_add(r, "base", BH_DOCTOR_FAIL, "set HOME (or XDG_DATA_HOME)",
			"no directory for base images: neither XDG_DATA_HOME nor HOME is set");
		return false;
	}
	int n = bh_base_list(&bases);
	if (n < 0) {
		bh_doctor_add(r, "base", BH_DOCTOR_FAIL, "check its owner and mode",
			"cannot read the base images in %s", dir);
		return false;
	}
	if (n > 0) {
		int latest = n - 1;
		for (int i = 0; i < n; i++) {
			latest = bases[i].latest ? i : latest;
		}
		bh_doctor_add(r, "base", BH_DOCTOR_OK, NULL, "%d base%s; the latest is %s (%s)", n,
			n == 1 ? "" : "s", bases[latest].id, bases[latest].created);
		bh_base_list_free(bases, n);
		return true;
	}
	bh_base_list_free(bases, n);
	char found[PATH_MAX];
	const char *fix;
	if (!in_path("mmdebstrap", found, sizeof(found))) {
		fix = "sudo apt install mmdebstrap, then `bulkheadctl base build` (Super+t in the "
		      "session offers it too)";
	} else if (getuid() != 0 && !in_path("newuidmap", found, sizeof(found))) {
		fix = "sudo apt install uidmap, then `bulkheadctl base build`";
	} else {
		fix = "bulkheadctl base build (a Debian base with the agent, a few minutes; "
		      "Super+t in the session offers it too), or `bulkheadctl base add DIR`";
	}
	bh_doctor_add(r, "base", BH_DOCTOR_FAIL, fix,
		"no base image is registered: a tag has nothing to boot");
	return false;
}

static void check_disk(struct bh_doctor_report *r, bool have_base)
{
	char dir[PATH_MAX];
	if (!bh_paths_state_root(dir, sizeof(dir))) {
		bh_doctor_add(r, "disk", BH_DOCTOR_FAIL, "set HOME (or XDG_STATE_HOME)",
			"no directory for tag disks: neither XDG_STATE_HOME nor HOME is set");
		return;
	}
	/* The nearest directory that exists: the state dir comes with the
	 * first tag. */
	struct statvfs sv;
	while (statvfs(dir, &sv) != 0) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir) {
			snprintf(dir, sizeof(dir), "/");
			if (statvfs(dir, &sv) != 0) {
				bh_doctor_add(r, "disk", BH_DOCTOR_WARN, NULL,
					"cannot tell the free space: %s", strerror(errno));
				return;
			}
			break;
		}
		*slash = '\0';
	}
	uint64_t free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	enum bh_doctor_level level = bh_doctor_disk_level(free_bytes, have_base);
	bh_doctor_add(r, "disk", level,
		have_base ? "free some space there: a tag's disks grow as its guest writes"
			  : "free some space there: a base build needs about 4 GiB while it runs",
		"%.1f GiB free in %s for tag disks%s", (double)free_bytes / GIB, dir,
		have_base ? "" : " and a base");
}

static void check_vsock(struct bh_doctor_report *r)
{
	char path[PATH_MAX];
	dev_path("vhost-vsock", path, sizeof(path));
	int err = try_open(path);
	if (err == 0) {
		bh_doctor_add(r, "vsock", BH_DOCTOR_OK, NULL,
			"%s is usable: `transport = vsock` is possible", path);
	} else {
		bh_doctor_add(r, "vsock", BH_DOCTOR_INFO,
			"only for `transport = vsock`: sudo modprobe vhost_vsock and give yourself "
			"access to the device",
			"%s is not usable (%s); the default virtio-serial channel needs none", path,
			strerror(err));
	}
}

static void check_shm(struct bh_doctor_report *r)
{
	char path[PATH_MAX];
	dev_path("shm", path, sizeof(path));
	struct statfs fs;
	struct statvfs sv;
	const char *fix = "mount a tmpfs there (systemd does by default)";
	if (statfs(path, &fs) != 0 || statvfs(path, &sv) != 0) {
		bh_doctor_add(r, "shm", BH_DOCTOR_INFO, fix,
			"%s is missing (%s): shared-memory window regions are unavailable", path,
			strerror(errno));
	} else if (access(path, W_OK | X_OK) != 0) {
		bh_doctor_add(r, "shm", BH_DOCTOR_INFO, fix,
			"%s is not writable: shared-memory window regions are unavailable", path);
	} else if ((unsigned long)fs.f_type != TMPFS_MAGIC_NUMBER) {
		bh_doctor_add(r, "shm", BH_DOCTOR_INFO, fix,
			"%s is not a tmpfs: shared memory would go through the disk", path);
	} else {
		bh_doctor_add(r, "shm", BH_DOCTOR_OK, NULL, "%s is a tmpfs with %.0f MiB free",
			path, (double)sv.f_bavail * sv.f_frsize / MIB);
	}
}

static void check_compositor(struct bh_doctor_report *r)
{
	const char *path = getenv("BULKHEAD_SOCKET");
	if (path == NULL || path[0] == '\0') {
		bh_doctor_add(r, "compositor", BH_DOCTOR_INFO,
			"log into the bulkhead session from the display manager (or run `bulkhead` "
			"on a text console)",
			"not inside a bulkhead session (BULKHEAD_SOCKET is not set)");
		return;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = -1, err = ENAMETOOLONG;
	if (strlen(path) < sizeof(addr.sun_path)) {
		strcpy(addr.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		err = fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ? errno
											 : 0;
	}
	if (fd >= 0) {
		close(fd);
	}
	if (err == 0) {
		bh_doctor_add(
			r, "compositor", BH_DOCTOR_OK, NULL, "the compositor listens at %s", path);
	} else {
		bh_doctor_add(r, "compositor", BH_DOCTOR_FAIL,
			"log out of the session and in again (the compositor is gone)",
			"the compositor does not answer at BULKHEAD_SOCKET=%s: %s", path,
			strerror(err));
	}
}

int bh_cli_doctor(int argc, char *argv[])
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			bh_cli_error("usage: bulkheadctl doctor [--json]");
			return 2;
		}
	}
	/* What the libraries would log, the report says in its lines. */
	if (getenv("BULKHEAD_LOG") == NULL) {
		bh_log_set_level(BH_LOG_SILENT);
	}
	struct bh_doctor_report *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		bh_cli_error("doctor: out of memory");
		return 1;
	}
	check_kvm_group(r, check_kvm(r));
	check_runtime_dir(r);
	check_program(
		r, "qemu", "qemu-system-x86_64", "qemu-system-x86", "libvirt has no VM to run");
	check_program(r, "qemu-img", "qemu-img", "qemu-utils", "tags cannot get their disks");
	check_libvirt(r);
	check_disk(r, check_base(r));
	check_vsock(r);
	check_shm(r);
	check_compositor(r);
	int status = bh_doctor_exit_status(r);
	if (json) {
		char *text = bh_doctor_json(r);
		if (text == NULL) {
			bh_cli_error("doctor: out of memory");
			free(r);
			return 1;
		}
		printf("%s\n", text);
		free(text);
	} else {
		bh_doctor_print_text(r, stdout);
	}
	free(r);
	return status;
}
