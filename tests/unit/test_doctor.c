/* bulkheadctl doctor's report: levels to exit status, the JSON form read
 * back, the text form's lines and fixes, and the rules for disk space and
 * group kvm. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cli/doctor.h"
#include "tests/test.h"

#define GIB (1024ull * 1024 * 1024)

static char *render_text(const struct bh_doctor_report *r)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL) {
		return NULL;
	}
	bh_doctor_print_text(r, f);
	fclose(f);
	return buf;
}

static void test_exit_status(void)
{
	struct bh_doctor_report r = {0};
	CHECK_EQ_INT(bh_doctor_exit_status(&r), BH_DOCTOR_EXIT_READY);
	bh_doctor_add(&r, "kvm", BH_DOCTOR_OK, NULL, "fine");
	bh_doctor_add(&r, "vsock", BH_DOCTOR_INFO, "modprobe", "absent");
	CHECK_EQ_INT(bh_doctor_exit_status(&r), BH_DOCTOR_EXIT_READY);
	bh_doctor_add(&r, "kvm-group", BH_DOCTOR_WARN, "adduser", "not in it");
	CHECK_EQ_INT(bh_doctor_exit_status(&r), BH_DOCTOR_EXIT_DEGRADED);
	bh_doctor_add(&r, "base", BH_DOCTOR_FAIL, "base build", "none");
	CHECK_EQ_INT(bh_doctor_exit_status(&r), BH_DOCTOR_EXIT_BLOCKED);
	CHECK_EQ_INT(bh_doctor_worst(&r), BH_DOCTOR_FAIL);
	CHECK(strcmp(bh_doctor_level_name(BH_DOCTOR_INFO), "info") == 0);
}

static void test_full_report(void)
{
	struct bh_doctor_report r = {0};
	size_t added = 0;
	while (bh_doctor_add(&r, "x", BH_DOCTOR_OK, NULL, "%zu", added) != NULL) {
		added++;
	}
	CHECK_EQ_INT(added, BH_DOCTOR_CHECKS_MAX);
	CHECK_EQ_INT(r.count, BH_DOCTOR_CHECKS_MAX);
	/* A message longer than its buffer is cut, never overflows. */
	struct bh_doctor_report s = {0};
	char long_text[2 * BH_DOCTOR_TEXT_SIZE];
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	struct bh_doctor_check *c =
		bh_doctor_add(&s, "long", BH_DOCTOR_FAIL, long_text, "%s", long_text);
	CHECK(c != NULL && strlen(c->message) == BH_DOCTOR_TEXT_SIZE - 1);
	CHECK(c != NULL && strlen(c->fix) == BH_DOCTOR_TEXT_SIZE - 1);
}

static void test_json(void)
{
	struct bh_doctor_report r = {0};
	bh_doctor_add(&r, "kvm", BH_DOCTOR_WARN, "sudo adduser me kvm", "/dev/kvm: \"denied\"");
	bh_doctor_add(&r, "libvirt", BH_DOCTOR_FAIL, "install libvirt", "no socket at /run/x");
	bh_doctor_add(&r, "base", BH_DOCTOR_FAIL, "bulkheadctl base build", "no base");
	bh_doctor_add(&r, "vsock", BH_DOCTOR_INFO, NULL, "absent");
	char *text = bh_doctor_json(&r);
	CHECK(text != NULL);
	json_object *o = text != NULL ? json_tokener_parse(text) : NULL;
	CHECK(o != NULL);
	json_object *v;
	CHECK(json_object_object_get_ex(o, "ready", &v) && !json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(o, "status", &v) &&
		strcmp(json_object_get_string(v), "fail") == 0);
	CHECK(json_object_object_get_ex(o, "exit", &v) && json_object_get_int(v) == 1);
	CHECK(json_object_object_get_ex(o, "blocking", &v) && json_object_array_length(v) == 2 &&
		strcmp(json_object_get_string(json_object_array_get_idx(v, 0)), "libvirt") == 0 &&
		strcmp(json_object_get_string(json_object_array_get_idx(v, 1)), "base") == 0);
	json_object *checks = NULL;
	CHECK(json_object_object_get_ex(o, "checks", &checks) &&
		json_object_array_length(checks) == 4);
	json_object *kvm = checks != NULL ? json_object_array_get_idx(checks, 0) : NULL;
	CHECK(kvm != NULL && json_object_object_get_ex(kvm, "message", &v) &&
		strcmp(json_object_get_string(v), "/dev/kvm: \"denied\"") == 0);
	CHECK(kvm != NULL && json_object_object_get_ex(kvm, "status", &v) &&
		strcmp(json_object_get_string(v), "warn") == 0);
	CHECK(kvm != NULL && json_object_object_get_ex(kvm, "blocks", &v) &&
		!json_object_get_boolean(v));
	json_object *vsock = checks != NULL ? json_object_array_get_idx(checks, 3) : NULL;
	CHECK(vsock != NULL && json_object_object_get_ex(vsock, "fix", &v) &&
		strcmp(json_object_get_string(v), "") == 0);
	json_object_put(o);
	free(text);

	/* Info only: ready, status ok, exit 0. */
	struct bh_doctor_report s = {0};
	bh_doctor_add(&s, "vsock", BH_DOCTOR_INFO, NULL, "absent");
	text = bh_doctor_json(&s);
	o = text != NULL ? json_tokener_parse(text) : NULL;
	CHECK(o != NULL && json_object_object_get_ex(o, "ready", &v) && json_object_get_boolean(v));
	CHECK(o != NULL && json_object_object_get_ex(o, "status", &v) &&
		strcmp(json_object_get_string(v), "ok") == 0);
	CHECK(o != NULL && json_object_object_get_ex(o, "exit", &v) && json_object_get_int(v) == 0);
	json_object_put(o);
	free(text);
}

static void test_text(void)
{
	struct bh_doctor_report r = {0};
	bh_doctor_add(&r, "kvm", BH_DOCTOR_OK, "never shown", "usable");
	bh_doctor_add(&r, "base", BH_DOCTOR_FAIL, "bulkheadctl base build", "no base image");
	bh_doctor_add(&r, "libvirt", BH_DOCTOR_FAIL, "install libvirt-daemon", "no answer");
	char *text = render_text(&r);
	CHECK(text != NULL);
	if (text == NULL) {
		return;
	}
	CHECK(strstr(text, "ok    kvm          usable\n") != NULL);
	CHECK(strstr(text, "never shown") == NULL);
	CHECK(strstr(text, "FAIL  base         no base image\n") != NULL);
	CHECK(strstr(text, "fix: bulkheadctl base build\n") != NULL);
	CHECK(strstr(text, "fix: install libvirt-daemon\n") != NULL);
	CHECK(strstr(text, "not ready: 2 checks block a first window (base, libvirt)") != NULL);
	free(text);

	struct bh_doctor_report w = {0};
	bh_doctor_add(&w, "kvm", BH_DOCTOR_WARN, "adduser", "TCG");
	text = render_text(&w);
	CHECK(text != NULL && strstr(text, "ready, with 1 warning (kvm)") != NULL);
	free(text);

	struct bh_doctor_report ok = {0};
	bh_doctor_add(&ok, "kvm", BH_DOCTOR_OK, NULL, "usable");
	text = render_text(&ok);
	CHECK(text != NULL && strncmp(strstr(text, "\n") + 1, "ready: ", 7) == 0);
	free(text);
}

static void test_disk(void)
{
	CHECK_EQ_INT(bh_doctor_disk_level(0, true), BH_DOCTOR_FAIL);
	CHECK_EQ_INT(bh_doctor_disk_level(GIB - 1, true), BH_DOCTOR_FAIL);
	CHECK_EQ_INT(bh_doctor_disk_level(GIB, true), BH_DOCTOR_WARN);
	CHECK_EQ_INT(bh_doctor_disk_level(4 * GIB, true), BH_DOCTOR_OK);
	CHECK_EQ_INT(bh_doctor_disk_level(4 * GIB, false), BH_DOCTOR_WARN);
	CHECK_EQ_INT(bh_doctor_disk_level(8 * GIB, false), BH_DOCTOR_OK);
	CHECK_EQ_INT(bh_doctor_disk_level(UINT64_MAX, false), BH_DOCTOR_OK);
}

static void test_kvm_group(void)
{
	/* root, group exists, in process, listed, kvm usable */
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(true, false, false, false, false), BH_KVM_GROUP_ROOT);
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(false, false, false, false, true), BH_KVM_GROUP_NO_GROUP);
	CHECK_EQ_INT(bh_doctor_kvm_group_state(false, true, true, true, true), BH_KVM_GROUP_MEMBER);
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(false, true, true, false, false), BH_KVM_GROUP_MEMBER);
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(false, true, false, true, false), BH_KVM_GROUP_RELOGIN);
	CHECK_EQ_INT(bh_doctor_kvm_group_state(false, true, false, false, true),
		BH_KVM_GROUP_NOT_NEEDED);
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(false, true, false, true, true), BH_KVM_GROUP_NOT_NEEDED);
	CHECK_EQ_INT(
		bh_doctor_kvm_group_state(false, true, false, false, false), BH_KVM_GROUP_MISSING);
}

int main(void)
{
	test_exit_status();
	test_full_report();
	test_json();
	test_text();
	test_disk();
	test_kvm_group();
	return bh_test_finish("test_doctor");
}
