/* A minimal test harness for C unit tests: checks log the failing
 * expression with file:line and the program exits non-zero at the end. */
#ifndef TESTS_TEST_H
#define TESTS_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int bh_test_failures;
static int bh_test_checks;

#define CHECK(expr)                                                                              \
	do {                                                                                     \
		bh_test_checks++;                                                                \
		if (!(expr)) {                                                                   \
			bh_test_failures++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr);          \
		}                                                                                \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                       \
	do {                                                                                     \
		long long bh_a_ = (long long)(a), bh_b_ = (long long)(b);                        \
		bh_test_checks++;                                                                \
		if (bh_a_ != bh_b_) {                                                            \
			bh_test_failures++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,       \
				__LINE__, #a, #b, bh_a_, bh_b_);                                 \
		}                                                                                \
	} while (0)

static inline int bh_test_finish(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", name, bh_test_checks, bh_test_failures);
	return bh_test_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
