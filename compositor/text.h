/* Text the compositor shows: strings from clients made safe to show, and
 * text drawn with pango into scene buffers. */
#ifndef BH_COMPOSITOR_TEXT_H
#define BH_COMPOSITOR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wlr/types/wlr_scene.h>

#define BH_TITLE_MAX 256 /* bytes of a client title kept */

/* Copies in to out without control characters, bidi overrides or invalid
 * UTF-8 (shown as '?'), cut at a character boundary below size. */
void bh_text_sanitize(const char *in, char *out, size_t size);

/* One line of text on a plain background, ellipsized to width. */
struct wlr_scene_buffer *bh_text_buffer(struct wlr_scene_node *parent, const char *text, int width,
	int height, uint32_t background, uint32_t foreground, bool bold);
/* Lines under each other, the first bold, those with highlight[i] on
 * accent; line i spans y = BH_TEXT_LINES_TOP + i * BH_TEXT_LINE_HEIGHT. */
#define BH_TEXT_LINE_HEIGHT 22
#define BH_TEXT_LINES_TOP 4
struct wlr_scene_buffer *bh_text_lines_buffer(struct wlr_scene_node *parent,
	const char *const *lines, const bool *highlight, size_t count, int width,
	uint32_t background, uint32_t foreground, uint32_t accent);

#endif
