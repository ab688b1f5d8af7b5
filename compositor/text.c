/* Text drawn by the compositor (titles, menu, prompt): pango on a cairo
 * image surface, wrapped as a wlr_buffer for the scene graph. */
#include <cairo.h>
#include <drm_fourcc.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <wlr/types/wlr_buffer.h>

#include "compositor/server.h"

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

void bh_colour_to_float(uint32_t rgb, float out[4])
{
	out[0] = (float)((rgb >> 16) & 0xff) / 255.0f;
	out[1] = (float)((rgb >> 8) & 0xff) / 255.0f;
	out[2] = (float)(rgb & 0xff) / 255.0f;
	out[3] = 1.0f;
}

uint32_t bh_colour_shade(uint32_t rgb, double factor)
{
	uint32_t out = 0;
	for (int shift = 16; shift >= 0; shift -= 8) {
		double c = (double)((rgb >> shift) & 0xff) * factor;
		out |= (uint32_t)(c > 255 ? 255 : c) << shift;
	}
	return out;
}

static void set_source(cairo_t *cr, uint32_t rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
		(rgb & 0xff) / 255.0);
}

static struct wlr_scene_buffer *wrap(struct wlr_scene_node *parent, cairo_surface_t *surface,
	int width, int height)
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
	PangoFontDescription *font = pango_font_description_from_string(
		bold ? "Sans Bold 10" : "Sans 10");
	pango_layout_set_font_description(layout, font);
	pango_font_description_free(font);
	pango_layout_set_width(layout, width * PANGO_SCALE);
	pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
	pango_layout_set_single_paragraph_mode(layout, TRUE);
	/* Plain text: a title with markup characters shows them as they are. */
	pango_layout_set_text(layout, text, -1);
	return layout;
}

struct wlr_scene_buffer *bh_text_buffer(struct wlr_scene_node *parent, const char *text,
	int width, int height, uint32_t background, uint32_t foreground, bool bold)
{
	if (width < 1 || height < 1) {
		return NULL;
	}
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surface);
		return NULL;
	}
	cairo_t *cr = cairo_create(surface);
	set_source(cr, background);
	cairo_paint(cr);
	if (width > 12) {
		PangoLayout *layout = layout_for(cr, text, bold, width - 12);
		int tw, th;
		pango_layout_get_pixel_size(layout, &tw, &th);
		set_source(cr, foreground);
		cairo_move_to(cr, 6, (height - th) / 2.0);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
	}
	cairo_destroy(cr);
	return wrap(parent, surface, width, height);
}

struct wlr_scene_buffer *bh_lines_buffer(struct wlr_scene_node *parent, const char *const *lines,
	const bool *highlight, size_t count, int width, uint32_t background, uint32_t foreground,
	uint32_t accent)
{
	const int line_height = 22;
	int height = (int)count * line_height + 8;
	if (count == 0 || width < 20) {
		return NULL;
	}
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surface);
		return NULL;
	}
	cairo_t *cr = cairo_create(surface);
	set_source(cr, background);
	cairo_paint(cr);
	for (size_t i = 0; i < count; i++) {
		int y = 4 + (int)i * line_height;
		if (highlight != NULL && highlight[i]) {
			set_source(cr, accent);
			cairo_rectangle(cr, 0, y, width, line_height);
			cairo_fill(cr);
		}
		PangoLayout *layout = layout_for(cr, lines[i], i == 0, width - 16);
		int tw, th;
		pango_layout_get_pixel_size(layout, &tw, &th);
		set_source(cr, foreground);
		cairo_move_to(cr, 8, y + (line_height - th) / 2.0);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
	}
	cairo_destroy(cr);
	return wrap(parent, surface, width, height);
}
