/* Starting a link's hub (vm/link_hub.c) with the real bulkhead-link-hub and
 * loopback sockets standing for the members' qemu: sixteen members, one
 * hub however often it is ensured, a broadcast from the first member
 * reaching the last, a new hub when the members change, and a hub that
 * ends when it is told to. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/test.h"
#include "vm/link_hub.h"
#include "vm/paths.h"

static pid_t hub_pid(void)
{
	char path[4096];
	long pid = 0;
	CHECK(bh_paths_link_runtime("lab.hub", path, sizeof(path)));
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1) {
			pid = 0;
		}
		fclose(f);
	}
	return (pid_t)pid;
}

/* Running, not a zombie its new parent has yet to reap. */
static bool alive(pid_t pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "re");
	bool running = false;
	if (f != NULL) {
		const char *paren = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		running = paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
		fclose(f);
	}
	return running;
}

static int bind_port(unsigned port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 3};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

int main(void)
{
	char dir[] = "/tmp/bh-link-start.XXXXXX", env[4200];
	CHECK(mkdtemp(dir) != NULL);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	setenv("XDG_STATE_HOME", dir, 1);
	const char *build = getenv("BH_BUILD_ROOT");
	snprintf(env, sizeof(env), "%s/link-hub/bulkhead-link-hub", build ? build : ".");
	setenv("BULKHEAD_LINK_HUB", env, 1);

	char names[BH_LINK_MEMBERS_MAX][16];
	const char *tags[BH_LINK_MEMBERS_MAX];
	for (int i = 0; i < BH_LINK_MEMBERS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "member %d", i);
		tags[i] = names[i];
	}
	struct bh_link_member plan[BH_LINK_MEMBERS_MAX];
	/* Another uid's ports than any real user's. */
	bh_link_plan(4000000000u, "lab", tags, BH_LINK_MEMBERS_MAX, plan);
	char error[1024] = "";
	int lock = bh_link_start_lock("member 0", error, sizeof(error));
	CHECK(lock >= 0);
	bool ok = bh_link_hub_ensure(
		"member 0", "lab", tags, plan, BH_LINK_MEMBERS_MAX, error, sizeof(error));
	CHECK(ok);
	if (!ok) {
		fprintf(stderr, "%s\n", error);
	}
	bh_link_start_unlock(lock);
	pid_t first = hub_pid();
	CHECK(first > 1 && alive(first));
	/* Ensured again for the same members: the same hub. */
	CHECK(bh_link_hub_ensure(
		"member 3", "lab", tags, plan, BH_LINK_MEMBERS_MAX, error, sizeof(error)));
	CHECK(hub_pid() == first);

	/* The first member's broadcast reaches the last, through the hub. */
	int a = bind_port(plan[0].guest_port), z = bind_port(plan[15].guest_port);
	uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned mac[6];
	sscanf(plan[0].mac, "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		&mac[5]);
	for (int i = 0; i < 6; i++) {
		frame[6 + i] = (uint8_t)mac[i];
	}
	struct sockaddr_in hub = {.sin_family = AF_INET,
		.sin_port = htons((uint16_t)plan[0].hub_port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK(sendto(a, frame, sizeof(frame), 0, (struct sockaddr *)&hub, sizeof(hub)) == 60);
	uint8_t got[2000];
	ssize_t n;
	do {
		/* Skip the hub's probes (to no member's MAC). */
		n = recv(z, got, sizeof(got), 0);
	} while (n == 60 && got[0] == 0x0e);
	CHECK(n == 60 && memcmp(got, frame, 60) == 0);
	/* A frame from another member's MAC does not: it is logged. */
	frame[11] ^= 1;
	CHECK(sendto(a, frame, sizeof(frame), 0, (struct sockaddr *)&hub, sizeof(hub)) == 60);
	struct timeval short_wait = {.tv_usec = 500000};
	setsockopt(z, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
	do {
		n = recv(z, got, sizeof(got), 0);
	} while (n == 60 && got[0] == 0x0e);
	CHECK(n < 0);
	char log_path[4096], log[8192] = "";
	CHECK(bh_paths_link_state("lab.log", log_path, sizeof(log_path)));
	FILE *f = fopen(log_path, "re");
	if (f != NULL) {
		log[fread(log, 1, sizeof(log) - 1, f)] = '\0';
		fclose(f);
	}
	CHECK(strstr(log, "from tag member 0: its source MAC is not the member's own") != NULL);
	close(a);
	close(z);

	/* Fifteen members: the hub is replaced. */
	CHECK(bh_link_hub_ensure(
		"member 0", "lab", tags, plan, BH_LINK_MEMBERS_MAX - 1, error, sizeof(error)));
	pid_t second = hub_pid();
	CHECK(second > 1 && second != first && alive(second));
	for (int i = 0; i < 50 && alive(first); i++) {
		usleep(20000);
	}
	CHECK(!alive(first));
	kill(second, SIGTERM);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	return bh_test_finish("test_link_start");
}
