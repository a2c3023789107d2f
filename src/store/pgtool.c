/* Finding and running the PostgreSQL server programs (see pgtool.h). */
#include "store/pgtool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

#define PG_LIB_ROOT "/usr/lib/postgresql"

extern char **environ;

static void user_fill(struct pg_user *u, const struct passwd *pw)
{
	u->drop = 1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
}

int pg_user_pick(const char *datadir, struct pg_user *u, serr *e)
{
	struct stat st;
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	u->uid = geteuid();
	u->gid = getegid();
	if (u->uid != 0) {
		pw = getpwuid(u->uid);
		snprintf(u->name, sizeof(u->name), "%s", pw ? pw->pw_name : "(current user)");
		return 0;
	}
	/* A cluster made by an ordinary user keeps running as that user. */
	if (datadir && stat(datadir, &st) == 0 && st.st_uid != 0) {
		pw = getpwuid(st.st_uid);
		if (pw) {
			user_fill(u, pw);
			return 0;
		}
		u->drop = 1;
		u->uid = st.st_uid;
		u->gid = st.st_gid;
		snprintf(u->name, sizeof(u->name), "uid %u", (unsigned)st.st_uid);
		return 0;
	}
	pw = getpwnam("postgres");
	if (!pw)
		pw = getpwnam("nobody");
	if (!pw || pw->pw_uid == 0)
		return serr_set(e, "PostgreSQL refuses to run as root and there is no 'postgres' or "
				   "'nobody' user to run it as: create one (useradd --system postgres) "
				   "or run scout as an ordinary user");
	user_fill(u, pw);
	return 0;
}

/* Only async-signal-safe calls: the parent may have threads. */
static int child_drop(const struct pg_user *u)
{
	if (!u || !u->drop)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return -1;
	return 0;
}

int pg_user_can_use_dir(const struct pg_user *u, const char *dir, int *ok, serr *e)
{
	pid_t pid;
	int st = 0;

	*ok = 0;
	if (!u->drop) {
		*ok = access(dir, X_OK | W_OK) == 0;
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return serr_set(e, "cannot fork to check access to '%s': %s", dir, strerror(errno));
	if (pid == 0) {
		if (child_drop(u) < 0)
			_exit(2);
		_exit(access(dir, X_OK | W_OK) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return serr_set(e, "cannot wait for the access check of '%s': %s", dir,
					strerror(errno));
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
		return serr_set(e, "cannot switch to user '%s' to check access to '%s'", u->name,
				dir);
	*ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return 0;
}

int pg_user_chown(const struct pg_user *u, const char *path, serr *e)
{
	if (!u->drop)
		return 0;
	if (lchown(path, u->uid, u->gid) < 0)
		return serr_set(e, "cannot give '%s' to user '%s': %s", path, u->name,
				strerror(errno));
	return 0;
}

/* Variables a child must not see: libpq/server defaults and secrets. */
static int env_hidden(const char *kv)
{
	static const char *const hidden[] = { "DATABASE_URL=", "AIRTABLE_API_KEY=",
					      "OPENROUTER_API_KEY=", "NOTION_API_KEY=" };

	if (strncmp(kv, "PG", 2) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (str_starts_with(kv, hidden[i]))
			return 1;
	return 0;
}

static char **env_build(serr *e)
{
	size_t n = 0, bytes, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	if (size_add(n, 1, &bytes) < 0 || size_mul(bytes, sizeof(char *), &bytes) < 0) {
		serr_set(e, "environment too large to pass to a child process");
		return NULL;
	}
	env = malloc(bytes);
	if (!env) {
		serr_set(e, "out of memory building a child environment");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!env_hidden(environ[i]))
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

static void child_fail(const char *what)
{
	ssize_t w;

	w = write(2, what, strlen(what));
	(void)w;
	_exit(127);
}

static void close_from(int lowfd)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < (int)max; fd++)
		close(fd);
}

int pgtool_run(const char *const *argv, const struct pg_user *u, const char *cwd,
	       struct buf *out, int *status, serr *e)
{
	int pfd[2] = { -1, -1 };
	char **env = NULL;
	char chunk[4096];
	pid_t pid;
	int st = 0, rc = -1;

	*status = -1;
	env = env_build(e);
	if (!env)
		goto out;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		serr_set(e, "cannot create a pipe to run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		serr_set(e, "cannot fork to run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int nullfd = open("/dev/null", O_RDONLY);

		if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			child_fail("cannot set up the standard streams\n");
		close_from(3);
		if (cwd && chdir(cwd) < 0)
			child_fail("cannot enter the working directory\n");
		if (child_drop(u) < 0)
			child_fail("cannot switch to the server user\n");
		if (strchr(argv[0], '/'))
			execve(argv[0], (char *const *)argv, env);
		else
			execvpe(argv[0], (char *const *)argv, env);
		child_fail("cannot execute the program\n");
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		ssize_t n = read(pfd[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Past the cap the rest is dropped; the head says what went wrong. */
		if (out && !out->overflow && buf_append(out, chunk, (size_t)n) < 0)
			out->overflow = 1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			serr_set(e, "cannot wait for '%s': %s", argv[0], strerror(errno));
			goto out;
		}
	}
	if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(env);
	return rc;
}

static int exec_ok(const char *dir, const char *prog)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, prog) >= sizeof(path))
		return 0;
	return access(path, X_OK) == 0;
}

int pgtool_bindir_ok(const char *dir)
{
	return exec_ok(dir, "initdb") && exec_ok(dir, "pg_ctl") && exec_ok(dir, "postgres");
}

/* "15" -> 15.0, "9.6" -> 9.6; -1 for names that are not versions. */
static int version_parse(const char *name, int *major, int *minor)
{
	char head[16];
	const char *dot = strchr(name, '.');
	size_t hl = dot ? (size_t)(dot - name) : strlen(name);

	*minor = 0;
	if (hl == 0 || hl >= sizeof(head))
		return -1;
	memcpy(head, name, hl);
	head[hl] = '\0';
	if (parse_int(head, 0, 100000, major) < 0)
		return -1;
	if (dot && parse_int(dot + 1, 0, 100000, minor) < 0)
		return -1;
	return 0;
}

int pgtool_scan_bindir(const char *root, struct buf *out, serr *e)
{
	DIR *d;
	struct dirent *de;
	int best_major = -1, best_minor = -1, rc = -1;
	char best[4096] = "";
	char cand[4096];

	d = opendir(root);
	if (!d)
		return serr_set(e, "cannot read '%s': %s", root, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		int major, minor;

		if (version_parse(de->d_name, &major, &minor) < 0)
			continue;
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s/bin", root, de->d_name) >=
		    sizeof(cand))
			continue;
		if (!pgtool_bindir_ok(cand))
			continue;
		if (major > best_major || (major == best_major && minor > best_minor)) {
			best_major = major;
			best_minor = minor;
			memcpy(best, cand, strlen(cand) + 1);
		}
	}
	closedir(d);
	if (!best[0]) {
		serr_set(e, "no PostgreSQL server programs (initdb, pg_ctl, postgres) under '%s'",
			 root);
		goto out;
	}
	buf_reset(out);
	if (buf_puts(out, best) < 0) {
		serr_set(e, "PostgreSQL program path '%s' is too long", best);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int pgtool_find_bindir(struct buf *out, serr *e)
{
	static const char *const argv[] = { "pg_config", "--bindir", NULL };
	struct buf got;
	serr ignore;
	int status, rc = -1;

	buf_init(&got, 8192);
	/* pg_config may be missing or belong to a client-only install: both are fine. */
	if (pgtool_run(argv, NULL, NULL, &got, &status, &ignore) == 0 && status == 0) {
		while (got.len > 0 && (got.data[got.len - 1] == '\n' || got.data[got.len - 1] == '\r'))
			got.data[--got.len] = '\0';
		if (got.len > 0 && got.data[0] == '/' && pgtool_bindir_ok(got.data)) {
			buf_reset(out);
			if (buf_puts(out, got.data) < 0) {
				serr_set(e, "PostgreSQL program path is too long");
				goto out;
			}
			rc = 0;
			goto out;
		}
	}
	if (pgtool_scan_bindir(PG_LIB_ROOT, out, e) < 0) {
		serr_set(e, "cannot find the PostgreSQL server programs (initdb, pg_ctl, postgres) "
			    "via pg_config or under '%s': install the 'postgresql' package "
			    "(scripts/deps.sh does) or put its pg_config on the PATH",
			 PG_LIB_ROOT);
		goto out;
	}
	rc = 0;
out:
	buf_free(&got);
	return rc;
}

void pgtool_tail(const char *text, size_t len, size_t max, char *dst, size_t dstsz)
{
	size_t start = len > max ? len - max : 0, k = 0;

	if (dstsz == 0)
		return;
	/* trim trailing whitespace */
	while (len > start && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
		len--;
	/* start at a line boundary when cut */
	if (start > 0) {
		const char *nl = memchr(text + start, '\n', len - start);
		if (nl)
			start = (size_t)(nl - text) + 1;
	}
	for (size_t i = start; i < len && k + 3 < dstsz; i++) {
		if (text[i] == '\n') {
			dst[k++] = ';';
			dst[k++] = ' ';
		} else if (text[i] != '\r') {
			dst[k++] = text[i];
		}
	}
	dst[k] = '\0';
}
