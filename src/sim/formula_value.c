/*
 * Airtable's value model for the formula evaluator: the per-evaluation
 * arena, how field values (API JSON) become formula values, and the
 * coercions every operator and function shares (blank reads as "" in text,
 * 0 in numbers and false in conditions; arrays read as their items joined
 * with ", "; dates compare as datetimes).
 */
#include "sim/formula_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CHUNK_MIN (64 * 1024)

struct farena_chunk {
	struct farena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void *fctx_alloc(struct fctx *c, size_t n)
{
	struct farena_chunk *ch = c->chunks;
	size_t need = (n + 15) & ~(size_t)15, total;
	void *p;

	if (n > FORMULA_MAX_EVAL_MEM || c->used + need > FORMULA_MAX_EVAL_MEM) {
		serr_set(c->e, "formula evaluation needs more than %d bytes; simplify the formula",
			 FORMULA_MAX_EVAL_MEM);
		return NULL;
	}
	if (!ch || ch->cap - ch->used < need) {
		size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;

		if (size_add(sizeof(*ch), cap, &total) != 0 || !(ch = malloc(total))) {
			serr_set(c->e, "out of memory evaluating a formula");
			return NULL;
		}
		ch->next = c->chunks;
		ch->used = 0;
		ch->cap = cap;
		c->chunks = ch;
	}
	p = ch->data + ch->used;
	ch->used += need;
	c->used += need;
	return p;
}

void fctx_release(struct fctx *c)
{
	while (c->chunks) {
		struct farena_chunk *next = c->chunks->next;

		free(c->chunks);
		c->chunks = next;
	}
	c->used = 0;
}

char *fctx_strdup(struct fctx *c, const char *p, size_t n)
{
	char *s;

	if (n > FORMULA_MAX_STRING) {
		serr_set(c->e, "formula produced a text longer than %d bytes", FORMULA_MAX_STRING);
		return NULL;
	}
	s = fctx_alloc(c, n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void fv_blank(struct fval *v)
{
	memset(v, 0, sizeof(*v));
	v->t = FV_BLANK;
}

void fv_err(struct fval *v, const char *code)
{
	fv_blank(v);
	v->t = FV_ERR;
	v->s = code;
	v->len = strlen(code);
}

void fv_num(struct fval *v, double n)
{
	if (!isfinite(n)) {
		fv_err(v, "#ERROR!");
		return;
	}
	fv_blank(v);
	v->t = FV_NUM;
	v->n = n == 0 ? 0 : n; /* no negative zero */
}

void fv_bool(struct fval *v, int b)
{
	fv_blank(v);
	v->t = FV_BOOL;
	v->n = b ? 1 : 0;
}

void fv_date(struct fval *v, int64_t ms, int date_only)
{
	fv_blank(v);
	v->t = FV_DATE;
	v->ms = ms;
	v->date_only = date_only;
}

int fv_str(struct fctx *c, struct fval *v, const char *p, size_t n)
{
	char *s = fctx_strdup(c, p, n);

	if (!s)
		return -1;
	fv_blank(v);
	v->t = FV_STR;
	v->s = s;
	v->len = n;
	return 0;
}

int fv_truthy(const struct fval *v)
{
	switch (v->t) {
	case FV_NUM:
	case FV_BOOL: return v->n != 0;
	case FV_STR: return v->len > 0;
	case FV_DATE: return 1;
	case FV_ARR: return v->nitems > 0;
	default: return 0;
	}
}

int fv_is_empty(const struct fval *v)
{
	return v->t == FV_BLANK || (v->t == FV_STR && v->len == 0);
}

/* Shortest decimal that reads back as x, as JavaScript prints numbers. */
static void num_format(double x, char out[40])
{
	if (x == floor(x) && fabs(x) < 1e15) {
		snprintf(out, 40, "%.0f", x);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, 40, "%.*g", prec, x);
		if (strtod(out, NULL) == x)
			return;
	}
}

int fv_to_str(struct fctx *c, const struct fval *v, const char **s, size_t *len)
{
	char tmp[40];
	const char *src = tmp;
	size_t n;

	switch (v->t) {
	case FV_STR:
	case FV_ERR:
		*s = v->s;
		*len = v->len;
		return 0;
	case FV_BLANK:
		*s = "";
		*len = 0;
		return 0;
	case FV_BOOL:
		*s = v->n ? "1" : "0";
		*len = 1;
		return 0;
	case FV_NUM:
		num_format(v->n, tmp);
		break;
	case FV_DATE:
		fdate_format(v->ms, v->date_only, tmp);
		break;
	case FV_ARR: {
		struct fval flat;

		if (fv_flatten(c, v, &flat) < 0)
			return -1;
		*s = flat.s;
		*len = flat.len;
		return 0;
	}
	}
	n = strlen(src);
	if (!(*s = fctx_strdup(c, src, n)))
		return -1;
	*len = n;
	return 0;
}

int fv_flatten(struct fctx *c, const struct fval *v, struct fval *out)
{
	size_t total = 0;
	char *p;
	const char **parts;
	size_t *lens;

	if (v->t != FV_ARR) {
		*out = *v;
		return 0;
	}
	parts = fctx_alloc(c, v->nitems * sizeof(*parts));
	lens = fctx_alloc(c, v->nitems * sizeof(*lens));
	if (!parts || !lens)
		return -1;
	for (size_t i = 0; i < v->nitems; i++) {
		if (fv_to_str(c, &v->items[i], &parts[i], &lens[i]) < 0)
			return -1;
		total += lens[i] + (i ? 2 : 0);
		if (total > FORMULA_MAX_STRING)
			return serr_set(c->e, "formula produced a text longer than %d bytes",
					FORMULA_MAX_STRING);
	}
	if (!(p = fctx_alloc(c, total + 1)))
		return -1;
	fv_blank(out);
	out->t = FV_STR;
	out->s = p;
	out->len = total;
	for (size_t i = 0; i < v->nitems; i++) {
		if (i) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	*p = '\0';
	return 0;
}

/* Whole (trimmed) text as a number; empty text is 0. */
static int str_to_num(const char *s, size_t len, double *out)
{
	char tmp[64];
	size_t a = 0, b = len;

	while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' || s[b - 1] == '\r'))
		b--;
	if (a == b) {
		*out = 0;
		return 0;
	}
	if (b - a >= sizeof(tmp))
		return 1;
	memcpy(tmp, s + a, b - a);
	tmp[b - a] = '\0';
	/* parse_double accepts what strtod does: refuse hex, inf and nan spellings */
	for (size_t i = 0; tmp[i]; i++) {
		char ch = tmp[i];

		if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
		      ch == 'E'))
			return 1;
	}
	if (parse_double(tmp, out) != 0 || !isfinite(*out))
		return 1;
	return 0;
}

int fv_to_num(const struct fval *v, double *out)
{
	switch (v->t) {
	case FV_BLANK: *out = 0; return 0;
	case FV_NUM:
	case FV_BOOL: *out = v->n; return 0;
	case FV_STR: return str_to_num(v->s, v->len, out);
	case FV_ARR: return v->nitems == 1 ? fv_to_num(&v->items[0], out) : 1;
	default: return 1;
	}
}

int fv_to_date(const struct fval *v, int64_t *ms, int *date_only)
{
	switch (v->t) {
	case FV_BLANK: return 1;
	case FV_DATE:
		*ms = v->ms;
		*date_only = v->date_only;
		return 0;
	case FV_STR:
		if (v->len == 0)
			return 1;
		return fdate_parse(v->s, v->len, ms, date_only) == 0 ? 0 : 2;
	case FV_ARR: return v->nitems == 1 ? fv_to_date(&v->items[0], ms, date_only) : 2;
	default: return 2;
	}
}

static int cmp3(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r < 0 ? -1 : 1;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

static int cmp_as_text(struct fctx *c, const struct fval *a, const struct fval *b, int *cmp)
{
	const char *as, *bs;
	size_t al, bl;

	if (fv_to_str(c, a, &as, &al) < 0 || fv_to_str(c, b, &bs, &bl) < 0)
		return -1;
	*cmp = cmp_bytes(as, al, bs, bl);
	return 0;
}

/* A date against anything else: strings are read as dates when they parse. */
static int cmp_date(struct fctx *c, const struct fval *d, const struct fval *o, int *cmp)
{
	int64_t om;
	int dummy;

	switch (o->t) {
	case FV_DATE:
		*cmp = cmp3((double)d->ms, (double)o->ms);
		return 0;
	case FV_BLANK:
		*cmp = 1; /* a date is never blank */
		return 0;
	case FV_STR:
		if (o->len == 0) {
			*cmp = 1;
			return 0;
		}
		if (fdate_parse(o->s, o->len, &om, &dummy) == 0) {
			*cmp = cmp3((double)d->ms, (double)om);
			return 0;
		}
		return cmp_as_text(c, d, o, cmp);
	default:
		*cmp = cmp3((double)d->ms, o->n);
		return 0;
	}
}

int fv_compare(struct fctx *c, const struct fval *a0, const struct fval *b0, int *cmp)
{
	struct fval a, b;
	double x, y;

	if (fv_flatten(c, a0, &a) < 0 || fv_flatten(c, b0, &b) < 0)
		return -1;
	if (a.t == FV_BLANK && b.t == FV_BLANK) {
		*cmp = 0;
		return 0;
	}
	if (a.t == FV_DATE)
		return cmp_date(c, &a, &b, cmp);
	if (b.t == FV_DATE) {
		if (cmp_date(c, &b, &a, cmp) < 0)
			return -1;
		*cmp = -*cmp;
		return 0;
	}
	if (a.t == FV_NUM || a.t == FV_BOOL || b.t == FV_NUM || b.t == FV_BOOL) {
		/* numbers against numbers, blank (0) and numeric text */
		if (fv_to_num(&a, &x) == 0 && fv_to_num(&b, &y) == 0) {
			*cmp = cmp3(x, y);
			return 0;
		}
	}
	return cmp_as_text(c, &a, &b, cmp);
}

static int is_date_type(const char *type)
{
	return type && (strcmp(type, "date") == 0 || strcmp(type, "dateTime") == 0 ||
			strcmp(type, "createdTime") == 0 || strcmp(type, "lastModifiedTime") == 0);
}

/* Text that lives as long as the record (the cell's JSON): no copy. */
static void fv_ref(struct fval *v, const json_t *str)
{
	fv_blank(v);
	v->t = FV_STR;
	v->s = json_string_value(str);
	v->len = json_string_length(str);
}

/* The text an object-valued cell shows in a formula. */
static int object_value(struct fctx *c, const json_t *o, struct fval *out)
{
	const json_t *name = json_object_get(o, "name");
	const json_t *filename = json_object_get(o, "filename");
	const json_t *url = json_object_get(o, "url");
	const json_t *err = json_object_get(o, "error");
	const char *keys[] = {"email", "text", "label", "id"};

	if (json_is_string(err)) {
		fv_err(out, "#ERROR!");
		return 0;
	}
	if (json_is_string(filename)) { /* attachment: "filename (url)" */
		const char *fn = json_string_value(filename);
		const char *u = json_is_string(url) ? json_string_value(url) : "";
		size_t fl = strlen(fn), ul = strlen(u), total;
		char *p;

		if (size_add(fl, ul, &total) != 0 || size_add(total, 3, &total) != 0)
			return serr_set(c->e, "attachment value too long for a formula");
		if (!(p = fctx_alloc(c, total + 1)))
			return -1;
		snprintf(p, total + 1, "%s (%s)", fn, u);
		return fv_str(c, out, p, total);
	}
	if (json_is_string(name)) {
		fv_ref(out, name);
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(o, keys[i]);

		if (json_is_string(v)) {
			fv_ref(out, v);
			return 0;
		}
	}
	fv_blank(out);
	return 0;
}

static int scalar_value(struct fctx *c, const json_t *j, const char *type, struct fval *out)
{
	if (!j || json_is_null(j)) {
		fv_blank(out);
		return 0;
	}
	if (json_is_boolean(j)) {
		fv_bool(out, json_is_true(j));
		return 0;
	}
	if (json_is_number(j)) {
		fv_num(out, json_number_value(j));
		return 0;
	}
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		size_t n = json_string_length(j);
		int64_t ms;
		int date_only;

		if (is_date_type(type) && fdate_parse(s, n, &ms, &date_only) == 0) {
			fv_date(out, ms, date_only || strcmp(type, "date") == 0);
			return 0;
		}
		fv_ref(out, j);
		return 0;
	}
	if (json_is_object(j))
		return object_value(c, j, out);
	fv_blank(out); /* nested arrays have no formula value */
	return 0;
}

int fv_from_json(struct fctx *c, const json_t *j, const char *type, struct fval *out)
{
	struct fval *items;
	size_t n;

	if (!json_is_array(j))
		return scalar_value(c, j, type, out);
	n = json_array_size(j);
	if (n == 0) {
		fv_blank(out);
		return 0;
	}
	if (!(items = fctx_alloc(c, n * sizeof(*items))))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (scalar_value(c, json_array_get(j, i), type, &items[i]) < 0)
			return -1;
	fv_blank(out);
	out->t = FV_ARR;
	out->items = items;
	out->nitems = n;
	return 0;
}

json_t *fv_to_json(const struct fval *v)
{
	char tmp[40];
	json_t *arr;

	switch (v->t) {
	case FV_BLANK: return json_null();
	case FV_BOOL: return json_boolean(v->n != 0);
	case FV_NUM:
		if (v->n == floor(v->n) && fabs(v->n) < 9007199254740992.0)
			return json_integer((json_int_t)v->n);
		return json_real(v->n);
	case FV_STR: return json_stringn(v->s, v->len);
	case FV_DATE:
		fdate_format(v->ms, v->date_only, tmp);
		return json_string(tmp);
	case FV_ERR: return json_pack("{s:s}", "error", v->s);
	case FV_ARR:
		if (!(arr = json_array()))
			return NULL;
		for (size_t i = 0; i < v->nitems; i++) {
			if (json_array_append_new(arr, fv_to_json(&v->items[i])) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	}
	return NULL;
}
