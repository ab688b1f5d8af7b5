/* Preloaded into the compositor by bench/run only: sets the refresh rate of
 * the headless output (BH_BENCH_REFRESH_HZ, up to 1000, wlroots' headless
 * limit) so that frame callbacks measure the display path rather than a
 * 60 Hz timer. The compositor itself has no option for it. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

struct wlr_output;

void wlr_output_set_custom_mode(struct wlr_output *output, int32_t width, int32_t height,
	int32_t refresh);

void wlr_output_set_custom_mode(struct wlr_output *output, int32_t width, int32_t height,
	int32_t refresh)
{
	static void (*real)(struct wlr_output *, int32_t, int32_t, int32_t);
	if (real == NULL) {
		real = (void (*)(struct wlr_output *, int32_t, int32_t, int32_t))dlsym(
			RTLD_NEXT, "wlr_output_set_custom_mode");
	}
	const char *hz = getenv("BH_BENCH_REFRESH_HZ");
	if (refresh <= 0 && hz != NULL) {
		long v = strtol(hz, NULL, 10);
		if (v > 0 && v <= 1000) {
			refresh = (int32_t)(v * 1000);
		}
	}
	if (real != NULL) {
		real(output, width, height, refresh);
	}
}
