/* Tag mapping: dangerous inputs are refused or mapped into one safe path
 * component, and every accepted tag round-trips. */
#include <string.h>

#include "tests/test.h"
#include "vm/tag.h"

static void check_safe_component(const char *dir)
{
	CHECK(dir[0] != '\0');
	CHECK(strcmp(dir, ".") != 0 && strcmp(dir, "..") != 0);
	CHECK(strchr(dir, '/') == NULL);
	CHECK(strchr(dir, '.') == NULL);
	CHECK(strlen(dir) < BH_TAG_DIRNAME_SIZE);
	for (const char *p = dir; *p; p++) {
		CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
	}
}

static void check_round_trip(const char *tag)
{
	char dir[BH_TAG_DIRNAME_SIZE], back[BH_TAG_MAX + 1], dom[BH_TAG_DOMAIN_SIZE];
	const char *error = NULL;
	CHECK(bh_tag_dirname(tag, dir, &error));
	check_safe_component(dir);
	CHECK(bh_tag_from_dirname(dir, back));
	CHECK(strcmp(back, tag) == 0);
	CHECK(bh_tag_domain_name(tag, dom, &error));
	CHECK(strncmp(dom, "bulkhead-", 9) == 0);
	CHECK(strcmp(dom + 9, dir) == 0);
	CHECK(bh_tag_from_domain_name(dom, back));
	CHECK(strcmp(back, tag) == 0);
}

static void check_refused(const char *tag, const char *why)
{
	char dir[BH_TAG_DIRNAME_SIZE];
	const char *error = NULL;
	CHECK(!bh_tag_dirname(tag, dir, &error));
	CHECK(error != NULL && strstr(error, why) != NULL);
}

int main(void)
{
	char dir[BH_TAG_DIRNAME_SIZE], back[BH_TAG_MAX + 1];

	/* Ordinary tags keep their name. */
	CHECK(bh_tag_dirname("work", dir, NULL));
	CHECK(strcmp(dir, "work") == 0);
	CHECK(bh_tag_dirname("Client_X-2", dir, NULL));
	CHECK(strcmp(dir, "Client_X-2") == 0);

	/* Path tricks become one harmless component. */
	const char *dangerous[] = {"../x", "/", "..", ".", "a/../../b", "~", "$HOME", "a b", "%2F",
		"%", "x%41", "-rf", "client x: ünïcödé", "'\"<>&;|`", "bulkhead-work"};
	for (size_t i = 0; i < sizeof(dangerous) / sizeof(dangerous[0]); i++) {
		check_round_trip(dangerous[i]);
	}
	CHECK(bh_tag_dirname("../x", dir, NULL));
	CHECK(strcmp(dir, "%2E%2E%2Fx") == 0);
	CHECK(bh_tag_dirname("/", dir, NULL));
	CHECK(strcmp(dir, "%2F") == 0);

	/* Collision-free: tags that a lossy mapping would merge stay apart. */
	const char *pairs[][2] = {{"a b", "a_b"}, {"a/b", "a%2Fb"}, {"A", "a"}, {"%", "%25"}};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char d1[BH_TAG_DIRNAME_SIZE], d2[BH_TAG_DIRNAME_SIZE];
		CHECK(bh_tag_dirname(pairs[i][0], d1, NULL));
		CHECK(bh_tag_dirname(pairs[i][1], d2, NULL));
		CHECK(strcmp(d1, d2) != 0);
	}

	/* Every single byte value round-trips (control characters excepted). */
	for (int c = 1; c < 256; c++) {
		char tag[2] = {(char)c, 0};
		if (c < 0x20 || c == 0x7f) {
			check_refused(tag, "control");
		} else {
			check_round_trip(tag);
		}
	}

	/* Refused with a reason. */
	check_refused("", "empty");
	check_refused("a\nb", "control");
	check_refused("\x1b[31mred", "control");
	static char huge[10001];
	memset(huge, 'a', sizeof(huge) - 1);
	check_refused(huge, "64 bytes");
	char max[BH_TAG_MAX + 1];
	memset(max, '/', BH_TAG_MAX);
	max[BH_TAG_MAX] = '\0';
	check_round_trip(max);
	max[BH_TAG_MAX - 1] = '\0';
	check_round_trip(max);

	/* Only canonical directory names decode. */
	CHECK(!bh_tag_from_dirname("", back));
	CHECK(!bh_tag_from_dirname("a.b", back));
	CHECK(!bh_tag_from_dirname("%2e", back)); /* lower-case hex */
	CHECK(!bh_tag_from_dirname("%41", back)); /* 'A' must not be escaped */
	CHECK(!bh_tag_from_dirname("%2", back));  /* truncated */
	CHECK(!bh_tag_from_dirname("%0A", back)); /* control character */
	CHECK(!bh_tag_from_dirname("a/b", back));
	CHECK(!bh_tag_from_domain_name("other-vm", back));
	CHECK(!bh_tag_from_domain_name("bulkhead-", back));
	return bh_test_finish("test_tag");
}
