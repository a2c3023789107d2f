/*
 * scout's configuration: one struct filled from the defaults, then the
 * optional config file (SCOUT_CONFIG, `key = value` lines), then the
 * environment. The members and their keys come from options.def.
 */
#ifndef SCOUT_CONFIG_CONFIG_H
#define SCOUT_CONFIG_CONFIG_H

#include <stdio.h>

#include "core/err.h"

struct config {
#define OPT_S char *
#define OPT_I int
#define OPT_D double
#define OPT_B int
#define OPT(member, type, key, env, def, secret, help) OPT_##type member;
#include "config/options.def"
#undef OPT
#undef OPT_S
#undef OPT_I
#undef OPT_D
#undef OPT_B
	char *config_path; /* file that was read, or NULL */
};

/* Defaults only; no file or environment. */
int config_init(struct config *c, serr *e) SCOUT_MUST;
void config_free(struct config *c);

/* Defaults, then the file named by SCOUT_CONFIG (if set), then the environment. */
int config_load(struct config *c, serr *e) SCOUT_MUST;

/* Set one option by its config key from a string value. */
int config_set(struct config *c, const char *key, const char *value, serr *e) SCOUT_MUST;
int config_read_file(struct config *c, const char *path, serr *e) SCOUT_MUST;

/* Print every option as `key = value` (secrets shown as "(set)" / "(unset)"). */
void config_show(const struct config *c, FILE *out);
/* Print the option table as a markdown table (docs/configuration.md). */
void config_doc(FILE *out);

#endif
