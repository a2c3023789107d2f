/* Option table driven configuration (see config.h and options.def). */
#include "config/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

enum opt_type { T_S, T_I, T_D, T_B };

struct option {
	const char *key;
	const char *env;
	const char *def;
	const char *help;
	enum opt_type type;
	size_t offset;
	int secret;
};

static const struct option options[] = {
#define OPT(member, type, key, env, def, secret, help) \
	{ key, env, def, help, T_##type, offsetof(struct config, member), secret },
#include "config/options.def"
#undef OPT
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option *find_option(const char *key)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].key, key) == 0)
			return &options[i];
	return NULL;
}

static int set_value(struct config *c, const struct option *o, const char *v, serr *e)
{
	char *base = (char *)c + o->offset;

	switch (o->type) {
	case T_S: {
		char **slot = (char **)(void *)base;
		char *dup = strdup(v);
		if (!dup)
			return serr_set(e, "out of memory setting '%s'", o->key);
		free(*slot);
		*slot = dup;
		return 0;
	}
	case T_I: {
		int iv;
		if (parse_int(v, -1000000000, 1000000000, &iv) < 0)
			return serr_set(e, "option '%s' wants a whole number, got '%s'", o->key, v);
		*(int *)(void *)base = iv;
		return 0;
	}
	case T_D: {
		double dv;
		if (parse_double(v, &dv) < 0)
			return serr_set(e, "option '%s' wants a number, got '%s'", o->key, v);
		*(double *)(void *)base = dv;
		return 0;
	}
	case T_B: {
		int bv;
		if (parse_bool(v, &bv) < 0)
			return serr_set(e, "option '%s' wants true or false, got '%s'", o->key, v);
		*(int *)(void *)base = bv;
		return 0;
	}
	}
	return serr_set(e, "option '%s' has an unknown type", o->key);
}

int config_init(struct config *c, serr *e)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (set_value(c, &options[i], options[i].def, e) < 0) {
			config_free(c);
			return -1;
		}
	}
	return 0;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (options[i].type == T_S) {
			char **slot = (char **)(void *)((char *)c + options[i].offset);
			free(*slot);
			*slot = NULL;
		}
	}
	free(c->config_path);
	c->config_path = NULL;
}

int config_set(struct config *c, const char *key, const char *value, serr *e)
{
	const struct option *o = find_option(key);

	if (!o)
		return serr_set(e, "unknown option '%s' (see `scout config show`)", key);
	return set_value(c, o, value, e);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int config_read_file(struct config *c, const char *path, serr *e)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0, rc = -1;

	if (!f)
		return serr_set(e, "cannot open config file '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *eq, *key, *val;
		size_t vl;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			serr_set(e, "config file '%s' line %d is longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			serr_set(e, "config file '%s' line %d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		if (config_set(c, key, val, e) < 0) {
			serr_wrap(e, "config file '%s' line %d", path, lineno);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

int config_load(struct config *c, serr *e)
{
	const char *path = getenv("SCOUT_CONFIG");

	if (config_init(c, e) < 0)
		return -1;
	if (path && *path) {
		if (config_read_file(c, path, e) < 0)
			goto fail;
		if (!(c->config_path = strdup(path))) {
			serr_set(e, "out of memory");
			goto fail;
		}
	}
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *v;
		if (!options[i].env || !(v = getenv(options[i].env)))
			continue;
		if (set_value(c, &options[i], v, e) < 0) {
			serr_wrap(e, "environment variable '%s'", options[i].env);
			goto fail;
		}
	}
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (options[i].secret && options[i].type == T_S) {
			char **slot = (char **)(void *)((char *)c + options[i].offset);
			log_add_secret(*slot);
		}
	}
	return 0;
fail:
	config_free(c);
	return -1;
}

static void print_value(const struct config *c, const struct option *o, FILE *out)
{
	const char *base = (const char *)c + o->offset;

	switch (o->type) {
	case T_S: {
		const char *s = *(char *const *)(const void *)base;
		if (o->secret)
			fputs(s && *s ? "(set)" : "(unset)", out);
		else
			fputs(s ? s : "", out);
		break;
	}
	case T_I:
		fprintf(out, "%d", *(const int *)(const void *)base);
		break;
	case T_D:
		fprintf(out, "%g", *(const double *)(const void *)base);
		break;
	case T_B:
		fputs(*(const int *)(const void *)base ? "true" : "false", out);
		break;
	}
}

void config_show(const struct config *c, FILE *out)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		fprintf(out, "%s = ", options[i].key);
		print_value(c, &options[i], out);
		fputc('\n', out);
	}
}

/* Markdown table cell: '|' would end the cell. */
static void put_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void config_doc(FILE *out)
{
	fputs("# Configuration reference\n\n"
	      "Generated by `scout config doc` from `src/config/options.def` (`make docs` rewrites\n"
	      "this file, and a unit test fails when it is out of date). Secrets and endpoints come\n"
	      "from the environment variables named here; everything else can be set in the file\n"
	      "named by `SCOUT_CONFIG`, one `key = value` per line (`#` starts a comment), and the\n"
	      "environment wins over the file. `scout config show` prints the values in effect,\n"
	      "secrets only as (set) or (unset).\n\n",
	      out);
	fputs("| key | environment | default | meaning |\n|---|---|---|---|\n", out);
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option *o = &options[i];
		const char *help = *o->help ? o->help : "";

		fprintf(out, "| `%s` | ", o->key);
		if (o->env)
			fprintf(out, "`%s`", o->env);
		fputs(" | ", out);
		if (*o->def) {
			fputc('`', out);
			put_cell(out, o->def);
			fputc('`', out);
		}
		fputs(" | ", out);
		if (!*help && strncmp(o->key, "field.", 6) == 0)
			help = "Airtable field name";
		put_cell(out, help);
		if (o->secret)
			fputs(" (secret: never printed)", out);
		fputs(" |\n", out);
	}
}
