/*
 * What the command files share: loading the configuration and opening the
 * store with its schema up to date, with errors printed the same way.
 */
#ifndef SCOUT_CLI_CLI_H
#define SCOUT_CLI_CLI_H

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

/* Print "scout: <message>" on stderr and return the exit status 1. */
int cli_fail(const serr *e);

/* config_load + log level; prints the error itself. */
int cli_config(struct config *cfg) SCOUT_MUST;

/* store_open + pending migrations; prints the error itself. */
int cli_store(const struct config *cfg, struct store *st) SCOUT_MUST;

#endif
