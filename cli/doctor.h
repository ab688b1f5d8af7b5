/* bulkheadctl doctor: the report of the host checks (pure code in
 * doctor_report.c, which the unit tests link) and the probes (doctor.c). */
#ifndef CLI_DOCTOR_H
#define CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bh_doctor_level {
	BH_DOCTOR_OK = 0,
	BH_DOCTOR_INFO, /* an optional feature is unavailable; nothing is lost */
	BH_DOCTOR_WARN, /* windows come, but slower or with less (e.g. TCG) */
	BH_DOCTOR_FAIL, /* blocks a first framed window */
};

#define BH_DOCTOR_CHECKS_MAX 24
#define BH_DOCTOR_TEXT_SIZE 512

struct bh_doctor_check {
	const char *id; /* static, e.g. "kvm" */
	enum bh_doctor_level level;
	char message[BH_DOCTOR_TEXT_SIZE]; /* what was found, one line */
	char fix[BH_DOCTOR_TEXT_SIZE];     /* what to do, "" when nothing */
};

struct bh_doctor_report {
	struct bh_doctor_check checks[BH_DOCTOR_CHECKS_MAX];
	size_t count;
};

/* Exit statuses of `bulkheadctl doctor`. */
#define BH_DOCTOR_EXIT_READY 0
#define BH_DOCTOR_EXIT_BLOCKED 1
#define BH_DOCTOR_EXIT_DEGRADED 3

/* Appends a check; message and fix are printf formats (fix may be NULL).
 * Returns the check, or NULL when the report is full. */
struct bh_doctor_check *bh_doctor_add(struct bh_doctor_report *report, const char *id,
	enum bh_doctor_level level, const char *fix, const char *message, ...)
	__attribute__((format(printf, 5, 6)));
const char *bh_doctor_level_name(enum bh_doctor_level level);
/* The worst level in the report. */
enum bh_doctor_level bh_doctor_worst(const struct bh_doctor_report *report);
/* 0 when nothing worse than info, 3 with warnings only, 1 when a check
 * that blocks a first window failed. */
int bh_doctor_exit_status(const struct bh_doctor_report *report);

/* The report for people: one line per check and its fix, then a verdict. */
void bh_doctor_print_text(const struct bh_doctor_report *report, FILE *out);
/* The report as one JSON object (see bulkheadctl(1)); malloc'd, NULL
 * when out of memory. */
char *bh_doctor_json(const struct bh_doctor_report *report);

/* Free space for overlays: fail under 1 GiB, warn under 4 GiB (under
 * 8 GiB while there is no base yet, which a build needs on top). */
enum bh_doctor_level bh_doctor_disk_level(uint64_t free_bytes, bool have_base);

/* Group kvm: what the facts mean (root, the group exists, this process is
 * in it, /etc/group lists the user in it, /dev/kvm opens). */
enum bh_doctor_kvm_group {
	BH_KVM_GROUP_ROOT,       /* root needs no group */
	BH_KVM_GROUP_MEMBER,     /* in it */
	BH_KVM_GROUP_RELOGIN,    /* added, but this login predates it */
	BH_KVM_GROUP_NOT_NEEDED, /* not in it, /dev/kvm usable anyway (ACL) */
	BH_KVM_GROUP_MISSING,    /* not in it and /dev/kvm refuses */
	BH_KVM_GROUP_NO_GROUP,   /* no group kvm on this system */
};
enum bh_doctor_kvm_group bh_doctor_kvm_group_state(
	bool root, bool group_exists, bool in_process, bool listed, bool kvm_usable);

#endif
