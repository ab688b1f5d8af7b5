/* Pipes of the Wayland relay bridged as BH_STREAM_PIPE streams
 * (BH_RELAY_FD_PIPE): clipboard and drag-and-drop transfers. The side that
 * holds the real fd (the write end an app gave it) opens the stream and
 * writes what arrives into the fd (sink); the other side makes a pipe,
 * hands its write end on and sends what it reads (source). The stream's
 * OPEN and the FD_PIPE frame may arrive in either order. */
#ifndef COMMON_RELAY_PIPES_H
#define COMMON_RELAY_PIPES_H

#include <stdbool.h>
#include <stdint.h>

struct wl_event_loop;
struct bh_endpoint;
struct bh_stream;
struct bh_relay_pipes;

struct bh_relay_pipes *bh_relay_pipes_create(struct wl_event_loop *loop);
void bh_relay_pipes_destroy(struct bh_relay_pipes *pipes);
/* Sink: takes fd; opens the stream and returns its id. */
bool bh_relay_pipe_sink_open(
	struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, int fd, uint32_t *stream_id);
/* Source, FD_PIPE(id) arrived: the write end to hand on, -1 if refused. */
int bh_relay_pipe_claim(struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, uint32_t id);
/* Source, the peer opened a pipe stream: false to refuse it. */
bool bh_relay_pipe_accept(struct bh_relay_pipes *pipes, struct bh_stream *stream);

#endif
