/* The progress of `bulkheadctl base build`, from the recipe's stage lines
 * and mmdebstrap's verbose log (its "I:" steps, apt's sizes and dpkg's
 * "Setting up" lines): which stage, how far into it, what size. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/base_progress.h"

static const struct stage {
	const char *recipe_name; /* its "stage NAME" line, or NULL */
	const char *what;
	int percent; /* where it starts, from a measured build */
} stages[BH_BASE_STAGE_COUNT] = {
	[BH_BASE_STAGE_CHECK] = {"check", "checking the agent and the tools", 0},
	[BH_BASE_STAGE_LISTS] = {"download", "reading the package lists", 1},
	[BH_BASE_STAGE_ESSENTIAL_DOWNLOAD] = {NULL, "downloading the essential packages", 3},
	[BH_BASE_STAGE_ESSENTIAL_INSTALL] = {NULL, "installing the essential packages", 8},
	[BH_BASE_STAGE_DOWNLOAD] = {"install", "downloading packages", 20},
	[BH_BASE_STAGE_INSTALL] = {NULL, "installing packages", 35},
	[BH_BASE_STAGE_CONFIGURE] = {"configure", "setting up the user, the agent and the services",
		82},
	[BH_BASE_STAGE_FILESYSTEM] = {"filesystem", "making the root file system", 88},
	[BH_BASE_STAGE_QCOW2] = {"qcow2", "writing root.qcow2", 93},
	[BH_BASE_STAGE_REGISTER] = {"register", "registering the base", 97},
};

void bh_base_progress_init(struct bh_base_progress *p)
{
	*p = (struct bh_base_progress){.stage = BH_BASE_STAGE_NONE};
}

static bool enter(struct bh_base_progress *p, enum bh_base_stage stage)
{
	if (stage <= p->stage) {
		return false;
	}
	/* A download round starts afresh; an install keeps its round's count. */
	if (stage == BH_BASE_STAGE_ESSENTIAL_DOWNLOAD || stage == BH_BASE_STAGE_DOWNLOAD) {
		p->bytes_total = p->bytes_done = 0;
		p->packages_total = 0;
	}
	p->packages_done = 0;
	p->stage = stage;
	return true;
}

bool bh_base_progress_stage(struct bh_base_progress *p, const char *name)
{
	for (int i = 0; i < BH_BASE_STAGE_COUNT; i++) {
		if (stages[i].recipe_name != NULL && strcmp(stages[i].recipe_name, name) == 0) {
			return enter(p, (enum bh_base_stage)i);
		}
	}
	return false;
}

bool bh_base_parse_size(const char *text, uint64_t *bytes)
{
	char *end;
	double v = strtod(text, &end);
	if (end == text || v < 0 || *end != ' ') {
		return false;
	}
	end++;
	double unit = strncmp(end, "kB", 2) == 0   ? 1e3
		      : strncmp(end, "MB", 2) == 0 ? 1e6
		      : strncmp(end, "GB", 2) == 0 ? 1e9
		      : end[0] == 'B'              ? 1
						   : 0;
	if (unit == 0 || v * unit > 1e15) {
		return false;
	}
	*bytes = (uint64_t)(v * unit + 0.5);
	return true;
}

static bool downloading(const struct bh_base_progress *p)
{
	return p->stage == BH_BASE_STAGE_ESSENTIAL_DOWNLOAD || p->stage == BH_BASE_STAGE_DOWNLOAD;
}

bool bh_base_progress_log_line(struct bh_base_progress *p, const char *line)
{
	static const struct {
		const char *prefix;
		enum bh_base_stage stage;
	} steps[] = {
		{"I: running apt-get update", BH_BASE_STAGE_LISTS},
		{"I: downloading packages with apt", BH_BASE_STAGE_ESSENTIAL_DOWNLOAD},
		{"I: extracting archives", BH_BASE_STAGE_ESSENTIAL_INSTALL},
		{"I: installing essential packages", BH_BASE_STAGE_ESSENTIAL_INSTALL},
		{"I: installing remaining packages inside the chroot", BH_BASE_STAGE_DOWNLOAD},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (strncmp(line, steps[i].prefix, strlen(steps[i].prefix)) == 0) {
			return enter(p, steps[i].stage);
		}
	}
	unsigned n;
	char rest[32];
	if (sscanf(line, "%*u upgraded, %u newly installed%31s", &n, rest) == 2) {
		p->packages_total = n;
		return false;
	}
	uint64_t size;
	if (strncmp(line, "Need to get ", 12) == 0 && downloading(p)) {
		/* "Need to get 12.3 MB/45.6 MB of archives." when some are cached:
		 * the Get: lines add up to the first. */
		char first[32];
		snprintf(first, sizeof(first), "%s", line + 12);
		first[strcspn(first, "/")] = '\0';
		if (bh_base_parse_size(first, &size) || bh_base_parse_size(line + 12, &size)) {
			p->bytes_total = size;
			return true;
		}
		return false;
	}
	if (strncmp(line, "Get:", 4) == 0 && downloading(p) && p->bytes_total > 0) {
		const char *open = strrchr(line, '[');
		if (open != NULL && bh_base_parse_size(open + 1, &size)) {
			p->bytes_done += size;
			if (p->bytes_done > p->bytes_total) {
				p->bytes_done = p->bytes_total;
			}
			return true;
		}
		return false;
	}
	if (p->stage == BH_BASE_STAGE_DOWNLOAD &&
		(strncmp(line, "Fetched ", 8) == 0 ||
			strncmp(line, "Selecting previously unselected", 31) == 0)) {
		p->bytes_done = p->bytes_total;
		return enter(p, BH_BASE_STAGE_INSTALL);
	}
	if (strncmp(line, "Setting up ", 11) == 0 && (p->stage == BH_BASE_STAGE_ESSENTIAL_INSTALL ||
							     p->stage == BH_BASE_STAGE_INSTALL)) {
		if (p->packages_done < p->packages_total) {
			p->packages_done++;
			return true;
		}
	}
	return false;
}

double bh_base_progress_fraction(const struct bh_base_progress *p)
{
	if (downloading(p)) {
		return p->bytes_total > 0 ? (double)p->bytes_done / (double)p->bytes_total : 0;
	}
	if (p->stage == BH_BASE_STAGE_ESSENTIAL_INSTALL || p->stage == BH_BASE_STAGE_INSTALL) {
		return p->packages_total > 0 ? (double)p->packages_done / p->packages_total : 0;
	}
	return 0;
}

int bh_base_progress_percent(const struct bh_base_progress *p)
{
	if (p->stage == BH_BASE_STAGE_NONE) {
		return 0;
	}
	int start = stages[p->stage].percent;
	int end = p->stage + 1 < BH_BASE_STAGE_COUNT ? stages[p->stage + 1].percent : 100;
	/* The next stage's start is reached only by entering it. */
	int percent = start + (int)(bh_base_progress_fraction(p) * (end - start));
	return percent >= end && end > start ? end - 1 : percent;
}

const char *bh_base_progress_what(const struct bh_base_progress *p)
{
	return p->stage == BH_BASE_STAGE_NONE ? "starting" : stages[p->stage].what;
}

static void format_bytes(uint64_t bytes, char *out, size_t size)
{
	if (bytes >= 1000 * 1000 * 1000) {
		snprintf(out, size, "%.1f GB", (double)bytes / 1e9);
	} else {
		snprintf(out, size, "%.1f MB", (double)bytes / 1e6);
	}
}

/* "[####......] " of bar_width cells for percent, or "" for width 0. */
static void format_bar(int percent, int bar_width, char *bar, size_t size)
{
	bar[0] = '\0';
	if (bar_width <= 0) {
		return;
	}
	if (bar_width > (int)size - 4) {
		bar_width = (int)size - 4;
	}
	int filled = percent * bar_width / 100;
	bar[0] = '[';
	for (int i = 0; i < bar_width; i++) {
		bar[1 + i] = i < filled ? '#' : '.';
	}
	bar[1 + bar_width] = ']';
	bar[2 + bar_width] = ' ';
	bar[3 + bar_width] = '\0';
}

void bh_base_progress_format(const struct bh_base_progress *p, uint64_t elapsed_usec, int bar_width,
	char *out, size_t size)
{
	int percent = bh_base_progress_percent(p);
	char bar[128];
	format_bar(percent, bar_width, bar, sizeof(bar));
	char detail[96] = "";
	if (downloading(p) && p->bytes_total > 0) {
		char done[32], total[32];
		format_bytes(p->bytes_done, done, sizeof(done));
		format_bytes(p->bytes_total, total, sizeof(total));
		snprintf(detail, sizeof(detail), " %s of %s", done, total);
	} else if (bh_base_progress_fraction(p) > 0 ||
		   ((p->stage == BH_BASE_STAGE_ESSENTIAL_INSTALL ||
			    p->stage == BH_BASE_STAGE_INSTALL) &&
			   p->packages_total > 0)) {
		snprintf(detail, sizeof(detail), " %u of %u packages", p->packages_done,
			p->packages_total);
	}
	unsigned secs = (unsigned)(elapsed_usec / 1000000u);
	snprintf(out, size, "%s%3d%% %s%s  %u:%02u", bar, percent, bh_base_progress_what(p), detail,
		secs / 60, secs % 60);
}

void bh_transfer_progress_format(const char *what, const char *file, uint64_t done,
	uint64_t total, uint64_t elapsed_usec, int bar_width, char *out, size_t size)
{
	if (done > total) {
		done = total;
	}
	int percent = total > 0 ? (int)(done * 100 / total) : 100;
	char bar[128], d[32], t[32];
	format_bar(percent, bar_width, bar, sizeof(bar));
	format_bytes(done, d, sizeof(d));
	format_bytes(total, t, sizeof(t));
	unsigned secs = (unsigned)(elapsed_usec / 1000000u);
	snprintf(out, size, "%s%3d%% %s %s %s of %s  %u:%02u", bar, percent, what, file, d, t,
		secs / 60, secs % 60);
}
