/* What the host asks of the guest at boot through the kernel command line:
 * host folders mounted (bulkhead.share=TAG,ro|rw,PATH, 9p over virtio),
 * private link interfaces addressed (bulkhead.link=MAC,ADDRESS/PREFIX) and
 * user networking's interface set up (bulkhead.net=user).
 * Done once per boot: an agent restarted later finds them in place. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"

static bool mount_tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 31) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9'))) {
			return false;
		}
	}
	return true;
}

static bool mkdir_p(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
			*p = c;
			if (!ok || c == '\0') {
				return ok;
			}
		}
	}
}

/* Whether something is mounted on path (from /proc/self/mounts). */
static bool mounted_on(const char *path)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (f == NULL) {
		return false;
	}
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *sp = strchr(line, ' ');
		if (sp == NULL) {
			continue;
		}
		size_t n = strlen(path);
		found = strncmp(sp + 1, path, n) == 0 && sp[1 + n] == ' ';
	}
	fclose(f);
	return found;
}

static void mount_share(char *word, uid_t uid, gid_t gid)
{
	char *tag = word;
	char *mode = strchr(tag, ',');
	char *path = mode != NULL ? strchr(mode + 1, ',') : NULL;
	if (path == NULL) {
		bh_log(BH_LOG_ERROR, "bulkhead.share=%s: want TAG,ro|rw,PATH; not mounted", word);
		return;
	}
	*mode++ = '\0';
	*path++ = '\0';
	bool rw = strcmp(mode, "rw") == 0;
	if (!mount_tag_ok(tag) || !(rw || strcmp(mode, "ro") == 0) || !bh_path_is_plain(path, 256)) {
		bh_log(BH_LOG_ERROR,
			"bulkhead.share=%s,%s,%s: a bad tag, mode or path; not mounted", tag, mode,
			path);
		return;
	}
	if (mounted_on(path)) {
		return;
	}
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", path);
	if (!mkdir_p(dir)) {
		bh_log_errno(BH_LOG_ERROR, "host folder %s: cannot create %s", tag, path);
		return;
	}
	/* The device can show up a moment after the modules loaded. */
	int tries = 0;
	while (mount(tag, path, "9p", (rw ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV,
		       "trans=virtio,version=9p2000.L,msize=262144") != 0) {
		if (errno != ENOENT || ++tries >= 40) {
			bh_log_errno(BH_LOG_ERROR, "host folder %s: mount on %s failed", tag, path);
			return;
		}
		usleep(50000);
	}
	/* The guest user owns a writable share's top (kept in the host's
	 * xattrs by 9p's mapped mode; the host folder keeps its own owner). */
	if (rw && chown(path, uid, gid) != 0) {
		bh_log_errno(BH_LOG_WARN, "host folder %s on %s: cannot hand it to the guest user",
			tag, path);
	}
	bh_log(BH_LOG_INFO, "host folder %s mounted on %s (%s)", tag, path,
		rw ? "read-write" : "read-only");
}

/* The interface whose MAC is mac, into name (IFNAMSIZ). */
static bool interface_by_mac(const char *mac, char name[IFNAMSIZ])
{
	DIR *d = opendir("/sys/class/net");
	if (d == NULL) {
		return false;
	}
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ) {
			continue;
		}
		char path[300], addr[32] = "";
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
		FILE *f = fopen(path, "re");
		if (f == NULL) {
			continue;
		}
		if (fgets(addr, sizeof(addr), f) != NULL) {
			addr[strcspn(addr, "\n")] = '\0';
			size_t len = strnlen(e->d_name, IFNAMSIZ);
			if (strcasecmp(addr, mac) == 0 && len < IFNAMSIZ) {
				memcpy(name, e->d_name, len + 1);
				found = true;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

static bool set_inet(int s, unsigned long request, const char *ifname, struct in_addr a)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return ioctl(s, request, &ifr) == 0;
}

static void address_link(char *word)
{
	char *mac = word;
	char *addr = strchr(mac, ',');
	char *slash = addr != NULL ? strchr(addr, '/') : NULL;
	if (slash == NULL) {
		bh_log(BH_LOG_ERROR, "bulkhead.link=%s: want MAC,ADDRESS/PREFIX; not set up", word);
		return;
	}
	*addr++ = '\0';
	*slash++ = '\0';
	char *end;
	unsigned long prefix = strtoul(slash, &end, 10);
	struct in_addr a, mask;
	if (strlen(mac) != 17 || inet_pton(AF_INET, addr, &a) != 1 || *end != '\0' || prefix < 8 ||
		prefix > 30) {
		bh_log(BH_LOG_ERROR, "bulkhead.link=%s,%s/%s: a bad MAC, address or prefix", mac,
			addr, slash);
		return;
	}
	mask.s_addr = htonl(0xffffffffu << (32 - prefix));
	char ifname[IFNAMSIZ];
	int tries = 0;
	while (!interface_by_mac(mac, ifname)) {
		if (++tries >= 40) {
			bh_log(BH_LOG_ERROR, "link interface %s: not found (is virtio_net loaded?)",
				mac);
			return;
		}
		usleep(50000);
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		bh_log_errno(BH_LOG_ERROR, "link interface %s: no socket", ifname);
		return;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	bool ok = set_inet(s, SIOCSIFADDR, ifname, a) &&
		  set_inet(s, SIOCSIFNETMASK, ifname, mask) && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	if (ok) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	}
	if (!ok) {
		bh_log_errno(
			BH_LOG_ERROR, "link interface %s: cannot set %s/%lu", ifname, addr, prefix);
	} else {
		bh_log(BH_LOG_INFO, "link interface %s: %s/%lu", ifname, addr, prefix);
	}
	close(s);
}

/* User networking (libvirt's <interface type='user'>, slirp) has fixed
 * addresses: the guest 10.0.2.15/24, the gateway 10.0.2.2, DNS 10.0.2.3.
 * Its card has libvirt's 52:54:00 MAC (links have 0e:); one that already
 * has an address (the guest's own DHCP) is left alone. */
static void user_network(void)
{
	char ifname[IFNAMSIZ] = "";
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	while (d != NULL && ifname[0] == '\0' && (e = readdir(d)) != NULL) {
		char path[300], addr[32] = "";
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ) {
			continue;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
		FILE *f = fopen(path, "re");
		if (f != NULL && fgets(addr, sizeof(addr), f) != NULL &&
			strncasecmp(addr, "52:54:00:", 9) == 0 &&
			strnlen(e->d_name, sizeof(ifname)) < sizeof(ifname)) {
			memcpy(ifname, e->d_name, strlen(e->d_name) + 1);
		}
		if (f != NULL) {
			fclose(f);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	if (ifname[0] == '\0') {
		bh_log(BH_LOG_ERROR, "user networking: no network card with a 52:54:00 MAC");
		return;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFADDR, &ifr) == 0) {
		close(s);
		return; /* configured already */
	}
	struct in_addr a, mask, gw;
	inet_pton(AF_INET, "10.0.2.15", &a);
	inet_pton(AF_INET, "255.255.255.0", &mask);
	inet_pton(AF_INET, "10.0.2.2", &gw);
	bool ok = set_inet(s, SIOCSIFADDR, ifname, a) &&
		  set_inet(s, SIOCSIFNETMASK, ifname, mask) && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	if (ok) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	}
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *via = (struct sockaddr_in *)&rt.rt_gateway;
	struct sockaddr_in *msk = (struct sockaddr_in *)&rt.rt_genmask;
	dst->sin_family = via->sin_family = msk->sin_family = AF_INET;
	via->sin_addr = gw;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = ifname;
	if (ok && ioctl(s, SIOCADDRT, &rt) != 0 && errno != EEXIST) {
		ok = false;
	}
	if (!ok) {
		bh_log_errno(BH_LOG_ERROR, "user networking on %s: cannot set it up", ifname);
	} else {
		bh_log(BH_LOG_INFO, "user networking on %s: 10.0.2.15/24 via 10.0.2.2", ifname);
	}
	close(s);
	/* A resolver only where the guest has none of its own. */
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		const char line[] = "nameserver 10.0.2.3\n";
		if (write(fd, line, sizeof(line) - 1) < 0) {
			bh_log_errno(BH_LOG_WARN, "cannot write /etc/resolv.conf");
		}
		close(fd);
	}
}

void bh_agent_guest_setup(const char *cmdline_path, uid_t uid, gid_t gid)
{
	FILE *f = fopen(cmdline_path, "re");
	if (f == NULL) {
		return;
	}
	char line[4096];
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!got) {
		return;
	}
	char *save = NULL;
	for (char *w = strtok_r(line, " \n", &save); w != NULL; w = strtok_r(NULL, " \n", &save)) {
		if (strncmp(w, "bulkhead.share=", 15) == 0) {
			mount_share(w + 15, uid, gid);
		} else if (strncmp(w, "bulkhead.link=", 14) == 0) {
			address_link(w + 14);
		} else if (strcmp(w, "bulkhead.net=user") == 0) {
			user_network();
		}
	}
}
