/* bulkheadctl commands served by a tag's proxy (exec, run, shell, push,
 * pull) and their connection to the proxy's control socket. */
#ifndef CLI_EXEC_H
#define CLI_EXEC_H

#include <stdbool.h>
#include <stdint.h>

struct wl_event_loop;
struct bh_endpoint;

/* argv[0] is the command name ("exec", "run", "shell"); each returns the
 * process exit status. */
int bh_cli_exec(int argc, char *argv[]);
/* exec of argv in tag's VM, with stdio and the exit status passed through. */
int bh_cli_exec_argv(const char *tag, int argc, char *argv[]);
/* run --disposable [--from TAG] -- COMMAND... (disposable.c); argv[0] is
 * "--disposable". */
int bh_cli_run_disposable(int argc, char *argv[]);
/* open --disposable FILE: pushed into a disposable tag, opened with
 * xdg-open there. */
int bh_cli_open(int argc, char *argv[]);
/* clean --disposables: removes every disposable tag no process owns. */
int bh_cli_clean_disposables(void);
int bh_cli_run(int argc, char *argv[]);
int bh_cli_shell(int argc, char *argv[]);
/* files.c */
int bh_cli_push(int argc, char *argv[]);
int bh_cli_pull(int argc, char *argv[]);

/* One connection to a tag's proxy, speaking the channel protocol as the
 * guest side (protocols/CONTROL.md), on a private event loop. */
struct bh_cli_conn {
	const char *tag;
	struct wl_event_loop *loop;
	struct bh_endpoint *endpoint; /* NULL once the proxy went away */
	bool done;                    /* the command is over: leave the loop */
	int status;                   /* exit status so far, -1 = none yet */
	/* A LAUNCHED answer (run): pid > 0 or the guest's error. */
	void (*launched)(struct bh_cli_conn *conn, int32_t pid, const char *error);
};

/* Connects to the control socket of tag; prints one line saying why not
 * and returns false when the tag is not running. */
bool bh_cli_conn_open(struct bh_cli_conn *conn, const char *tag);
/* Dispatches until conn->done and every queued byte went to the proxy. */
void bh_cli_conn_run(struct bh_cli_conn *conn);
void bh_cli_conn_close(struct bh_cli_conn *conn);

#endif
