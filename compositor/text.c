/* Text the compositor shows: client strings made safe to show, and text
 * (titles, menu, prompt, status) drawn with pango on a cairo image surface,
 * wrapped as a wlr_buffer for the scene graph. */
#include <cairo.h>
#include <drm_fourcc.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_buffer.h>

#include "compositor/text.h"

void bh_text_sanitize(const char *in, char *out, size_t size)
{
	/* Control characters (C0, DEL, C1) go; invalid UTF-8 bytes become '?';
	 * the result is cut at a character boundary below size. */
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)(in != NULL ? in : "");
	while (*p != '\0' && o + 1 < size) {
		unsigned char c = *p;
		size_t len = c < 0x80             ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		bool valid = len > 0;
		for (size_t i = 1; valid && i < len; i++) {
			valid = (p[i] & 0xc0) == 0x80;
		}
		if (valid && len == 2 && c < 0xc2) {
			valid = false; /* overlong */
		}
		if (!valid) {
			out[o++] = '?';
			p++;
			continue;
		}
		if (len == 1 && (c < 0x20 || c == 0x7f)) {
			p++;
			continue;
		}
		/* C1 controls U+0080..U+009F, and bidi overrides that could
		 * reorder the tag prefix (U+202A..U+202E, U+2066..U+2069). */
		if (len == 2 && c == 0xc2 && p[1] < 0xa0) {
			p += 2;
			continue;
		}
		if (len == 3 && c == 0xe2 &&
			((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
				(p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
			p += 3;
			continue;
		}
		if (o + len >= size) {
			break;
		}
		memcpy(out + o, p, len);
		o += len;
		p += len;
	}
	out[o] = '\0';
}

struct cairo_buffer {
	struct wlr_buffer base;
	cairo_surface_t *surface;
};

static void cairo_buffer_destroy(struct wlr_buffer *wlr_buffer)
{
	struct cairo_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	cairo_surface_destroy(buffer->surface);
	free(buffer);
}

static bool cairo_buffer_begin(struct wlr_buffer *wlr_buffer, uint32_t flags, void **data,
	uint32_t *format, size_t *stride)
{
	struct cairo_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	*data = cairo_image_surface_get_data(buffer->surface);
	*format = DRM_FORMAT_ARGB8888;
	*stride = (size_t)cairo_image_surface_get_stride(buffer->surface);
	return true;
}

static void cairo_buffer_end(struct wlr_buffer *wlr_buffer)
{
}

static const struct wlr_buffer_impl cairo_buffer_impl = {
	.destroy = cairo_buffer_destroy,
	.begin_data_ptr_access = cairo_buffer_begin,
	.end_data_ptr_access = cairo_buffer_end,
};

static void set_source(cairo_t *cr, uint32_t rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
		(rgb & 0xff) / 255.0);
}

static struct wlr_scene_buffer *wrap(
	struct wlr_scene_node *parent, cairo_surface_t *surface, int width, int height)
{
	cairo_surface_flush(surface);
	struct cairo_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		cairo_surface_destroy(surface);
		return NULL;
	}
	wlr_buffer_init(&buffer->base, &cairo_buffer_impl, width, height);
	buffer->surface = surface;
	struct wlr_scene_buffer *node = wlr_scene_buffer_create(parent, &buffer->base);
	/* The scene holds its own reference. */
	wlr_buffer_drop(&buffer->base);
	return node;
}

static PangoLayout *layout_for(cairo_t *cr, const char *text, bool bold, int width)
{
	PangoLayout *layout = pango_cairo_create_layout(cr);
	PangoFontDescription *font =
		pango_font_description_from_string(bold ? "Sans Bold 10" : "Sans 10");
	pango_layout_set_font_description(layout, font);
	pango_font_description_free(font);
	pango_layout_set_width(layout, width * PANGO_SCALE);
	pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
	pango_layout_set_single_paragraph_mode(layout, TRUE);
	/* Plain text: a title with markup characters shows them as they are. */
	pango_layout_set_text(layout, text, -1);
	return layout;
}

/* A width x height image filled with background, and a context on it. */
static cairo_surface_t *canvas_create(int width, int height, uint32_t background, cairo_t **cr)
{
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surface);
		return NULL;
	}
	*cr = cairo_create(surface);
	set_source(*cr, background);
	cairo_paint(*cr);
	return surface;
}

/* One line of text from x, ellipsized to width, centred in a band of
 * height from y. */
static void draw_line(cairo_t *cr, const char *text, bool bold, int x, int y, int width, int height,
	uint32_t foreground)
{
	PangoLayout *layout = layout_for(cr, text, bold, width);
	int tw, th;
	pango_layout_get_pixel_size(layout, &tw, &th);
	set_source(cr, foreground);
	cairo_move_to(cr, x, y + (height - th) / 2.0);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);
}

struct wlr_scene_buffer *bh_text_buffer(struct wlr_scene_node *parent, const char *text, int width,
	int height, uint32_t background, uint32_t foreground, bool bold)
{
	if (width < 1 || height < 1) {
		return NULL;
	}
	cairo_t *cr;
	cairo_surface_t *surface = canvas_create(width, height, background, &cr);
	if (surface == NULL) {
		return NULL;
	}
	if (width > 12) {
		draw_line(cr, text, bold, 6, 0, width - 12, height, foreground);
	}
	cairo_destroy(cr);
	return wrap(parent, surface, width, height);
}

struct wlr_scene_buffer *bh_text_lines_buffer(struct wlr_scene_node *parent,
	const char *const *lines, const bool *highlight, size_t count, int width,
	uint32_t background, uint32_t foreground, uint32_t accent)
{
	int height = (int)count * BH_TEXT_LINE_HEIGHT + 2 * BH_TEXT_LINES_TOP;
	if (count == 0 || width < 20) {
		return NULL;
	}
	cairo_t *cr;
	cairo_surface_t *surface = canvas_create(width, height, background, &cr);
	if (surface == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		int y = BH_TEXT_LINES_TOP + (int)i * BH_TEXT_LINE_HEIGHT;
		if (highlight != NULL && highlight[i]) {
			set_source(cr, accent);
			cairo_rectangle(cr, 0, y, width, BH_TEXT_LINE_HEIGHT);
			cairo_fill(cr);
		}
		draw_line(cr, lines[i], i == 0, 8, y, width - 16, BH_TEXT_LINE_HEIGHT, foreground);
	}
	cairo_destroy(cr);
	return wrap(parent, surface, width, height);
}
