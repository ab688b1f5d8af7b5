/* Tag name <-> directory and domain name mapping (see tag.h). */
#include <string.h>

#include "vm/tag.h"

static bool kept(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	/* Upper case only: one spelling per byte keeps the mapping one-to-one. */
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

bool bh_tag_check(const char *tag, const char **error)
{
	const char *why = NULL;
	if (tag == NULL || tag[0] == '\0') {
		why = "a tag cannot be empty";
	} else if (strnlen(tag, BH_TAG_MAX + 1) > BH_TAG_MAX) {
		why = "a tag is at most 64 bytes long";
	} else {
		for (const unsigned char *p = (const unsigned char *)tag; *p; p++) {
			/* They would be escaped safely, but a tag is shown in
			 * window titles and terminals, where they mislead. */
			if (*p < 0x20 || *p == 0x7f) {
				why = "a tag cannot contain control characters";
				break;
			}
		}
	}
	if (why != NULL && error != NULL) {
		*error = why;
	}
	return why == NULL;
}

bool bh_tag_dirname(const char *tag, char out[BH_TAG_DIRNAME_SIZE], const char **error)
{
	static const char digits[] = "0123456789ABCDEF";
	if (!bh_tag_check(tag, error)) {
		return false;
	}
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++) {
		if (kept(*p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = digits[*p >> 4];
			out[o++] = digits[*p & 0xf];
		}
	}
	out[o] = '\0';
	return true;
}

bool bh_tag_from_dirname(const char *dirname, char out[BH_TAG_MAX + 1])
{
	size_t o = 0;
	for (const char *p = dirname; *p; p++) {
		if (o >= BH_TAG_MAX) {
			return false;
		}
		unsigned char c = (unsigned char)*p;
		if (kept(c)) {
			out[o++] = (char)c;
			continue;
		}
		if (c != '%') {
			return false;
		}
		int hi = hex_value(p[1]);
		int lo = hi < 0 ? -1 : hex_value(p[2]);
		if (lo < 0) {
			return false;
		}
		c = (unsigned char)(hi << 4 | lo);
		/* A byte that bh_tag_dirname keeps must not come escaped. */
		if (kept(c)) {
			return false;
		}
		out[o++] = (char)c;
		p += 2;
	}
	out[o] = '\0';
	return bh_tag_check(out, NULL);
}

bool bh_tag_domain_name(const char *tag, char out[BH_TAG_DOMAIN_SIZE], const char **error)
{
	const size_t n = sizeof(BH_DOMAIN_PREFIX) - 1;
	memcpy(out, BH_DOMAIN_PREFIX, n);
	return bh_tag_dirname(tag, out + n, error);
}

bool bh_tag_from_domain_name(const char *name, char out[BH_TAG_MAX + 1])
{
	const size_t n = sizeof(BH_DOMAIN_PREFIX) - 1;
	if (strncmp(name, BH_DOMAIN_PREFIX, n) != 0) {
		return false;
	}
	return bh_tag_from_dirname(name + n, out);
}
