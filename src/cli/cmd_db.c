/*
 * `scout db start|stop|status|url` (the private PostgreSQL cluster under the
 * home) and `scout migrate` (apply pending migrations to the store).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "store/cluster.h"
#include "store/migrate.h"
#include "store/store.h"

#define STATUS_STOPPED 3 /* as pg_ctl status */

static int fail(const serr *e)
{
	fprintf(stderr, "scout: %s\n", e->msg);
	return 1;
}

static int load_config(struct config *cfg, serr *e)
{
	enum log_level lvl;

	if (config_load(cfg, e) < 0)
		return -1;
	if (cfg->log_level && log_level_parse(cfg->log_level, &lvl) == 0)
		log_set_level(lvl);
	return 0;
}

static void db_usage(FILE *out)
{
	fputs("usage: scout db start|stop|status|url\n"
	      "  start   create (first time) and start the private cluster; prints its URL\n"
	      "  stop    stop the private cluster\n"
	      "  status  'running' and the URL (exit 0), or 'stopped' (exit 3)\n"
	      "  url     print the libpq URL of the private cluster's database\n",
	      out);
}

/* The private cluster is not in use when DATABASE_URL points elsewhere. */
static int refuse_external(const struct config *cfg, const char *sub, serr *e)
{
	if (cfg->database_url && cfg->database_url[0])
		return serr_set(e, "DATABASE_URL is set, so scout uses that server and runs no "
				   "private cluster: unset DATABASE_URL to use 'scout db %s'",
				sub);
	return 0;
}

int cmd_db(int argc, char **argv)
{
	struct config cfg;
	struct buf ci;
	serr e;
	int running = 0, have_cfg = 0, rc = 1;
	const char *sub = argc > 1 ? argv[1] : NULL;

	buf_init(&ci, 0);
	if (!sub || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		db_usage(sub ? stdout : stderr);
		rc = sub ? 0 : 2;
		goto out;
	}
	if (argc > 2) {
		db_usage(stderr);
		rc = 2;
		goto out;
	}
	if (load_config(&cfg, &e) < 0) {
		rc = fail(&e);
		goto out;
	}
	have_cfg = 1;
	if (strcmp(sub, "start") == 0) {
		if (refuse_external(&cfg, sub, &e) < 0 || cluster_start(cfg.home, &ci, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		printf("%s\n", ci.data);
	} else if (strcmp(sub, "stop") == 0) {
		if (cluster_stop(cfg.home, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		printf("stopped\n");
	} else if (strcmp(sub, "status") == 0) {
		if (cluster_status(cfg.home, &running, &ci, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		if (!running) {
			printf("stopped\n");
			rc = STATUS_STOPPED;
			goto out;
		}
		printf("running\n%s\n", ci.data);
	} else if (strcmp(sub, "url") == 0) {
		if (refuse_external(&cfg, sub, &e) < 0 || cluster_conninfo(cfg.home, &ci, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		printf("%s\n", ci.data);
	} else {
		fprintf(stderr, "scout: unknown db command '%s'\n", sub);
		db_usage(stderr);
		rc = 2;
		goto out;
	}
	rc = 0;
out:
	if (have_cfg)
		config_free(&cfg);
	buf_free(&ci);
	return rc;
}

int cmd_migrate(int argc, char **argv)
{
	struct config cfg;
	struct store s;
	serr e;
	int applied = 0, have_cfg = 0, rc = 1;

	(void)argv;
	store_init(&s);
	if (argc > 1) {
		fputs("usage: scout migrate\n", stderr);
		return 2;
	}
	if (load_config(&cfg, &e) < 0) {
		rc = fail(&e);
		goto out;
	}
	have_cfg = 1;
	if (store_open(&s, &cfg, &e) < 0 || store_migrate(&s, &applied, &e) < 0) {
		rc = fail(&e);
		goto out;
	}
	if (applied > 0)
		printf("applied %d migration(s)\n", applied);
	else
		printf("database is up to date\n");
	rc = 0;
out:
	store_close(&s);
	if (have_cfg)
		config_free(&cfg);
	return rc;
}
