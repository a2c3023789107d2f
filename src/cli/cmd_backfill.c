/*
 * `scout backfill JOB (--all | --partitions K1,K2,... | --failed) [--wait]`,
 * `scout backfill cancel|resume|status ...` and `scout backfills`: request,
 * stop, resume and follow backfills. Progress goes to stderr: one redrawn
 * line on a terminal, plain lines every few seconds otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/backfill.h"
#include "orchestrator/test_jobs.h"
#include "store/backfills.h"

#define USAGE                                                                         \
	"usage: scout backfill JOB (--all | --partitions K1,K2,... | --failed) [--wait]\n" \
	"       scout backfill cancel ID\n"                                              \
	"       scout backfill resume ID [--wait]\n"                                     \
	"       scout backfill status [ID] [--wait]\n"                                   \
	"       scout backfills [--limit N]\n"
#define BAR_WIDTH 30
#define TTY_POLL_MS 500
#define PLAIN_EVERY_MS 5000
#define LIST_DEFAULT 20

struct follow {
	int tty;
	int drew;	  /* a progress line is on the terminal */
	int64_t last_ms;  /* when the last plain line was printed */
	char last[256];	  /* the last plain line, to print changes at once */
};

static int64_t done_of(const struct backfill *b)
{
	const struct backfill_progress *g = &b->progress;

	return g->succeeded + g->failed + g->canceled;
}

static void progress_text(const struct backfill *b, char *out, size_t n)
{
	const struct backfill_progress *g = &b->progress;

	snprintf(out, n,
		 "%s %lld/%lld done: %lld succeeded, %lld failed, %lld canceled, %lld running, "
		 "%lld queued%s",
		 b->status, (long long)done_of(b), (long long)b->num_selected,
		 (long long)g->succeeded, (long long)g->failed, (long long)g->canceled,
		 (long long)g->running, (long long)(g->queued + g->unqueued),
		 g->unqueued ? " (some not queued yet)" : "");
}

/* One redrawn line on a terminal; a plain line every few seconds (or on change) otherwise. */
static void on_progress(const struct backfill *b, void *ud)
{
	struct follow *f = ud;
	char text[256], bar[BAR_WIDTH + 1];
	int64_t now = mono_ms();
	int fill;

	progress_text(b, text, sizeof(text));
	if (f->tty) {
		fill = b->num_selected > 0 ? (int)(done_of(b) * BAR_WIDTH / b->num_selected) : 0;
		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		fprintf(stderr, "\r\033[K[%s] %s", bar, text);
		fflush(stderr);
		f->drew = 1;
		return;
	}
	if (strcmp(text, f->last) != 0 && (f->last_ms == 0 || now - f->last_ms >= PLAIN_EVERY_MS)) {
		fprintf(stderr, "backfill %s: %s\n", b->id, text);
		snprintf(f->last, sizeof(f->last), "%s", text);
		f->last_ms = now;
	}
}

static void on_chunk(const char *id, int64_t done, int64_t selected, void *ud)
{
	struct follow *f = ud;

	if (f->tty) {
		fprintf(stderr, "\r\033[Kqueuing backfill %s: %lld/%lld", id, (long long)done,
			(long long)selected);
		fflush(stderr);
		f->drew = 1;
	} else if (mono_ms() - f->last_ms >= PLAIN_EVERY_MS || done == selected) {
		fprintf(stderr, "backfill %s: queued %lld/%lld\n", id, (long long)done,
			(long long)selected);
		f->last_ms = mono_ms();
	}
}

static void follow_init(struct follow *f)
{
	memset(f, 0, sizeof(*f));
	f->tty = isatty(STDERR_FILENO);
}

static void follow_end(struct follow *f)
{
	if (f->drew)
		fputc('\n', stderr);
	f->drew = 0;
}

/* Follow until done; exit status 0 only when every run of the backfill succeeded. */
static int wait_for(struct store *st, const char *id, struct follow *fl)
{
	struct backfill_list l;
	int ok = 0, rc = 1;
	char text[256];
	serr e;

	backfill_list_init(&l);
	fl->last[0] = '\0';
	fl->last_ms = 0;
	if (backfill_wait(st, id, fl->tty ? TTY_POLL_MS : 1000, NULL, on_progress, fl, &ok, &e) <
	    0) {
		follow_end(fl);
		cli_fail(&e);
		goto out;
	}
	follow_end(fl);
	if (backfills_list(st, id, 1, &l, &e) < 0 || l.n != 1) {
		cli_fail(&e);
		goto out;
	}
	progress_text(&l.items[0], text, sizeof(text));
	printf("%s\n", text);
	rc = ok ? 0 : 1;
out:
	backfill_list_free(&l);
	return rc;
}

/* "K1,K2,..." into a malloc'd array of pointers into s (modified in place). */
static int split_keys(char *s, const char ***out, size_t *n)
{
	size_t cap = 1, k = 0;
	const char **keys;

	for (const char *p = s; *p; p++)
		if (*p == ',')
			cap++;
	if (cap > BACKFILL_LIST_MAX || !(keys = calloc(cap, sizeof(*keys))))
		return -1;
	for (char *p = s;;) {
		char *end = strchr(p, ',');

		if (end)
			*end = '\0';
		while (*p == ' ')
			p++;
		for (size_t len = strlen(p); len > 0 && p[len - 1] == ' '; len--)
			p[len - 1] = '\0';
		if (*p)
			keys[k++] = p;
		if (!end)
			break;
		p = end + 1;
	}
	*out = keys;
	*n = k;
	return 0;
}

/* Configuration and store; the test jobs too when SCOUT_TEST_JOBS=1 (see test_jobs.h). */
static int open_store(struct config *cfg, struct store *st)
{
	serr e;

	if (test_jobs_register_from_env(&e) < 0) {
		cli_fail(&e);
		return -1;
	}
	if (cli_config(cfg) < 0)
		return -1;
	if (cli_store(cfg, st) < 0) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

static void close_store(struct config *cfg, struct store *st)
{
	store_close(st);
	config_free(cfg);
}

static int do_launch(const char *job, int argc, char **argv)
{
	struct backfill_request r = { 0 };
	struct backfill_result res;
	struct follow fl;
	struct config cfg;
	struct store st;
	struct buf id;
	const char **keys = NULL;
	char *list = NULL;
	int wait = 0, nsel = 0, rc = 2;
	serr e;

	buf_init(&id, 64);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0) {
			r.selection = BACKFILL_ALL;
			nsel++;
		} else if (strcmp(argv[i], "--failed") == 0) {
			r.selection = BACKFILL_FAILED;
			nsel++;
		} else if (strcmp(argv[i], "--partitions") == 0 && i + 1 < argc && !list) {
			r.selection = BACKFILL_LIST;
			nsel++;
			if (!(list = xstrdup(argv[++i])) || split_keys(list, &keys, &r.nkeys) < 0) {
				fprintf(stderr, "scout: --partitions takes at most %d keys\n",
					BACKFILL_LIST_MAX);
				goto out;
			}
			if (r.nkeys == 0) {
				fprintf(stderr, "scout: --partitions names no partition\n");
				goto out;
			}
		} else if (strcmp(argv[i], "--wait") == 0) {
			wait = 1;
		} else {
			fputs(USAGE, stderr);
			goto out;
		}
	}
	if (nsel != 1) {
		fprintf(stderr, "scout: give exactly one of --all, --partitions K1,K2,... or --failed\n");
		fputs(USAGE, stderr);
		goto out;
	}
	rc = 1;
	if (open_store(&cfg, &st) < 0)
		goto out;
	follow_init(&fl);
	r.job = job;
	r.keys = keys;
	r.chunk = cfg.backfill_chunk;
	r.on_chunk = on_chunk;
	r.ud = &fl;
	if (backfill_launch(&st, &r, &id, &res, &e) < 0) {
		follow_end(&fl);
		if (id.len)
			printf("%s\n", buf_cstr(&id));
		cli_fail(&e);
		close_store(&cfg, &st);
		goto out;
	}
	follow_end(&fl);
	printf("%s\n", buf_cstr(&id));
	fflush(stdout);
	fprintf(stderr,
		"backfill %s of %s: %lld partition(s) selected, %lld run(s) queued, %lld already "
		"pending%s\n",
		buf_cstr(&id), job, (long long)res.selected, (long long)res.queued,
		(long long)res.already_pending,
		res.canceled ? " (canceled while queueing)" : "");
	rc = wait ? wait_for(&st, buf_cstr(&id), &fl) : 0;
	close_store(&cfg, &st);
out:
	free(keys);
	free(list);
	buf_free(&id);
	return rc;
}

static int do_cancel(const char *id)
{
	struct config cfg;
	struct store st;
	int64_t n = 0;
	int rc = 1;
	serr e;

	if (open_store(&cfg, &st) < 0)
		return 1;
	if (backfill_cancel(&st, id, &n, &e) < 0) {
		cli_fail(&e);
	} else {
		printf("backfill %s canceled: %lld queued run(s) canceled; running runs finish\n", id,
		       (long long)n);
		rc = 0;
	}
	close_store(&cfg, &st);
	return rc;
}

static int do_resume(const char *id, int wait)
{
	struct backfill_result res;
	struct follow fl;
	struct config cfg;
	struct store st;
	int rc = 1;
	serr e;

	if (open_store(&cfg, &st) < 0)
		return 1;
	follow_init(&fl);
	if (backfill_resume(&st, id, cfg.backfill_chunk, on_chunk, &fl, &res, &e) < 0) {
		follow_end(&fl);
		cli_fail(&e);
		goto out;
	}
	follow_end(&fl);
	printf("backfill %s resumed: %lld run(s) queued, %lld already pending\n", id,
	       (long long)res.queued, (long long)res.already_pending);
	fflush(stdout);
	rc = wait ? wait_for(&st, id, &fl) : 0;
out:
	close_store(&cfg, &st);
	return rc;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_one(const struct backfill *b)
{
	const struct backfill_progress *g = &b->progress;

	printf("backfill   %s\n", b->id);
	printf("job        %s (%s partitions, selection %s)\n", b->job, b->kind, b->selection);
	printf("status     %s\n", b->status);
	printf("created    %s\n", b->created_at);
	printf("ended      %s\n", or_dash(b->ended_at));
	printf("selected   %lld (%lld run(s) queued by the backfill, %lld already pending)\n",
	       (long long)b->num_selected, (long long)b->num_queued,
	       (long long)b->num_already_pending);
	printf("progress   %lld succeeded, %lld failed, %lld canceled, %lld running, %lld queued,"
	       " %lld not queued yet\n",
	       (long long)g->succeeded, (long long)g->failed, (long long)g->canceled,
	       (long long)g->running, (long long)g->queued, (long long)g->unqueued);
}

static void print_table(const struct backfill_list *l)
{
	printf("%-36s  %-9s  %-28s  %-6s  %-13s  %7s  %6s  %7s  %6s  %8s  %s\n", "BACKFILL",
	       "STATUS", "JOB", "SELECT", "DONE", "OK", "FAILED", "RUNNING", "QUEUED", "CANCELED",
	       "CREATED");
	for (size_t i = 0; i < l->n; i++) {
		const struct backfill *b = &l->items[i];
		const struct backfill_progress *g = &b->progress;
		char done[32];

		snprintf(done, sizeof(done), "%lld/%lld", (long long)done_of(b),
			 (long long)b->num_selected);
		printf("%-36s  %-9s  %-28s  %-6s  %-13s  %7lld  %6lld  %7lld  %6lld  %8lld  %s\n",
		       b->id, b->status, b->job, b->selection, done, (long long)g->succeeded,
		       (long long)g->failed, (long long)g->running,
		       (long long)(g->queued + g->unqueued), (long long)g->canceled, b->created_at);
	}
}

static int do_status(const char *id, int limit, int wait)
{
	struct backfill_list l;
	struct follow fl;
	struct config cfg;
	struct store st;
	int rc = 1;
	serr e;

	if (open_store(&cfg, &st) < 0)
		return 1;
	backfill_list_init(&l);
	if (id && wait) {
		follow_init(&fl);
		rc = wait_for(&st, id, &fl);
		goto out;
	}
	if (backfills_list(&st, id, id ? 1 : limit, &l, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (id && l.n == 0) {
		fprintf(stderr, "scout: no backfill '%s' (see `scout backfills`)\n", id);
		goto out;
	}
	if (id)
		print_one(&l.items[0]);
	else
		print_table(&l);
	rc = 0;
out:
	backfill_list_free(&l);
	close_store(&cfg, &st);
	return rc;
}

int cmd_backfill(int argc, char **argv)
{
	int wait;

	if (argc < 2) {
		fputs(USAGE, stderr);
		return 2;
	}
	wait = argc >= 4 && strcmp(argv[3], "--wait") == 0;
	if (strcmp(argv[1], "cancel") == 0) {
		if (argc != 3)
			goto usage;
		return do_cancel(argv[2]);
	}
	if (strcmp(argv[1], "resume") == 0) {
		if (argc != 3 && !(argc == 4 && wait))
			goto usage;
		return do_resume(argv[2], wait);
	}
	if (strcmp(argv[1], "status") == 0) {
		if (argc == 2)
			return do_status(NULL, LIST_DEFAULT, 0);
		if (argc != 3 && !(argc == 4 && wait))
			goto usage;
		return do_status(argv[2], 1, wait);
	}
	if (argv[1][0] == '-')
		goto usage;
	return do_launch(argv[1], argc - 2, argv + 2);
usage:
	fputs(USAGE, stderr);
	return 2;
}

int cmd_backfills(int argc, char **argv)
{
	int limit = LIST_DEFAULT;

	if (argc == 3 && strcmp(argv[1], "--limit") == 0) {
		if (parse_int(argv[2], 1, 1000, &limit) < 0)
			goto usage;
	} else if (argc != 1) {
		goto usage;
	}
	return do_status(NULL, limit, 0);
usage:
	fputs("usage: scout backfills [--limit N]\n", stderr);
	return 2;
}
