/*
 * The field mapping against the base: the Meta API's table schema, the
 * check that every configured field name exists in its table, and the way
 * back from a field name in an Airtable error to its config key.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "airtable/airtable.h"
#include "airtable/request.h"
#include "core/util.h"

/* The string options of the option table, read from the same options.def. */
struct field_opt {
	const char *key;
	size_t offset;
	int is_string;
};

#define OPT_IS_S 1
#define OPT_IS_I 0
#define OPT_IS_D 0
#define OPT_IS_B 0
static const struct field_opt options[] = {
#define OPT(member, type, key, env, def, secret, help) \
	{ key, offsetof(struct config, member), OPT_IS_##type },
#include "config/options.def"
#undef OPT
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

struct table_group {
	const char *prefix;    /* config keys of this table's fields */
	const char *prefix_n;  /* config keys of its (N) columns, or NULL */
	const char *table_key; /* config key of the table id */
	size_t table_offset;
	const char *label;
};

static const struct table_group groups[] = {
	{ "field.talent.", "field.talent_n.", "airtable.talent_table",
	  offsetof(struct config, talent_table), "Talent" },
	{ "field.jobs.", "field.job_n.", "airtable.jobs_table", offsetof(struct config, jobs_table),
	  "Customers STT" },
	{ "field.ats.", NULL, "airtable.ats_table", offsetof(struct config, ats_table), "ATS" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* Whether a config key names a field of the group's table (its (N) columns included). */
static int in_group(const char *key, const struct table_group *g)
{
	return str_starts_with(key, g->prefix) || (g->prefix_n && str_starts_with(key, g->prefix_n));
}

static const char *opt_str(const struct config *cfg, size_t offset)
{
	const char *v = *(char *const *)(const void *)((const char *)cfg + offset);
	return v ? v : "";
}

const char *airtable_field_key(const struct config *cfg, const char *table, const char *field)
{
	const struct table_group *grp = NULL;

	if (!field || !*field)
		return NULL;
	for (size_t g = 0; table && g < NGROUPS; g++)
		if (strcmp(opt_str(cfg, groups[g].table_offset), table) == 0) {
			grp = &groups[g];
			break;
		}
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].is_string &&
		    (grp ? in_group(options[i].key, grp) : str_starts_with(options[i].key, "field.")) &&
		    strcmp(opt_str(cfg, options[i].offset), field) == 0)
			return options[i].key;
	return NULL;
}

int airtable_tables(struct airtable *at, json_t **out, serr *e)
{
	struct buf url;
	struct at_call c;
	json_t *ans = NULL;
	int rc = -1;

	*out = NULL;
	buf_init(&url, 8192);
	if (buf_printf(&url, "%s/meta/bases/", at->root) < 0 ||
	    http_urlencode(&url, at->cfg->airtable_base_id) < 0 || buf_puts(&url, "/tables") < 0) {
		serr_set(e, "airtable: the Meta API url is too long");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.method = "GET";
	c.url = url.data;
	c.ctx = "cannot read the base's tables (Meta API)";
	c.idempotent = 1;
	if (at_request(at, &c, &ans, e) < 0)
		goto out;
	if (!json_is_array(json_object_get(ans, "tables"))) {
		serr_set(e, "airtable: %s: the answer has no 'tables' array", c.ctx);
		goto out;
	}
	*out = ans;
	ans = NULL;
	rc = 0;
out:
	json_decref(ans);
	buf_free(&url);
	return rc;
}

static const json_t *find_table(const json_t *tables, const char *id_or_name)
{
	size_t i;
	const json_t *t;

	json_array_foreach(tables, i, t)
	{
		const char *id = json_string_value(json_object_get(t, "id"));
		const char *name = json_string_value(json_object_get(t, "name"));
		if ((id && strcmp(id, id_or_name) == 0) || (name && strcmp(name, id_or_name) == 0))
			return t;
	}
	return NULL;
}

/* 1 when the table has the field; *near gets a field differing only in case. */
static int has_field(const json_t *table, const char *field, const char **near)
{
	size_t i;
	const json_t *f;

	*near = NULL;
	json_array_foreach(json_object_get(table, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		if (!name)
			continue;
		if (strcmp(name, field) == 0)
			return 1;
		if (!*near && strcasecmp(name, field) == 0)
			*near = name;
	}
	return 0;
}

/* Append one problem to the report; counts those that no longer fit in a message. */
static void report(struct buf *b, int *more, const char *line)
{
	size_t before = b->len;

	if ((b->len && buf_puts(b, "; ") < 0) || buf_puts(b, line) < 0 ||
	    b->len > SERR_MAX - 200) {
		b->len = before;
		if (b->data)
			b->data[before] = '\0';
		(*more)++;
	}
}

int airtable_check_mapping(struct airtable *at, serr *e)
{
	json_t *meta = NULL;
	const json_t *tables;
	struct buf problems;
	char line[600];
	int more = 0, rc = -1;

	buf_init(&problems, 0);
	if (airtable_tables(at, &meta, e) < 0)
		goto out;
	tables = json_object_get(meta, "tables");
	for (size_t g = 0; g < NGROUPS; g++) {
		const char *tid = opt_str(at->cfg, groups[g].table_offset);
		const json_t *table = *tid ? find_table(tables, tid) : NULL;

		if (!table) {
			snprintf(line, sizeof(line), "table '%s' (%s = '%.100s') not found in base '%s'",
				 groups[g].label, groups[g].table_key, tid, at->cfg->airtable_base_id);
			report(&problems, &more, line);
			continue;
		}
		for (size_t i = 0; i < NOPTIONS; i++) {
			const char *field, *near;
			int n;

			if (!options[i].is_string || !in_group(options[i].key, &groups[g]))
				continue;
			field = opt_str(at->cfg, options[i].offset);
			if (!*field || has_field(table, field, &near))
				continue;
			n = snprintf(line, sizeof(line), "field '%.150s' (%s) not found in table '%s' (%.60s)",
				     field, options[i].key, groups[g].label, tid);
			if (near && n > 0 && (size_t)n < sizeof(line))
				snprintf(line + n, sizeof(line) - (size_t)n, ", the table has '%.150s'",
					 near);
			report(&problems, &more, line);
		}
	}
	if (problems.len || more) {
		serr_set(e, "airtable: the field mapping does not match the base: %s",
			 buf_cstr(&problems));
		if (more && e) {
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof(e->msg) - l, "; and %d more", more);
		}
		goto out;
	}
	rc = 0;
out:
	json_decref(meta);
	buf_free(&problems);
	return rc;
}
