/* bulkheadctl commands served by a tag's proxy: exec, run, shell. */
#ifndef CLI_EXEC_H
#define CLI_EXEC_H

/* argv[0] is the command name ("exec", "run", "shell"); each returns the
 * process exit status. */
int bh_cli_exec(int argc, char *argv[]);
int bh_cli_run(int argc, char *argv[]);
int bh_cli_shell(int argc, char *argv[]);

#endif
