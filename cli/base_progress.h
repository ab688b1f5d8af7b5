/* The progress of `bulkheadctl base build`: the recipe's stage lines and
 * mmdebstrap's verbose output folded into one bar with sizes. Pure code
 * (base_progress.c), which the unit tests link. */
#ifndef CLI_BASE_PROGRESS_H
#define CLI_BASE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bh_base_stage {
	BH_BASE_STAGE_NONE = -1,
	BH_BASE_STAGE_CHECK = 0,
	BH_BASE_STAGE_LISTS,
	BH_BASE_STAGE_ESSENTIAL_DOWNLOAD,
	BH_BASE_STAGE_ESSENTIAL_INSTALL,
	BH_BASE_STAGE_DOWNLOAD,
	BH_BASE_STAGE_INSTALL,
	BH_BASE_STAGE_CONFIGURE,
	BH_BASE_STAGE_FILESYSTEM,
	BH_BASE_STAGE_QCOW2,
	BH_BASE_STAGE_REGISTER,
	BH_BASE_STAGE_COUNT,
};

struct bh_base_progress {
	enum bh_base_stage stage;
	/* The current apt round: "Need to get", the Get: lines seen since. */
	uint64_t bytes_total, bytes_done;
	/* Its "N newly installed" and the "Setting up" lines seen since. */
	unsigned packages_total, packages_done;
};

void bh_base_progress_init(struct bh_base_progress *p);
/* A "stage NAME" line from the recipe's progress fd (NAME: check,
 * download, install, configure, filesystem, qcow2, register). Returns
 * whether the stage moved on (stages never go back). */
bool bh_base_progress_stage(struct bh_base_progress *p, const char *name);
/* A line of the recipe's log (mmdebstrap --verbose, apt, dpkg). Returns
 * whether anything shown changed. */
bool bh_base_progress_log_line(struct bh_base_progress *p, const char *line);
/* How far into its stage, 0..1 (0 for stages measured by nothing). */
double bh_base_progress_fraction(const struct bh_base_progress *p);
/* 0..100, never lower than before for the same stage. */
int bh_base_progress_percent(const struct bh_base_progress *p);
/* What the stage is doing, e.g. "installing packages". */
const char *bh_base_progress_what(const struct bh_base_progress *p);
/* "[#####.....]  42% installing packages 120/245  1:23" (bar_width 0:
 * no bar). */
void bh_base_progress_format(const struct bh_base_progress *p, uint64_t elapsed_usec, int bar_width,
	char *out, size_t size);
/* The progress of `base push`, one file at a time: "[#####.....]  42%
 * sending base-ID-root.qcow2 12.3 MB of 29.1 MB  0:05" (bar_width 0: no
 * bar). what is "sending" or "checking"; total 0 counts as done. */
void bh_transfer_progress_format(const char *what, const char *file, uint64_t done,
	uint64_t total, uint64_t elapsed_usec, int bar_width, char *out, size_t size);

/* apt's sizes: "38.0 MB", "8941 kB", "512 B" (decimal units); false when
 * it is none. */
bool bh_base_parse_size(const char *text, uint64_t *bytes);

#endif
