/*
 * JSON Schema validation of LLM answers (schema_validate), the strict-mode
 * rules for the schemas scout sends (schema_check_strict) and the time
 * zone check that no schema can express (see schema.h).
 */
#include "llm/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"

#define PATH_MAX_BYTES 8192
#define ERRS_MAX_BYTES (2 * SERR_MAX)
#define RX_CACHE 32
#define KEY_SHOWN 40

/* Limits of strict structured outputs, as OpenAI documents them. */
#define STRICT_MAX_PROPERTIES 5000
#define STRICT_MAX_OBJECT_DEPTH 10
#define STRICT_MAX_ENUM_VALUES 1000
#define STRICT_MAX_CHARS 120000

#define TZ_NAME_MAX 64

/* ---- value and key formatting ---- */

/* Copy at most max characters of s (len bytes) into out, quoted, without cutting UTF-8. */
static void quote_text(const char *s, size_t len, size_t max, char *out, size_t outsz)
{
	size_t k = 0, chars = 0, i = 0;

	if (outsz < 8) {
		if (outsz)
			out[0] = '\0';
		return;
	}
	out[k++] = '\'';
	while (i < len && k + 8 < outsz) {
		unsigned char ch = (unsigned char)s[i];
		size_t clen = 1;

		if (chars == max)
			break;
		if (ch >= 0xc0)
			clen = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
		if (i + clen > len || k + clen + 8 >= outsz)
			break;
		if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xc0)) {
			out[k++] = '?';
			i++;
		} else {
			memcpy(out + k, s + i, clen);
			k += clen;
			i += clen;
		}
		chars++;
	}
	if (i < len) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k++] = '\'';
	out[k] = '\0';
}

void schema_describe_value(const json_t *v, char *out, size_t outsz)
{
	if (!outsz)
		return;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		snprintf(out, outsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(out, outsz, "%.15g", json_real_value(v));
		break;
	case JSON_STRING:
		quote_text(json_string_value(v), json_string_length(v), KEY_SHOWN, out, outsz);
		break;
	case JSON_TRUE:
		snprintf(out, outsz, "true");
		break;
	case JSON_FALSE:
		snprintf(out, outsz, "false");
		break;
	case JSON_NULL:
		snprintf(out, outsz, "null");
		break;
	case JSON_OBJECT:
		snprintf(out, outsz, "an object");
		break;
	case JSON_ARRAY:
		snprintf(out, outsz, "an array");
		break;
	default:
		snprintf(out, outsz, "a value");
		break;
	}
}

static int is_identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* The JSON Schema name of a value's type; reals with no fraction are integers. */
static int value_is_integer(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return isfinite(d) && floor(d) == d;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static int known_type(const char *t)
{
	static const char *const names[] = { "object", "array",	  "string", "integer",
					     "number", "boolean", "null" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return 1;
	return 0;
}

static int type_matches(const char *t, const json_t *v)
{
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "integer") == 0)
		return value_is_integer(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	return strcmp(t, type_name(v)) == 0;
}

/* ---- validation context ---- */

struct rx_entry {
	const char *pattern;
	regex_t re;
};

struct vctx {
	const json_t *root;
	struct buf path;
	struct buf errs;
	int nerr;   /* problems found, listed or not */
	int listed; /* problems written to errs */
	int quiet;  /* > 0 inside anyOf trials: count problems, list none */
	int fatal;  /* schema error or limit: stop */
	char fatal_msg[SERR_MAX];
	size_t nodes;
	struct rx_entry rx[RX_CACHE];
	size_t nrx;
};

static void verr(struct vctx *c, const char *fmt, ...) SCOUT_PRINTF(2, 3);
static void vfatal(struct vctx *c, const char *fmt, ...) SCOUT_PRINTF(2, 3);

static void verr(struct vctx *c, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;

	c->nerr++;
	if (c->quiet || c->listed >= SCHEMA_MAX_ERRORS)
		return;
	if (c->listed > 0)
		rc = buf_puts(&c->errs, "; ");
	if (rc == 0)
		rc = buf_printf(&c->errs, "%s: ", buf_cstr(&c->path));
	if (rc == 0) {
		va_start(ap, fmt);
		rc = buf_vprintf(&c->errs, fmt, ap);
		va_end(ap);
	}
	/* A full error buffer just ends the listing; the count stays right. */
	c->listed = rc == 0 ? c->listed + 1 : SCHEMA_MAX_ERRORS;
}

static void vfatal(struct vctx *c, const char *fmt, ...)
{
	char msg[SERR_MAX / 2];
	va_list ap;

	if (c->fatal)
		return;
	c->fatal = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->fatal_msg, sizeof(c->fatal_msg), "%s (at %s)", msg, buf_cstr(&c->path));
}

/* Append ".key", "['odd key']" or "[i]" to the path; returns the length to restore. */
static size_t path_push_key(struct vctx *c, const char *key)
{
	size_t saved = c->path.len;
	char q[4 * KEY_SHOWN + 16];
	int rc;

	if (is_identifier(key) && strlen(key) <= 4 * KEY_SHOWN) {
		rc = buf_printf(&c->path, ".%s", key);
	} else {
		quote_text(key, strlen(key), KEY_SHOWN, q, sizeof(q));
		rc = buf_printf(&c->path, "[%s]", q);
	}
	if (rc < 0)
		vfatal(c, "the path of a value is longer than %d bytes", PATH_MAX_BYTES);
	return saved;
}

static size_t path_push_index(struct vctx *c, size_t i)
{
	size_t saved = c->path.len;

	if (buf_printf(&c->path, "[%zu]", i) < 0)
		vfatal(c, "the path of a value is longer than %d bytes", PATH_MAX_BYTES);
	return saved;
}

static void path_pop(struct vctx *c, size_t saved)
{
	if (c->path.data && saved <= c->path.len) {
		c->path.len = saved;
		c->path.data[saved] = '\0';
	}
}

static const regex_t *rx_get(struct vctx *c, const char *pattern, regex_t *tmp, int *is_tmp)
{
	char msg[256];
	regex_t *re;
	int rc;

	*is_tmp = 0;
	for (size_t i = 0; i < c->nrx; i++)
		if (c->rx[i].pattern == pattern)
			return &c->rx[i].re;
	if (c->nrx < RX_CACHE) {
		re = &c->rx[c->nrx].re;
	} else {
		re = tmp;
		*is_tmp = 1;
	}
	rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		vfatal(c, "invalid schema: pattern '%.80s' does not compile: %s", pattern, msg);
		*is_tmp = 0;
		return NULL;
	}
	if (!*is_tmp)
		c->rx[c->nrx++].pattern = pattern;
	return re;
}

/* ---- keyword checks ---- */

static const char *const annotation_keywords[] = { "description", "title",   "default", "examples",
						   "$comment",	  "$schema", "$id",	"$defs",
						   "definitions" };

static const char *const validation_keywords[] = {
	"type",	     "properties", "required",	"additionalProperties", "items",
	"enum",	     "const",	   "anyOf",	"$ref",			"minItems",
	"maxItems",  "minimum",	   "maximum",	"exclusiveMinimum",	"exclusiveMaximum",
	"multipleOf", "minLength", "maxLength", "pattern",
};

static int in_list(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, list[i]) == 0)
			return 1;
	return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int keywords_known(struct vctx *c, const json_t *schema)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)schema, k, v) {
		(void)v;
		if (!in_list(k, validation_keywords, COUNT(validation_keywords)) &&
		    !in_list(k, annotation_keywords, COUNT(annotation_keywords))) {
			vfatal(c, "invalid schema: keyword '%.60s' is not supported", k);
			return -1;
		}
	}
	return 0;
}

/* The schema a $ref names: "#" or "#/$defs/<name>" (also "#/definitions/<name>"). */
static const json_t *ref_target(const json_t *root, const char *ref)
{
	const char *name = NULL;
	const json_t *defs = NULL;

	if (strcmp(ref, "#") == 0)
		return root;
	if (str_starts_with(ref, "#/$defs/")) {
		name = ref + 8;
		defs = json_object_get(root, "$defs");
	} else if (str_starts_with(ref, "#/definitions/")) {
		name = ref + 14;
		defs = json_object_get(root, "definitions");
	}
	if (!name || !*name || strchr(name, '/') || strchr(name, '~') || !json_is_object(defs))
		return NULL;
	return json_object_get(defs, name);
}

/* Numeric value of a keyword; -1 (and a fatal error) when it is not a number. */
static int kw_number(struct vctx *c, const json_t *schema, const char *kw, const json_t **out)
{
	*out = json_object_get(schema, kw);
	if (*out && !json_is_number(*out)) {
		vfatal(c, "invalid schema: '%s' must be a number", kw);
		return -1;
	}
	return 0;
}

static int kw_count(struct vctx *c, const json_t *schema, const char *kw, json_int_t *out,
		    int *present)
{
	const json_t *v = json_object_get(schema, kw);

	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		vfatal(c, "invalid schema: '%s' must be a non-negative integer", kw);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* a < b: -1, a == b: 0, a > b: 1; exact for two integers. */
static int num_cmp(const json_t *a, const json_t *b)
{
	double x, y;

	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t p = json_integer_value(a), q = json_integer_value(b);

		return p < q ? -1 : p > q;
	}
	x = json_number_value(a);
	y = json_number_value(b);
	return x < y ? -1 : x > y;
}

/* 1 when the value's type is one the "type" keyword (a name or an array) allows. */
static int type_allows(const json_t *type, const json_t *v)
{
	size_t i;
	json_t *t;

	if (json_is_string(type))
		return type_matches(json_string_value(type), v);
	json_array_foreach(type, i, t)
		if (json_is_string(t) && type_matches(json_string_value(t), v))
			return 1;
	return 0;
}

static int type_keyword_valid(const json_t *type)
{
	size_t i;
	json_t *t;

	if (json_is_string(type))
		return known_type(json_string_value(type));
	if (!json_is_array(type) || json_array_size(type) == 0)
		return 0;
	json_array_foreach(type, i, t)
		if (!json_is_string(t) || !known_type(json_string_value(t)))
			return 0;
	return 1;
}

static void type_list(const json_t *type, char *out, size_t outsz)
{
	size_t i, k = 0;
	json_t *t;

	out[0] = '\0';
	if (json_is_string(type)) {
		snprintf(out, outsz, "%s", json_string_value(type));
		return;
	}
	json_array_foreach(type, i, t) {
		int n = snprintf(out + k, outsz - k, "%s%s", i == 0 ? "" : " or ",
				 json_string_value(t));

		if (n < 0 || (size_t)n >= outsz - k)
			return;
		k += (size_t)n;
	}
}

/* "'a', 'b', 'c'" for the allowed values of an enum, cut to fit. */
static void enum_list(const json_t *values, char *out, size_t outsz)
{
	char one[96];
	size_t i, k = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(values, i, v) {
		int n;

		schema_describe_value(v, one, sizeof(one));
		n = snprintf(out + k, outsz - k, "%s%s", i == 0 ? "" : ", ", one);
		if (n < 0 || (size_t)n >= outsz - k) {
			if (outsz > 4)
				memcpy(out + outsz - 4, "...", 4);
			return;
		}
		k += (size_t)n;
	}
}

/* ---- the validator ---- */

static void validate(struct vctx *c, const json_t *schema, const json_t *v, int depth);

static void check_number(struct vctx *c, const json_t *schema, const json_t *v)
{
	const json_t *min, *max, *xmin, *xmax, *mult;
	char a[64], b[64];

	if (kw_number(c, schema, "minimum", &min) < 0 || kw_number(c, schema, "maximum", &max) < 0 ||
	    kw_number(c, schema, "exclusiveMinimum", &xmin) < 0 ||
	    kw_number(c, schema, "exclusiveMaximum", &xmax) < 0 ||
	    kw_number(c, schema, "multipleOf", &mult) < 0)
		return;
	schema_describe_value(v, a, sizeof(a));
	if (!isfinite(json_number_value(v))) {
		verr(c, "%s is not a finite number", a);
		return;
	}
	if (min && num_cmp(v, min) < 0) {
		schema_describe_value(min, b, sizeof(b));
		verr(c, "%s is below the minimum %s", a, b);
	}
	if (max && num_cmp(v, max) > 0) {
		schema_describe_value(max, b, sizeof(b));
		verr(c, "%s is above the maximum %s", a, b);
	}
	if (xmin && num_cmp(v, xmin) <= 0) {
		schema_describe_value(xmin, b, sizeof(b));
		verr(c, "%s is not above the exclusive minimum %s", a, b);
	}
	if (xmax && num_cmp(v, xmax) >= 0) {
		schema_describe_value(xmax, b, sizeof(b));
		verr(c, "%s is not below the exclusive maximum %s", a, b);
	}
	if (mult) {
		double m = json_number_value(mult), q;

		if (!(m > 0)) {
			vfatal(c, "invalid schema: 'multipleOf' must be above 0");
			return;
		}
		q = json_number_value(v) / m;
		if (fabs(q - nearbyint(q)) > 1e-9 * (fabs(q) > 1 ? fabs(q) : 1)) {
			schema_describe_value(mult, b, sizeof(b));
			verr(c, "%s is not a multiple of %s", a, b);
		}
	}
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void check_string(struct vctx *c, const json_t *schema, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), chars = utf8_chars(s, len);
	const json_t *pattern = json_object_get(schema, "pattern");
	json_int_t lim = 0;
	int present;
	char a[96];

	if (kw_count(c, schema, "minLength", &lim, &present) < 0)
		return;
	if (present && (json_int_t)chars < lim)
		verr(c, "string of %zu characters is shorter than the minimum %" JSON_INTEGER_FORMAT,
		     chars, lim);
	if (kw_count(c, schema, "maxLength", &lim, &present) < 0)
		return;
	if (present && (json_int_t)chars > lim)
		verr(c, "string of %zu characters is longer than the maximum %" JSON_INTEGER_FORMAT,
		     chars, lim);
	if (pattern) {
		regex_t tmp;
		const regex_t *re;
		int is_tmp;

		if (!json_is_string(pattern)) {
			vfatal(c, "invalid schema: 'pattern' must be a string");
			return;
		}
		re = rx_get(c, json_string_value(pattern), &tmp, &is_tmp);
		if (!re)
			return;
		schema_describe_value(v, a, sizeof(a));
		if (strlen(s) != len)
			verr(c, "%s contains a NUL character", a);
		else if (regexec(re, s, 0, NULL, 0) != 0)
			verr(c, "%s does not match the pattern '%.80s'", a, json_string_value(pattern));
		if (is_tmp)
			regfree(&tmp);
	}
}

static void check_array(struct vctx *c, const json_t *schema, const json_t *v, int depth)
{
	const json_t *items = json_object_get(schema, "items");
	size_t n = json_array_size(v);
	json_int_t lim = 0;
	int present;

	if (kw_count(c, schema, "minItems", &lim, &present) < 0)
		return;
	if (present && (json_int_t)n < lim)
		verr(c, "array of %zu items has fewer than the minimum %" JSON_INTEGER_FORMAT, n,
		     lim);
	if (kw_count(c, schema, "maxItems", &lim, &present) < 0)
		return;
	if (present && (json_int_t)n > lim)
		verr(c, "array of %zu items has more than the maximum %" JSON_INTEGER_FORMAT, n, lim);
	if (!items)
		return;
	if (!json_is_object(items) && !json_is_boolean(items)) {
		vfatal(c, "invalid schema: 'items' must be a schema");
		return;
	}
	for (size_t i = 0; i < n && !c->fatal; i++) {
		size_t saved = path_push_index(c, i);

		validate(c, items, json_array_get(v, i), depth + 1);
		path_pop(c, saved);
	}
}

static void check_object(struct vctx *c, const json_t *schema, const json_t *v, int depth)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *req = json_object_get(schema, "required");
	const json_t *extra = json_object_get(schema, "additionalProperties");
	const char *k;
	json_t *item;
	size_t i;
	char q[4 * KEY_SHOWN + 16];

	if ((props && !json_is_object(props)) || (req && !json_is_array(req)) ||
	    (extra && !json_is_boolean(extra) && !json_is_object(extra))) {
		vfatal(c, "invalid schema: 'properties' must be an object, 'required' an array and "
			  "'additionalProperties' a boolean or a schema");
		return;
	}
	json_array_foreach(req, i, item) {
		if (!json_is_string(item)) {
			vfatal(c, "invalid schema: 'required' must list strings");
			return;
		}
		if (!json_object_get(v, json_string_value(item))) {
			quote_text(json_string_value(item), json_string_length(item), KEY_SHOWN, q,
				   sizeof(q));
			verr(c, "required property %s is missing", q);
		}
	}
	json_object_foreach((json_t *)v, k, item) {
		const json_t *sub = props ? json_object_get(props, k) : NULL;
		size_t saved;

		if (c->fatal)
			return;
		if (!sub && json_is_false(extra)) {
			quote_text(k, strlen(k), KEY_SHOWN, q, sizeof(q));
			verr(c, "property %s is not allowed", q);
			continue;
		}
		if (!sub)
			sub = extra; /* NULL or true: anything goes */
		if (!sub || json_is_true(sub))
			continue;
		saved = path_push_key(c, k);
		validate(c, sub, item, depth + 1);
		path_pop(c, saved);
	}
}

/* 1 when an alternative of anyOf could take a value of this type at all. */
static int alternative_takes_type(const json_t *root, const json_t *alt, const json_t *v)
{
	const json_t *type;

	for (int hops = 0; hops < SCHEMA_MAX_DEPTH && json_is_object(alt); hops++) {
		const json_t *ref = json_object_get(alt, "$ref");

		type = json_object_get(alt, "type");
		if (type)
			return type_allows(type, v);
		if (!json_is_string(ref))
			return 1;
		alt = ref_target(root, json_string_value(ref));
	}
	return json_is_true(alt);
}

static void check_any_of(struct vctx *c, const json_t *alts, const json_t *v, int depth)
{
	size_t n = json_array_size(alts), i, takers = 0, taker = 0;
	int saved_nerr = c->nerr;
	char a[96];

	if (!json_is_array(alts) || n == 0) {
		vfatal(c, "invalid schema: 'anyOf' must be a non-empty array");
		return;
	}
	c->quiet++;
	for (i = 0; i < n; i++) {
		int before = c->nerr;

		validate(c, json_array_get(alts, i), v, depth + 1);
		if (c->fatal || c->nerr == before)
			break;
	}
	c->quiet--;
	c->nerr = saved_nerr;
	if (c->fatal || i < n)
		return;
	/* Report the one alternative meant for this type, or say none fits. */
	for (i = 0; i < n; i++)
		if (alternative_takes_type(c->root, json_array_get(alts, i), v)) {
			takers++;
			taker = i;
		}
	if (takers == 1) {
		validate(c, json_array_get(alts, taker), v, depth + 1);
		return;
	}
	schema_describe_value(v, a, sizeof(a));
	verr(c, "%s matches none of the %zu alternatives of anyOf", a, n);
}

static void validate(struct vctx *c, const json_t *schema, const json_t *v, int depth)
{
	const json_t *ref, *type, *en, *cn, *any;
	char a[96], b[SERR_MAX / 2];

	if (c->fatal)
		return;
	if (depth > SCHEMA_MAX_DEPTH) {
		vfatal(c, "the value or its schema nests deeper than %d levels", SCHEMA_MAX_DEPTH);
		return;
	}
	if (++c->nodes > SCHEMA_MAX_NODES) {
		vfatal(c, "more than %d values to check: the value is too large", SCHEMA_MAX_NODES);
		return;
	}
	if (json_is_true(schema))
		return;
	if (json_is_false(schema)) {
		verr(c, "no value is allowed here");
		return;
	}
	if (!json_is_object(schema)) {
		vfatal(c, "invalid schema: a schema must be an object or a boolean");
		return;
	}
	if (keywords_known(c, schema) < 0)
		return;
	ref = json_object_get(schema, "$ref");
	if (ref) {
		const json_t *target =
			json_is_string(ref) ? ref_target(c->root, json_string_value(ref)) : NULL;

		if (!target) {
			vfatal(c, "invalid schema: '$ref' %.80s does not resolve: use '#' or "
				  "'#/$defs/<name>'",
			       json_is_string(ref) ? json_string_value(ref) : "(not a string)");
			return;
		}
		validate(c, target, v, depth + 1);
	}
	type = json_object_get(schema, "type");
	if (type) {
		if (!type_keyword_valid(type)) {
			vfatal(c, "invalid schema: 'type' must be a type name or an array of them");
			return;
		}
		if (!type_allows(type, v)) {
			type_list(type, b, sizeof(b));
			verr(c, "expected %s, got %s", b, type_name(v));
			return;
		}
	}
	en = json_object_get(schema, "enum");
	if (en) {
		size_t i;
		json_t *x;
		int found = 0;

		if (!json_is_array(en)) {
			vfatal(c, "invalid schema: 'enum' must be an array");
			return;
		}
		json_array_foreach(en, i, x)
			if (json_equal(x, (json_t *)v))
				found = 1;
		if (!found) {
			schema_describe_value(v, a, sizeof(a));
			enum_list(en, b, sizeof(b));
			verr(c, "%s is not one of %s", a, b);
		}
	}
	cn = json_object_get(schema, "const");
	if (cn && !json_equal((json_t *)cn, (json_t *)v)) {
		schema_describe_value(v, a, sizeof(a));
		schema_describe_value(cn, b, sizeof(b));
		verr(c, "%s is not the constant %s", a, b);
	}
	if (json_is_number(v))
		check_number(c, schema, v);
	else if (json_is_string(v))
		check_string(c, schema, v);
	else if (json_is_array(v))
		check_array(c, schema, v, depth);
	else if (json_is_object(v))
		check_object(c, schema, v, depth);
	any = json_object_get(schema, "anyOf");
	if (any)
		check_any_of(c, any, v, depth);
}

int schema_validate(const json_t *schema, const json_t *value, serr *e)
{
	struct vctx c;
	int rc = -1;

	if (!schema || !value)
		return serr_set(e, "cannot validate: %s is missing", schema ? "the value" : "the schema");
	memset(&c, 0, sizeof(c));
	c.root = schema;
	buf_init(&c.path, PATH_MAX_BYTES);
	buf_init(&c.errs, ERRS_MAX_BYTES);
	if (buf_putc(&c.path, '$') < 0) {
		serr_set(e, "cannot validate: out of memory");
		goto out;
	}
	validate(&c, schema, value, 0);
	if (c.fatal) {
		serr_set(e, "%s", c.fatal_msg);
		goto out;
	}
	if (c.nerr > 0) {
		if (c.nerr > c.listed)
			serr_set(e, "%s; and %d more problem%s", buf_cstr(&c.errs), c.nerr - c.listed,
				 c.nerr - c.listed == 1 ? "" : "s");
		else
			serr_set(e, "%s", buf_cstr(&c.errs));
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < c.nrx; i++)
		regfree(&c.rx[i].re);
	buf_free(&c.path);
	buf_free(&c.errs);
	return rc;
}

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
		if (!in_list(k, validation_keywords, COUNT(validation_keywords)) &&
		    !in_list(k, annotation_keywords, COUNT(annotation_keywords)))
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
	if (type && !type_keyword_valid(type))
		return sfail(c, "'type' must be a type name or an array of distinct type names");
	if (ref && (!json_is_string(ref) || !ref_target(c->root, json_string_value(ref))))
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
	char path[512], q[4 * KEY_SHOWN + 16], magic[4];
	const char *dir = getenv("TZDIR");
	struct stat st;
	size_t len;
	ssize_t got;
	int fd;

	if (!name || !*name)
		return serr_set(e, "the time zone is empty: use an IANA name such as 'Europe/Berlin'");
	len = strlen(name);
	quote_text(name, len, KEY_SHOWN, q, sizeof(q));
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
