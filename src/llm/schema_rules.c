/*
 * The strict-mode rules for the schemas scout sends (schema_check_strict)
 * and the time zone check no schema can express (see schema.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "llm/schema.h"
#include "llm/schema_internal.h"

#define PATH_MAX_BYTES 8192

/* Limits of strict structured outputs, as OpenAI documents them. */
#define STRICT_MAX_PROPERTIES 5000
#define STRICT_MAX_OBJECT_DEPTH 10
#define STRICT_MAX_ENUM_VALUES 1000
#define STRICT_MAX_CHARS 120000

#define TZ_NAME_MAX 64

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- strict-mode rules ---- */

struct sctx {
	const json_t *root;
	struct buf path; /* "#/properties/skills/items" */
	size_t nprops;
	size_t nenum;
	size_t nchars;
	char msg[SERR_MAX];
	int failed;
};

static int sfail(struct sctx *c, const char *fmt, ...) SCOUT_PRINTF(2, 3);

static int sfail(struct sctx *c, const char *fmt, ...)
{
	char m[SERR_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (!c->failed)
		snprintf(c->msg, sizeof(c->msg), "schema is not strict at %s: %s",
			 buf_cstr(&c->path), m);
	c->failed = 1;
	return -1;
}

static int spush(struct sctx *c, const char *a, const char *b, size_t *saved)
{
	*saved = c->path.len;
	if (buf_printf(&c->path, "/%s%s%s", a, b ? "/" : "", b ? b : "") < 0)
		return sfail(c, "the schema nests too deep");
	return 0;
}

static void spop(struct sctx *c, size_t saved)
{
	if (c->path.data) {
		c->path.len = saved;
		c->path.data[saved] = '\0';
	}
}

static int pattern_strict(struct sctx *c, const json_t *p)
{
	regex_t re;
	char msg[256];
	const char *s;
	int rc;

	if (!json_is_string(p))
		return sfail(c, "'pattern' must be a string");
	s = json_string_value(p);
	for (const char *q = s; *q; q++) {
		if (*q != '\\')
			continue;
		if (q[1] && strchr("dDwWsSbB", q[1]))
			return sfail(c, "pattern '%.80s' uses '\\%c', which POSIX and ECMA regexes "
					"read differently: use a bracket class such as [0-9]",
				     s, q[1]);
		if (q[1])
			q++;
	}
	rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		return sfail(c, "pattern '%.80s' does not compile: %s", s, msg);
	}
	regfree(&re);
	return 0;
}

static int strict_node(struct sctx *c, const json_t *s, int obj_depth, int is_root);

static int strict_object(struct sctx *c, const json_t *s, int obj_depth)
{
	const json_t *props = json_object_get(s, "properties");
	const json_t *req = json_object_get(s, "required");
	const json_t *extra = json_object_get(s, "additionalProperties");
	const char *k;
	json_t *sub;
	size_t i, saved;

	if (obj_depth > STRICT_MAX_OBJECT_DEPTH)
		return sfail(c, "objects nest deeper than %d levels", STRICT_MAX_OBJECT_DEPTH);
	if (!json_is_object(props))
		return sfail(c, "an object schema needs 'properties'");
	if (!json_is_false(extra))
		return sfail(c, "an object schema needs 'additionalProperties': false");
	if (!json_is_array(req))
		return sfail(c, "an object schema needs 'required' listing every property");
	json_array_foreach(req, i, sub) {
		if (!json_is_string(sub) || !json_object_get(props, json_string_value(sub)))
			return sfail(c, "'required' names a property that does not exist");
		for (size_t j = 0; j < i; j++)
			if (json_equal(sub, json_array_get(req, j)))
				return sfail(c, "'required' lists '%.60s' twice", json_string_value(sub));
	}
	c->nprops += json_object_size(props);
	json_object_foreach((json_t *)props, k, sub) {
		json_t *name;
		int listed = 0;

		json_array_foreach(req, i, name)
			if (strcmp(json_string_value(name), k) == 0)
				listed = 1;
		if (!listed)
			return sfail(c, "property '%.60s' is not in 'required': make it nullable "
					"with [\"<type>\", \"null\"] instead",
				     k);
		c->nchars += strlen(k);
	}
	json_object_foreach((json_t *)props, k, sub) {
		if (spush(c, "properties", k, &saved) < 0 || strict_node(c, sub, obj_depth + 1, 0) < 0)
			return -1;
		spop(c, saved);
	}
	return 0;
}

static int strict_values(struct sctx *c, const json_t *s)
{
	const json_t *en = json_object_get(s, "enum"), *cn = json_object_get(s, "const");
	size_t i;
	json_t *x;

	if (en) {
		if (!json_is_array(en) || json_array_size(en) == 0)
			return sfail(c, "'enum' must be a non-empty array");
		c->nenum += json_array_size(en);
		json_array_foreach(en, i, x)
			if (json_is_string(x))
				c->nchars += json_string_length(x);
	}
	if (json_is_string(cn))
		c->nchars += json_string_length(cn);
	return 0;
}

static int strict_limits(struct sctx *c, const json_t *s)
{
	static const char *const nums[] = { "minimum", "maximum", "exclusiveMinimum",
					    "exclusiveMaximum", "multipleOf" };
	const json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");

	for (size_t i = 0; i < COUNT(nums); i++) {
		const json_t *v = json_object_get(s, nums[i]);

		if (v && !json_is_number(v))
			return sfail(c, "'%s' must be a number", nums[i]);
	}
	if ((mn && (!json_is_integer(mn) || json_integer_value(mn) < 0)) ||
	    (mx && (!json_is_integer(mx) || json_integer_value(mx) < 0)))
		return sfail(c, "'minItems' and 'maxItems' must be non-negative integers");
	if (mn && mx && json_integer_value(mn) > json_integer_value(mx))
		return sfail(c, "'minItems' is above 'maxItems'");
	if (json_object_get(s, "pattern") && pattern_strict(c, json_object_get(s, "pattern")) < 0)
		return -1;
	return 0;
}

static int type_has(const json_t *type, const char *name)
{
	size_t i;
	json_t *t;

	if (json_is_string(type))
		return strcmp(json_string_value(type), name) == 0;
	json_array_foreach(type, i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), name) == 0)
			return 1;
	return 0;
}

static int strict_node(struct sctx *c, const json_t *s, int obj_depth, int is_root)
{
	const json_t *type, *ref, *any, *items;
	const char *k;
	json_t *v;
	size_t saved, i;

	if (!json_is_object(s))
		return sfail(c, "a schema must be an object");
	json_object_foreach((json_t *)s, k, v) {
		(void)v;
		if (strcmp(k, "minLength") == 0 || strcmp(k, "maxLength") == 0)
			return sfail(c, "'%s' is not supported by strict structured outputs: check "
					"lengths in C",
				     k);
		if ((strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0) && !is_root)
			return sfail(c, "'%s' is only supported at the root", k);
		if (!schema_keyword_in(k, schema_validation_keywords, schema_validation_count) &&
		    !schema_keyword_in(k, schema_annotation_keywords, schema_annotation_count))
			return sfail(c, "keyword '%.60s' is not supported by strict structured outputs",
				     k);
	}
	type = json_object_get(s, "type");
	ref = json_object_get(s, "$ref");
	any = json_object_get(s, "anyOf");
	if (is_root && (!type || !json_is_string(type) || strcmp(json_string_value(type), "object")))
		return sfail(c, "the root must be a schema of type 'object' (not anyOf)");
	if (!type && !ref && !any && !json_object_get(s, "enum") && !json_object_get(s, "const"))
		return sfail(c, "a schema needs 'type', 'enum', 'const', 'anyOf' or '$ref'");
	if (type && !schema_type_keyword_valid(type))
		return sfail(c, "'type' must be a type name or an array of distinct type names");
	if (ref && (!json_is_string(ref) || !schema_ref_target(c->root, json_string_value(ref))))
		return sfail(c, "'$ref' must be '#' or '#/$defs/<name>' of an existing definition");
	if (strict_values(c, s) < 0 || strict_limits(c, s) < 0)
		return -1;
	if ((type && type_has(type, "object")) || json_object_get(s, "properties"))
		if (strict_object(c, s, obj_depth) < 0)
			return -1;
	items = json_object_get(s, "items");
	if (type && type_has(type, "array") && !items)
		return sfail(c, "an array schema needs 'items'");
	if (items) {
		if (spush(c, "items", NULL, &saved) < 0 || strict_node(c, items, obj_depth, 0) < 0)
			return -1;
		spop(c, saved);
	}
	if (any) {
		if (!json_is_array(any) || json_array_size(any) == 0)
			return sfail(c, "'anyOf' must be a non-empty array");
		json_array_foreach(any, i, v) {
			char idx[32];

			snprintf(idx, sizeof(idx), "%zu", i);
			if (spush(c, "anyOf", idx, &saved) < 0 || strict_node(c, v, obj_depth, 0) < 0)
				return -1;
			spop(c, saved);
		}
	}
	return 0;
}

int schema_check_strict(const json_t *schema, serr *e)
{
	struct sctx c;
	const json_t *defs;
	const char *k;
	json_t *d;
	size_t saved;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.root = schema;
	buf_init(&c.path, PATH_MAX_BYTES);
	if (!schema)
		return serr_set(e, "cannot check a schema: none given");
	if (buf_putc(&c.path, '#') < 0) {
		serr_set(e, "cannot check a schema: out of memory");
		goto out;
	}
	if (strict_node(&c, schema, 1, 1) < 0)
		goto fail;
	defs = json_object_get(schema, "$defs");
	if (defs && !json_is_object(defs)) {
		sfail(&c, "'$defs' must be an object");
		goto fail;
	}
	json_object_foreach((json_t *)defs, k, d) {
		c.nchars += strlen(k);
		if (spush(&c, "$defs", k, &saved) < 0 || strict_node(&c, d, 1, 0) < 0)
			goto fail;
		spop(&c, saved);
	}
	if (c.nprops > STRICT_MAX_PROPERTIES) {
		sfail(&c, "%zu object properties, over the limit of %d", c.nprops,
		      STRICT_MAX_PROPERTIES);
		goto fail;
	}
	if (c.nenum > STRICT_MAX_ENUM_VALUES) {
		sfail(&c, "%zu enum values, over the limit of %d", c.nenum, STRICT_MAX_ENUM_VALUES);
		goto fail;
	}
	if (c.nchars > STRICT_MAX_CHARS) {
		sfail(&c, "%zu characters of names and enum values, over the limit of %d", c.nchars,
		      STRICT_MAX_CHARS);
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	serr_set(e, "%s", c.msg);
out:
	buf_free(&c.path);
	return rc;
}

/* ---- time zones ---- */

int schema_check_timezone(const char *name, serr *e)
{
	char path[512], q[4 * SCHEMA_KEY_SHOWN + 16], magic[4];
	const char *dir = getenv("TZDIR");
	struct stat st;
	size_t len;
	ssize_t got;
	int fd;

	if (!name || !*name)
		return serr_set(e, "the time zone is empty: use an IANA name such as 'Europe/Berlin'");
	len = strlen(name);
	schema_quote_text(name, len, SCHEMA_KEY_SHOWN, q, sizeof(q));
	if (len > TZ_NAME_MAX)
		return serr_set(e, "time zone %s is longer than %d characters", q, TZ_NAME_MAX);
	if (!(name[0] >= 'A' && name[0] <= 'Z') || strstr(name, "..") || strstr(name, "//") ||
	    name[len - 1] == '/')
		return serr_set(e, "time zone %s is not an IANA name such as 'Europe/Berlin'", q);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '+' || *p == '-' || *p == '/'))
			return serr_set(e, "time zone %s has a character no IANA name has", q);
	if (!dir || dir[0] != '/')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return serr_set(e, "time zone %s is not in the tz database (%s): use an IANA name "
				   "such as 'Europe/Berlin'",
				q, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return serr_set(e, "cannot read time zone %s from the tz database: %s", q,
				strerror(errno));
	got = read(fd, magic, sizeof(magic));
	close(fd);
	if (got != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
		return serr_set(e, "time zone %s is not a zone file of the tz database", q);
	return 0;
}
