/*
 * The private PostgreSQL cluster (see cluster.h). Layout under the home:
 *   pg.lock           flock'd while a process starts or stops the cluster
 *   pg/data           the data directory (initdb into pg/data.init, then renamed)
 *   pg/run            the socket directory (or a short one under /tmp, see below)
 *   pg/socket_dir     records the socket directory in use
 *   pg/server.log     the server's output
 */
#include "store/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "core/util.h"
#include "store/pgtool.h"
#include "store/store.h"

#define SOCKET_FILE_NAME ".s.PGSQL." CLUSTER_PORT
#define SOCKET_FILE "/" SOCKET_FILE_NAME
#define LOCK_WAIT_MS 180000
#define START_TIMEOUT_S "120"
#define TOOL_OUTPUT_MAX (64 * 1024)

struct layout {
	struct buf home; /* absolute */
	struct buf pg;
	struct buf data;
	struct buf data_init;
	struct buf sock;
	struct buf sock_record;
	struct buf log;
	struct buf lock;
	int sock_fallback;
};

static void layout_init(struct layout *l)
{
	buf_init(&l->home, PATH_MAX);
	buf_init(&l->pg, PATH_MAX);
	buf_init(&l->data, PATH_MAX);
	buf_init(&l->data_init, PATH_MAX);
	buf_init(&l->sock, PATH_MAX);
	buf_init(&l->sock_record, PATH_MAX);
	buf_init(&l->log, PATH_MAX);
	buf_init(&l->lock, PATH_MAX);
	l->sock_fallback = 0;
}

static void layout_free(struct layout *l)
{
	buf_free(&l->home);
	buf_free(&l->pg);
	buf_free(&l->data);
	buf_free(&l->data_init);
	buf_free(&l->sock);
	buf_free(&l->sock_record);
	buf_free(&l->log);
	buf_free(&l->lock);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * pg_ctl hands the data directory and log path to a shell inside double
 * quotes, so characters a shell expands there are refused up front.
 */
static int home_chars_ok(const char *p)
{
	for (; *p; p++)
		if (*p == '"' || *p == '\\' || *p == '$' || *p == '`' || *p == '\n' || *p == '\r')
			return 0;
	return 1;
}

/* Absolute home; created when create is set, else computed lexically if missing. */
static int home_resolve(const char *home, int create, struct buf *out, serr *e)
{
	char *real = NULL;
	char cwd[PATH_MAX];
	int rc = -1;

	if (!home || !*home)
		return serr_set(e, "the state directory is not set: set SCOUT_HOME (or 'home' in the "
				   "config file)");
	if (create && mkdir_p(home, 0755) < 0)
		return serr_set(e, "cannot create the state directory '%s': %s", home,
				strerror(errno));
	real = realpath(home, NULL);
	buf_reset(out);
	if (real) {
		if (buf_puts(out, real) < 0)
			goto toolong;
	} else if (errno == ENOENT && !create) {
		if (home[0] != '/') {
			if (!getcwd(cwd, sizeof(cwd)))
				return serr_set(e, "cannot read the current directory: %s",
						strerror(errno));
			if (buf_printf(out, "%s/", strcmp(cwd, "/") == 0 ? "" : cwd) < 0)
				goto toolong;
			while (home[0] == '.' && home[1] == '/')
				home += 2;
		}
		if (buf_puts(out, home) < 0)
			goto toolong;
		while (out->len > 1 && out->data[out->len - 1] == '/')
			out->data[--out->len] = '\0';
	} else {
		serr_set(e, "cannot resolve the state directory '%s': %s", home, strerror(errno));
		goto out;
	}
	if (!home_chars_ok(out->data)) {
		serr_set(e, "state directory '%s' contains a quote, backslash, '$' or backtick, "
			    "which the PostgreSQL tools cannot take: choose another SCOUT_HOME",
			 out->data);
		goto out;
	}
	rc = 0;
	goto out;
toolong:
	serr_set(e, "state directory path '%s' is too long", home);
out:
	free(real);
	return rc;
}

int cluster_socket_dir(const char *home, struct buf *out, int *fallback, serr *e)
{
	char hash[65];
	size_t need;

	if (!home || home[0] != '/')
		return serr_set(e, "state directory '%s' is not an absolute path", home ? home : "");
	buf_reset(out);
	if (fallback)
		*fallback = 0;
	if (size_add(strlen(home), strlen("/pg/run" SOCKET_FILE), &need) == 0 &&
	    need <= CLUSTER_SOCKET_PATH_MAX) {
		if (buf_printf(out, "%s/pg/run", home) < 0)
			return serr_set(e, "state directory path '%s' is too long", home);
		return 0;
	}
	/* Unix socket paths are limited to 107 bytes: use a short, stable name. */
	sha256_hex(home, strlen(home), hash);
	hash[16] = '\0';
	if (fallback)
		*fallback = 1;
	if (buf_printf(out, "/tmp/scout-pg-%s", hash) < 0)
		return serr_set(e, "out of memory building the socket directory of '%s'", home);
	return 0;
}

static int layout_make(struct layout *l, const char *home, int create, serr *e)
{
	const char *h;

	if (home_resolve(home, create, &l->home, e) < 0)
		return -1;
	h = l->home.data;
	if (buf_printf(&l->pg, "%s/pg", h) < 0 || buf_printf(&l->data, "%s/pg/data", h) < 0 ||
	    buf_printf(&l->data_init, "%s/pg/data.init", h) < 0 ||
	    buf_printf(&l->sock_record, "%s/pg/socket_dir", h) < 0 ||
	    buf_printf(&l->log, "%s/pg/server.log", h) < 0 ||
	    buf_printf(&l->lock, "%s/pg.lock", h) < 0)
		return serr_set(e, "state directory path '%s' is too long", h);
	return cluster_socket_dir(h, &l->sock, &l->sock_fallback, e);
}

static int conninfo_build(const struct layout *l, const char *dbname, struct buf *out, serr *e)
{
	buf_reset(out);
	if (buf_puts(out, "postgresql:///") < 0 || store_uri_encode(out, dbname) < 0 ||
	    buf_puts(out, "?host=") < 0 || store_uri_encode(out, l->sock.data) < 0 ||
	    buf_puts(out, "&port=" CLUSTER_PORT "&user=" CLUSTER_USER) < 0)
		return serr_set(e, "connection string for '%s' is too long", l->home.data);
	return 0;
}

/* PQPING_OK or PQPING_REJECT (starting or stopping) count as running. */
static PGPing server_ping(const struct layout *l, serr *e, int *failed)
{
	struct buf ci;
	PGPing r = PQPING_NO_ATTEMPT;

	*failed = 0;
	buf_init(&ci, 0);
	if (conninfo_build(l, "postgres", &ci, e) < 0) {
		*failed = 1;
		goto out;
	}
	r = PQping(ci.data);
	if (r == PQPING_NO_ATTEMPT) {
		serr_set(e, "cannot check the private cluster at '%s': bad connection parameters",
			 l->sock.data);
		*failed = 1;
	}
out:
	buf_free(&ci);
	return r;
}

static int lock_take(const struct layout *l, int *fd_out, serr *e)
{
	int64_t deadline = mono_ms() + LOCK_WAIT_MS;
	int fd;

	*fd_out = -1;
	fd = open(l->lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return serr_set(e, "cannot open the cluster lock '%s': %s", l->lock.data,
				strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			serr_set(e, "cannot lock '%s': %s", l->lock.data, strerror(errno));
			close(fd);
			return -1;
		}
		if (mono_ms() > deadline) {
			serr_set(e, "another scout process has held the cluster lock '%s' for over "
				    "%d s: check for a stuck 'scout db' process",
				 l->lock.data, LOCK_WAIT_MS / 1000);
			close(fd);
			return -1;
		}
		sleep_ms(50);
	}
	*fd_out = fd;
	return 0;
}

static void lock_release(int fd)
{
	if (fd < 0)
		return;
	(void)flock(fd, LOCK_UN);
	close(fd);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int file_write(const char *path, const char *text, const struct pg_user *u, serr *e)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return serr_set(e, "path '%s' is too long", path);
	f = fopen(tmp, "we");
	if (!f)
		return serr_set(e, "cannot write '%s': %s", tmp, strerror(errno));
	if (fputs(text, f) < 0) {
		serr_set(e, "cannot write '%s': %s", tmp, strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		serr_set(e, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (u && pg_user_chown(u, tmp, e) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		serr_set(e, "cannot replace '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* A directory only the server user may use; an existing one must be ours. */
static int private_dir(const char *dir, const struct pg_user *u, serr *e)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return serr_set(e, "cannot create '%s': %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return serr_set(e, "cannot inspect '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return serr_set(e, "'%s' exists and is not a directory: remove it", dir);
	if (st.st_uid != u->uid && st.st_uid != geteuid())
		return serr_set(e, "'%s' belongs to another user (uid %u): remove it or choose "
				   "another SCOUT_HOME",
				dir, (unsigned)st.st_uid);
	if (pg_user_chown(u, dir, e) < 0)
		return -1;
	if (chmod(dir, 0700) < 0)
		return serr_set(e, "cannot restrict '%s': %s", dir, strerror(errno));
	return 0;
}

static int dirs_prepare(const struct layout *l, const struct pg_user *u, serr *e)
{
	int ok = 0;
	struct buf rec;
	int rc = -1;

	buf_init(&rec, PATH_MAX + 2);
	if (private_dir(l->pg.data, u, e) < 0)
		goto out;
	if (pg_user_can_use_dir(u, l->pg.data, &ok, e) < 0)
		goto out;
	if (!ok) {
		serr_set(e, "the server user '%s' cannot reach '%s' (PostgreSQL refuses to run as "
			    "root, so scout runs it as '%s'): make every parent directory of '%s' "
			    "traversable (chmod o+x) or set SCOUT_HOME to a directory it can reach, "
			    "such as one under /var/tmp",
			 u->name, l->pg.data, u->name, l->home.data);
		goto out;
	}
	if (private_dir(l->sock.data, u, e) < 0)
		goto out;
	if (buf_printf(&rec, "%s\n", l->sock.data) < 0) {
		serr_set(e, "socket directory path too long");
		goto out;
	}
	if (file_write(l->sock_record.data, rec.data, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&rec);
	return rc;
}

static int tool_fail(const char *what, const struct buf *out, int status, serr *e)
{
	char tail[640];

	pgtool_tail(buf_cstr(out), out->len, 600, tail, sizeof(tail));
	return serr_set(e, "%s failed (exit status %d): %s", what, status, tail);
}

static int initdb_run(const struct layout *l, const char *bindir, const struct pg_user *u,
		      int fast, serr *e)
{
	char prog[PATH_MAX];
	const char *argv[12];
	struct buf out;
	int n = 0, status, rc = -1;
	static const char include_line[] = "\n# scout's settings, rewritten at every start\n"
					   "include_if_exists = 'scout.conf'\n";
	char conf[PATH_MAX];
	FILE *f;

	buf_init(&out, TOOL_OUTPUT_MAX);
	if ((size_t)snprintf(prog, sizeof(prog), "%s/initdb", bindir) >= sizeof(prog)) {
		serr_set(e, "PostgreSQL program path too long");
		goto out;
	}
	/* A stale half-made directory from an interrupted initdb: we hold the lock. */
	if (rm_tree(l->data_init.data) < 0) {
		serr_set(e, "cannot remove the stale '%s': %s", l->data_init.data, strerror(errno));
		goto out;
	}
	argv[n++] = prog;
	argv[n++] = "-D";
	argv[n++] = l->data_init.data;
	argv[n++] = "-U";
	argv[n++] = CLUSTER_USER;
	argv[n++] = "--auth=trust";
	argv[n++] = "--encoding=UTF8";
	argv[n++] = "--locale=C";
	if (fast)
		argv[n++] = "--no-sync";
	argv[n] = NULL;
	log_info("creating the private PostgreSQL cluster", "data=%s user=%s", l->data.data,
		 u->name);
	if (pgtool_run(argv, u, l->pg.data, &out, &status, e) < 0)
		goto out;
	if (status != 0) {
		tool_fail("initdb", &out, status, e);
		goto out;
	}
	if ((size_t)snprintf(conf, sizeof(conf), "%s/postgresql.conf", l->data_init.data) >=
	    sizeof(conf)) {
		serr_set(e, "data directory path too long");
		goto out;
	}
	f = fopen(conf, "ae");
	if (!f || fputs(include_line, f) < 0 || fclose(f) != 0) {
		serr_set(e, "cannot extend '%s': %s", conf, strerror(errno));
		goto out;
	}
	if (rename(l->data_init.data, l->data.data) < 0) {
		serr_set(e, "cannot move '%s' into place: %s", l->data_init.data, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&out);
	return rc;
}

/* Single quotes doubled, for a postgresql.conf string value. */
static int conf_quote(struct buf *b, const char *s)
{
	if (buf_putc(b, '\'') < 0)
		return -1;
	for (; *s; s++)
		if ((*s == '\'' && buf_putc(b, '\'') < 0) || buf_putc(b, *s) < 0)
			return -1;
	return buf_puts(b, "'\n");
}

static int settings_write(const struct layout *l, const struct pg_user *u, int fast, serr *e)
{
	struct buf conf, path;
	int rc = -1;

	buf_init(&conf, 0);
	buf_init(&path, PATH_MAX);
	if (buf_puts(&conf, "# written by scout at every start of the private cluster\n"
			    "listen_addresses = ''\n"
			    "port = " CLUSTER_PORT "\n"
			    "unix_socket_directories = ") < 0 ||
	    conf_quote(&conf, l->sock.data) < 0 ||
	    buf_puts(&conf, "max_connections = 200\n"
			    "shared_buffers = 128MB\n"
			    "logging_collector = off\n") < 0 ||
	    buf_puts(&conf, fast ? "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
				 : "fsync = on\n") < 0 ||
	    buf_printf(&path, "%s/scout.conf", l->data.data) < 0) {
		serr_set(e, "cluster settings too long");
		goto out;
	}
	if (file_write(path.data, conf.data, u, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&conf);
	buf_free(&path);
	return rc;
}

static void log_tail(const char *path, char *dst, size_t dstsz)
{
	char chunk[1024];
	FILE *f;
	size_t n = 0;
	long size;

	dst[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		long from = size > (long)sizeof(chunk) ? size - (long)sizeof(chunk) : 0;
		if (fseek(f, from, SEEK_SET) == 0)
			n = fread(chunk, 1, sizeof(chunk), f);
	}
	fclose(f);
	pgtool_tail(chunk, n, 500, dst, dstsz);
}

static int pgctl_run(const struct layout *l, const char *bindir, const struct pg_user *u,
		     const char *action, serr *e)
{
	char prog[PATH_MAX], tail[600];
	const char *argv[16];
	struct buf out;
	int n = 0, status, rc = -1;

	buf_init(&out, TOOL_OUTPUT_MAX);
	if ((size_t)snprintf(prog, sizeof(prog), "%s/pg_ctl", bindir) >= sizeof(prog)) {
		serr_set(e, "PostgreSQL program path too long");
		goto out;
	}
	argv[n++] = prog;
	argv[n++] = action;
	argv[n++] = "-D";
	argv[n++] = l->data.data;
	argv[n++] = "-w";
	argv[n++] = "-t";
	argv[n++] = START_TIMEOUT_S;
	argv[n++] = "-s";
	if (strcmp(action, "start") == 0) {
		argv[n++] = "-l";
		argv[n++] = l->log.data;
	} else {
		argv[n++] = "-m";
		argv[n++] = "fast";
	}
	argv[n] = NULL;
	if (pgtool_run(argv, u, l->pg.data, &out, &status, e) < 0)
		goto out;
	if (status != 0) {
		tool_fail(strcmp(action, "start") == 0 ? "starting the private PostgreSQL cluster"
						       : "stopping the private PostgreSQL cluster",
			  &out, status, e);
		log_tail(l->log.data, tail, sizeof(tail));
		if (tail[0] && e) {
			char first[SERR_MAX];

			memcpy(first, e->msg, sizeof(first));
			serr_set(e, "%s; server log '%s' ends with: %s", first, l->log.data, tail);
		}
		goto out;
	}
	rc = 0;
out:
	buf_free(&out);
	return rc;
}

static int database_ensure(const struct layout *l, serr *e)
{
	struct buf ci;
	PGconn *c = NULL;
	PGresult *r = NULL;
	const char *params[1] = { CLUSTER_DBNAME };
	int rc = -1;

	buf_init(&ci, 0);
	if (conninfo_build(l, "postgres", &ci, e) < 0)
		goto out;
	c = PQconnectdb(ci.data);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		serr_set(e, "cannot connect to the private cluster at '%s': %s", l->sock.data,
			 c ? PQerrorMessage(c) : "out of memory");
		goto out;
	}
	r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params,
			 NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		serr_set(e, "cannot look up database '%s': %s", CLUSTER_DBNAME,
			 PQresultErrorMessage(r));
		goto out;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		r = PQexec(c, "CREATE DATABASE " CLUSTER_DBNAME);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			serr_set(e, "cannot create database '%s': %s", CLUSTER_DBNAME,
				 PQresultErrorMessage(r));
			goto out;
		}
		log_info("created the database", "db=%s", CLUSTER_DBNAME);
	}
	rc = 0;
out:
	PQclear(r);
	PQfinish(c);
	buf_free(&ci);
	/* libpq messages end in a newline */
	if (rc < 0 && e) {
		size_t n = strlen(e->msg);
		while (n > 0 && (e->msg[n - 1] == '\n' || e->msg[n - 1] == ' '))
			e->msg[--n] = '\0';
	}
	return rc;
}

static int fast_mode(void)
{
	const char *v = getenv("SCOUT_PG_FAST");
	int on = 0;

	return v && parse_bool(v, &on) == 0 && on;
}

/* Wait for a server that is starting or stopping to settle. */
static PGPing ping_settled(const struct layout *l, int *failed, serr *e)
{
	int64_t deadline = mono_ms() + 60000;
	PGPing r;

	for (;;) {
		r = server_ping(l, e, failed);
		if (*failed || r != PQPING_REJECT || mono_ms() > deadline)
			return r;
		sleep_ms(100);
	}
}

/* A killed server whose parent never reaped it still answers kill(pid, 0). */
static int pid_is_zombie(pid_t pid)
{
	char path[64], buf[256];
	const char *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* The pid on the first line of a lock file; 0 when missing or unreadable. */
static pid_t lockfile_pid(const char *path)
{
	char line[32] = "";
	int64_t pid = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		line[strcspn(line, "\n")] = '\0';
	fclose(f);
	return parse_i64(line, 1, INT32_MAX, &pid) < 0 ? 0 : (pid_t)pid;
}

/* 0 only when postmaster.pid names a process that no longer runs. */
static int pidfile_alive(const char *path)
{
	pid_t pid = lockfile_pid(path);

	if (pid == 0)
		return 1;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	return !pid_is_zombie(pid);
}

/*
 * A server killed a moment ago stops answering before its process is gone:
 * starting then fails on its lock file. Called when the server does not
 * answer; waits up to 5 s for the postmaster.pid process to end (or become a
 * zombie). A process still there after that is left to pg_ctl's own checks.
 */
static void dying_server_wait(const char *data_dir)
{
	char path[PATH_MAX];
	int64_t deadline = mono_ms() + 5000;
	pid_t pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/postmaster.pid", data_dir) >= sizeof(path) ||
	    (pid = lockfile_pid(path)) == 0)
		return;
	/* done when the process is gone or a zombie, or the file was removed
	 * (a clean exit) or now names another server */
	while (lockfile_pid(path) == pid && !(kill(pid, 0) < 0 && errno == ESRCH) &&
	       !pid_is_zombie(pid)) {
		if (mono_ms() >= deadline) {
			log_warn("a process still holds the cluster's lock file", "pid=%ld file=%s",
				 (long)pid, path);
			return;
		}
		sleep_ms(50);
	}
}

/*
 * postmaster.pid and the socket's lock file of a server that was killed and
 * never reaped (containers without an init) block every later start: set
 * them aside. Only a zombie's files qualify; a live process is left to
 * PostgreSQL's own checks.
 */
static int stale_lock_clear(const char *dir, const char *name, serr *e)
{
	char path[PATH_MAX], aside[PATH_MAX + 8];
	pid_t pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return serr_set(e, "path of '%s' too long", name);
	if ((pid = lockfile_pid(path)) == 0 || !pid_is_zombie(pid))
		return 0;
	snprintf(aside, sizeof(aside), "%s.stale", path);
	if (rename(path, aside) < 0)
		return serr_set(e, "cannot set aside the stale '%s': %s", path, strerror(errno));
	log_warn("set aside the lock file of a killed server", "pid=%ld file=%s", (long)pid,
		 aside);
	return 0;
}

static int start_locked(const struct layout *l, serr *e)
{
	struct buf bindir, pgver;
	struct pg_user u;
	struct stat st;
	int failed = 0, fast = fast_mode(), rc = -1;
	PGPing ping;

	buf_init(&bindir, PATH_MAX);
	buf_init(&pgver, PATH_MAX);
	ping = ping_settled(l, &failed, e);
	if (failed)
		goto out;
	if (ping == PQPING_OK)
		goto ready;
	if (ping == PQPING_REJECT) {
		serr_set(e, "the private cluster at '%s' keeps rejecting connections: see '%s'",
			 l->sock.data, l->log.data);
		goto out;
	}
	if (pgtool_find_bindir(&bindir, e) < 0)
		goto out;
	if (pg_user_pick(l->data.data, &u, e) < 0)
		goto out;
	if (dirs_prepare(l, &u, e) < 0)
		goto out;
	if (buf_printf(&pgver, "%s/PG_VERSION", l->data.data) < 0) {
		serr_set(e, "data directory path too long");
		goto out;
	}
	if (stat(pgver.data, &st) < 0) {
		if (errno != ENOENT) {
			serr_set(e, "cannot inspect '%s': %s", pgver.data, strerror(errno));
			goto out;
		}
		if (stat(l->data.data, &st) == 0) {
			serr_set(e, "'%s' exists but is not a PostgreSQL data directory: move it "
				    "away so scout can create the cluster there",
				 l->data.data);
			goto out;
		}
		if (initdb_run(l, bindir.data, &u, fast, e) < 0)
			goto out;
	}
	dying_server_wait(l->data.data);
	if (settings_write(l, &u, fast, e) < 0 ||
	    stale_lock_clear(l->data.data, "postmaster.pid", e) < 0 ||
	    stale_lock_clear(l->sock.data, SOCKET_FILE_NAME ".lock", e) < 0)
		goto out;
	log_info("starting the private PostgreSQL cluster", "data=%s socket=%s user=%s fast=%d",
		 l->data.data, l->sock.data, u.name, fast);
	if (pgctl_run(l, bindir.data, &u, "start", e) < 0)
		goto out;
ready:
	if (database_ensure(l, e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&bindir);
	buf_free(&pgver);
	return rc;
}

int cluster_start(const char *home, struct buf *conninfo, serr *e)
{
	struct layout l;
	int lockfd = -1, rc = -1;

	layout_init(&l);
	if (layout_make(&l, home, 1, e) < 0)
		goto out;
	if (lock_take(&l, &lockfd, e) < 0)
		goto out;
	if (start_locked(&l, e) < 0)
		goto out;
	if (conninfo && conninfo_build(&l, CLUSTER_DBNAME, conninfo, e) < 0)
		goto out;
	rc = 0;
out:
	lock_release(lockfd);
	layout_free(&l);
	return rc;
}

int cluster_stop(const char *home, serr *e)
{
	struct layout l;
	struct buf bindir, pidfile;
	struct pg_user u;
	struct stat st;
	int lockfd = -1, rc = -1;

	layout_init(&l);
	buf_init(&bindir, PATH_MAX);
	buf_init(&pidfile, PATH_MAX);
	if (layout_make(&l, home, 0, e) < 0)
		goto out;
	if (stat(l.data.data, &st) < 0) {
		rc = 0; /* no cluster here, nothing runs */
		goto out;
	}
	if (lock_take(&l, &lockfd, e) < 0)
		goto out;
	if (buf_printf(&pidfile, "%s/postmaster.pid", l.data.data) < 0) {
		serr_set(e, "data directory path too long");
		goto out;
	}
	if (stat(pidfile.data, &st) < 0) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		serr_set(e, "cannot inspect '%s': %s", pidfile.data, strerror(errno));
		goto out;
	}
	if (!pidfile_alive(pidfile.data)) {
		/* left by a crash: the server is not running, the next start clears it */
		log_info("the private PostgreSQL cluster is not running", "pidfile=%s", pidfile.data);
		rc = 0;
		goto out;
	}
	if (pgtool_find_bindir(&bindir, e) < 0 || pg_user_pick(l.data.data, &u, e) < 0)
		goto out;
	log_info("stopping the private PostgreSQL cluster", "data=%s", l.data.data);
	if (pgctl_run(&l, bindir.data, &u, "stop", e) < 0)
		goto out;
	if (l.sock_fallback)
		(void)rmdir(l.sock.data);
	rc = 0;
out:
	lock_release(lockfd);
	buf_free(&bindir);
	buf_free(&pidfile);
	layout_free(&l);
	return rc;
}

int cluster_status(const char *home, int *running, struct buf *conninfo, serr *e)
{
	struct layout l;
	int failed = 0, rc = -1;
	PGPing r;

	*running = 0;
	layout_init(&l);
	if (layout_make(&l, home, 0, e) < 0)
		goto out;
	r = server_ping(&l, e, &failed);
	if (failed)
		goto out;
	*running = r == PQPING_OK || r == PQPING_REJECT;
	if (conninfo && conninfo_build(&l, CLUSTER_DBNAME, conninfo, e) < 0)
		goto out;
	rc = 0;
out:
	layout_free(&l);
	return rc;
}

int cluster_conninfo(const char *home, struct buf *conninfo, serr *e)
{
	struct layout l;
	int rc = -1;

	layout_init(&l);
	if (layout_make(&l, home, 0, e) < 0)
		goto out;
	if (conninfo_build(&l, CLUSTER_DBNAME, conninfo, e) < 0)
		goto out;
	rc = 0;
out:
	layout_free(&l);
	return rc;
}
