/* The report of `bulkheadctl doctor`: its checks, their levels, the text
 * and JSON forms and the exit status. Pure code: no probing here. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/doctor.h"

#define GIB (1024ull * 1024 * 1024)

struct bh_doctor_check *bh_doctor_add(struct bh_doctor_report *report, const char *id,
	enum bh_doctor_level level, const char *fix, const char *message, ...)
{
	if (report->count >= BH_DOCTOR_CHECKS_MAX) {
		return NULL;
	}
	struct bh_doctor_check *c = &report->checks[report->count++];
	c->id = id;
	c->level = level;
	va_list args;
	va_start(args, message);
	vsnprintf(c->message, sizeof(c->message), message, args);
	va_end(args);
	snprintf(c->fix, sizeof(c->fix), "%s", fix != NULL ? fix : "");
	return c;
}

const char *bh_doctor_level_name(enum bh_doctor_level level)
{
	switch (level) {
	case BH_DOCTOR_OK:
		return "ok";
	case BH_DOCTOR_INFO:
		return "info";
	case BH_DOCTOR_WARN:
		return "warn";
	case BH_DOCTOR_FAIL:
		return "fail";
	}
	return "fail";
}

enum bh_doctor_level bh_doctor_worst(const struct bh_doctor_report *report)
{
	enum bh_doctor_level worst = BH_DOCTOR_OK;
	for (size_t i = 0; i < report->count; i++) {
		if (report->checks[i].level > worst) {
			worst = report->checks[i].level;
		}
	}
	return worst;
}

int bh_doctor_exit_status(const struct bh_doctor_report *report)
{
	switch (bh_doctor_worst(report)) {
	case BH_DOCTOR_FAIL:
		return BH_DOCTOR_EXIT_BLOCKED;
	case BH_DOCTOR_WARN:
		return BH_DOCTOR_EXIT_DEGRADED;
	default:
		return BH_DOCTOR_EXIT_READY;
	}
}

/* "a, b, c": the ids of the checks at level. */
static size_t ids_at(
	const struct bh_doctor_report *report, enum bh_doctor_level level, char *out, size_t size)
{
	size_t n = 0, used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < report->count; i++) {
		if (report->checks[i].level != level) {
			continue;
		}
		int w = snprintf(
			out + used, size - used, "%s%s", n > 0 ? ", " : "", report->checks[i].id);
		if (w > 0 && (size_t)w < size - used) {
			used += (size_t)w;
		}
		n++;
	}
	return n;
}

void bh_doctor_print_text(const struct bh_doctor_report *report, FILE *out)
{
	for (size_t i = 0; i < report->count; i++) {
		const struct bh_doctor_check *c = &report->checks[i];
		const char *level =
			c->level == BH_DOCTOR_FAIL ? "FAIL" : bh_doctor_level_name(c->level);
		fprintf(out, "%-5s %-12s %s\n", level, c->id, c->message);
		if (c->level != BH_DOCTOR_OK && c->fix[0] != '\0') {
			fprintf(out, "%-18s fix: %s\n", "", c->fix);
		}
	}
	char ids[512];
	size_t n;
	if ((n = ids_at(report, BH_DOCTOR_FAIL, ids, sizeof(ids))) > 0) {
		fprintf(out,
			"not ready: %zu check%s block%s a first window (%s); do what the fix "
			"says and run `bulkheadctl doctor` again\n",
			n, n == 1 ? "" : "s", n == 1 ? "s" : "", ids);
	} else if ((n = ids_at(report, BH_DOCTOR_WARN, ids, sizeof(ids))) > 0) {
		fprintf(out,
			"ready, with %zu warning%s (%s): windows open, but see the fix%s "
			"above\n",
			n, n == 1 ? "" : "s", ids, n == 1 ? "" : "es");
	} else {
		fprintf(out, "ready: in the bulkhead session press Super+t, type a tag name and "
			     "Enter\n");
	}
}

char *bh_doctor_json(const struct bh_doctor_report *report)
{
	json_object *root = json_object_new_object();
	json_object *checks = json_object_new_array();
	json_object *blocking = json_object_new_array();
	if (root == NULL || checks == NULL || blocking == NULL) {
		json_object_put(root);
		json_object_put(checks);
		json_object_put(blocking);
		return NULL;
	}
	for (size_t i = 0; i < report->count; i++) {
		const struct bh_doctor_check *c = &report->checks[i];
		json_object *o = json_object_new_object();
		if (o == NULL) {
			continue;
		}
		json_object_object_add(o, "id", json_object_new_string(c->id));
		json_object_object_add(
			o, "status", json_object_new_string(bh_doctor_level_name(c->level)));
		json_object_object_add(
			o, "blocks", json_object_new_boolean(c->level == BH_DOCTOR_FAIL));
		json_object_object_add(o, "message", json_object_new_string(c->message));
		json_object_object_add(o, "fix", json_object_new_string(c->fix));
		json_object_array_add(checks, o);
		if (c->level == BH_DOCTOR_FAIL) {
			json_object_array_add(blocking, json_object_new_string(c->id));
		}
	}
	enum bh_doctor_level worst = bh_doctor_worst(report);
	json_object_object_add(root, "ready", json_object_new_boolean(worst != BH_DOCTOR_FAIL));
	json_object_object_add(root, "status",
		json_object_new_string(
			bh_doctor_level_name(worst == BH_DOCTOR_INFO ? BH_DOCTOR_OK : worst)));
	json_object_object_add(root, "exit", json_object_new_int(bh_doctor_exit_status(report)));
	json_object_object_add(root, "blocking", blocking);
	json_object_object_add(root, "checks", checks);
	const char *text = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = text != NULL ? strdup(text) : NULL;
	json_object_put(root);
	return copy;
}

enum bh_doctor_level bh_doctor_disk_level(uint64_t free_bytes, bool have_base)
{
	if (free_bytes < 1 * GIB) {
		return BH_DOCTOR_FAIL;
	}
	if (free_bytes < (have_base ? 4 : 8) * GIB) {
		return BH_DOCTOR_WARN;
	}
	return BH_DOCTOR_OK;
}

enum bh_doctor_kvm_group bh_doctor_kvm_group_state(
	bool root, bool group_exists, bool in_process, bool listed, bool kvm_usable)
{
	if (root) {
		return BH_KVM_GROUP_ROOT;
	}
	if (!group_exists) {
		return BH_KVM_GROUP_NO_GROUP;
	}
	if (in_process) {
		return BH_KVM_GROUP_MEMBER;
	}
	if (kvm_usable) {
		return BH_KVM_GROUP_NOT_NEEDED;
	}
	return listed ? BH_KVM_GROUP_RELOGIN : BH_KVM_GROUP_MISSING;
}
