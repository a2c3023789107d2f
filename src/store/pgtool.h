/*
 * Running the PostgreSQL server programs (initdb, pg_ctl) for the private
 * cluster: finding them (Debian keeps them off the PATH), choosing the
 * unprivileged user they run as when scout runs as root, and running one in
 * a child process with its output captured.
 */
#ifndef SCOUT_STORE_PGTOOL_H
#define SCOUT_STORE_PGTOOL_H

#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

/* Who runs the server programs: ourselves (drop == 0) or another user. */
struct pg_user {
	int drop;
	uid_t uid;
	gid_t gid;
	char name[64];
};

/*
 * Ourselves when not root. As root: the owner of an existing data directory
 * when that is not root, else 'postgres', else 'nobody'.
 */
int pg_user_pick(const char *datadir, struct pg_user *u, serr *e) SCOUT_MUST;

/* *ok = 1 when user u can enter and write the directory (checked as that user). */
int pg_user_can_use_dir(const struct pg_user *u, const char *dir, int *ok, serr *e) SCOUT_MUST;

/* Give path to user u (no-op when u does not drop privileges). */
int pg_user_chown(const struct pg_user *u, const char *path, serr *e) SCOUT_MUST;

/*
 * Run argv (argv[0] an absolute path, or a name searched in PATH) as user u
 * in directory cwd (may be NULL), stdin from /dev/null, stdout and stderr
 * captured into out (kept to its cap). *status is the exit status, or 128 +
 * the signal. Returns -1 only when the child could not be run at all.
 * PG* variables and secrets are left out of the child's environment.
 */
int pgtool_run(const char *const *argv, const struct pg_user *u, const char *cwd,
	       struct buf *out, int *status, serr *e) SCOUT_MUST;

/*
 * The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`
 * when it has them, else the highest version under /usr/lib/postgresql.
 */
int pgtool_find_bindir(struct buf *out, serr *e) SCOUT_MUST;

/* The highest <root>/<version>/bin that holds the server programs. */
int pgtool_scan_bindir(const char *root, struct buf *out, serr *e) SCOUT_MUST;

/* 1 when dir holds executable initdb, pg_ctl and postgres. */
int pgtool_bindir_ok(const char *dir);

/* The last `max` bytes of text on one line (newlines become "; "), for messages. */
void pgtool_tail(const char *text, size_t len, size_t max, char *dst, size_t dstsz);

#endif
