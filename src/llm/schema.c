/*
 * JSON Schema validation of LLM answers (see schema.h). The strict-mode
 * rules and the time zone check are in schema_rules.c.
 */
#include "llm/schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "llm/schema_internal.h"

#define PATH_MAX_BYTES 8192
#define ERRS_MAX_BYTES (2 * SERR_MAX)
#define RX_CACHE 32

/* ---- value and key formatting ---- */

/* Copy at most max characters of s (len bytes) into out, quoted, without cutting UTF-8. */
void schema_quote_text(const char *s, size_t len, size_t max, char *out, size_t outsz)
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
		schema_quote_text(json_string_value(v), json_string_length(v), SCHEMA_KEY_SHOWN, out, outsz);
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
	char q[4 * SCHEMA_KEY_SHOWN + 16];
	int rc;

	if (is_identifier(key) && strlen(key) <= 4 * SCHEMA_KEY_SHOWN) {
		rc = buf_printf(&c->path, ".%s", key);
	} else {
		schema_quote_text(key, strlen(key), SCHEMA_KEY_SHOWN, q, sizeof(q));
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

const char *const schema_annotation_keywords[] = { "description", "title",   "default", "examples",
						   "$comment",	  "$schema", "$id",	"$defs",
						   "definitions" };

const char *const schema_validation_keywords[] = {
	"type",	     "properties", "required",	"additionalProperties", "items",
	"enum",	     "const",	   "anyOf",	"$ref",			"minItems",
	"maxItems",  "minimum",	   "maximum",	"exclusiveMinimum",	"exclusiveMaximum",
	"multipleOf", "minLength", "maxLength", "pattern",
};
const size_t schema_validation_count =
	sizeof(schema_validation_keywords) / sizeof(schema_validation_keywords[0]);
const size_t schema_annotation_count =
	sizeof(schema_annotation_keywords) / sizeof(schema_annotation_keywords[0]);


int schema_keyword_in(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, list[i]) == 0)
			return 1;
	return 0;
}

static int keywords_known(struct vctx *c, const json_t *schema)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)schema, k, v) {
		(void)v;
		if (!schema_keyword_in(k, schema_validation_keywords, schema_validation_count) &&
		    !schema_keyword_in(k, schema_annotation_keywords, schema_annotation_count)) {
			vfatal(c, "invalid schema: keyword '%.60s' is not supported", k);
			return -1;
		}
	}
	return 0;
}

/* The schema a $ref names: "#" or "#/$defs/<name>" (also "#/definitions/<name>"). */
const json_t *schema_ref_target(const json_t *root, const char *ref)
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

int schema_type_keyword_valid(const json_t *type)
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
	char q[4 * SCHEMA_KEY_SHOWN + 16];

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
			schema_quote_text(json_string_value(item), json_string_length(item), SCHEMA_KEY_SHOWN, q,
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
			schema_quote_text(k, strlen(k), SCHEMA_KEY_SHOWN, q, sizeof(q));
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
		alt = schema_ref_target(root, json_string_value(ref));
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
			json_is_string(ref) ? schema_ref_target(c->root, json_string_value(ref)) : NULL;

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
		if (!schema_type_keyword_valid(type)) {
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
