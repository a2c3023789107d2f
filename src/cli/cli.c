/* Shared set-up of the command files (see cli.h). */
#include "cli/cli.h"

#include <stdio.h>

#include "core/log.h"
#include "store/migrate.h"

int cli_fail(const serr *e)
{
	char msg[SERR_MAX];

	snprintf(msg, sizeof(msg), "%s", e->msg);
	log_redact(msg);
	fprintf(stderr, "scout: %s\n", msg);
	return 1;
}

int cli_config(struct config *cfg)
{
	serr e;
	enum log_level lvl;

	if (config_load(cfg, &e) < 0) {
		cli_fail(&e);
		return -1;
	}
	if (log_level_parse(cfg->log_level, &lvl) == 0)
		log_set_level(lvl);
	return 0;
}

int cli_store(const struct config *cfg, struct store *st)
{
	serr e;
	int applied = 0;

	store_init(st);
	if (store_open(st, cfg, &e) < 0 || store_migrate(st, &applied, &e) < 0) {
		store_close(st);
		cli_fail(&e);
		return -1;
	}
	return 0;
}
