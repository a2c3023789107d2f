/*
 * The functions of the formula evaluator, as Airtable's formula field
 * reference documents them: logical, record, date, text, array and numeric
 * functions. A function gets its arguments evaluated (errors already passed
 * through unless it keeps them) and writes one value; it returns -1 only
 * when a limit is hit or memory runs out, and #ERROR! for bad input.
 */
#include "sim/formula_internal.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"

#define MS_PER_DAY INT64_C(86400000)

/* Text of an argument, or an error value when it has none. */
#define ARG_STR(i, sp, lp)                                                   \
	do {                                                                 \
		if (fv_to_str(c, &args[i], (sp), (lp)) < 0)                  \
			return -1;                                           \
	} while (0)
#define ARG_NUM(i, xp)                                                       \
	do {                                                                 \
		if (fv_to_num(&args[i], (xp)) != 0) {                        \
			fv_err(out, "#ERROR!");                              \
			return 0;                                            \
		}                                                            \
	} while (0)

/* ------------------------------------------------------------ logical */

static int fn_and(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int all = 1;

	for (size_t i = 0; i < n; i++)
		all = all && fv_truthy(&args[i]);
	fv_bool(out, all);
	return 0;
}

static int fn_or(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int any = 0;

	for (size_t i = 0; i < n; i++)
		any = any || fv_truthy(&args[i]);
	fv_bool(out, any);
	return 0;
}

static int fn_xor(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int odd = 0;

	for (size_t i = 0; i < n; i++)
		odd ^= fv_truthy(&args[i]);
	fv_bool(out, odd);
	return 0;
}

static int fn_not(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_bool(out, !fv_truthy(&args[0]));
	return 0;
}

static int fn_true(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_bool(out, 1);
	return 0;
}

static int fn_false(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_bool(out, 0);
	return 0;
}

static int fn_blank(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_blank(out);
	return 0;
}

static int fn_error(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_err(out, "#ERROR!");
	return 0;
}

static int fn_iserror(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_bool(out, args[0].t == FV_ERR);
	return 0;
}

/* IF(expression, value1, [value2]): only an error in the condition propagates. */
static int fn_if(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	if (args[0].t == FV_ERR)
		*out = args[0];
	else if (fv_truthy(&args[0]))
		*out = args[1];
	else if (n > 2)
		*out = args[2];
	else
		fv_blank(out);
	return 0;
}

/* SWITCH(expression, pattern, result, ..., [default]) with = semantics. */
static int fn_switch(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	size_t i;
	int cmp;

	if (args[0].t == FV_ERR) {
		*out = args[0];
		return 0;
	}
	for (i = 1; i + 1 < n; i += 2) {
		if (args[i].t == FV_ERR)
			continue;
		if (fv_compare(c, &args[0], &args[i], &cmp) < 0)
			return -1;
		if (cmp == 0) {
			*out = args[i + 1];
			return 0;
		}
	}
	if (i < n)
		*out = args[i]; /* the default */
	else
		fv_blank(out);
	return 0;
}

/* ------------------------------------------------------------- record */

static int fn_record_id(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *id = c->r->id ? c->r->id : "";

	return fv_str(c, out, id, strlen(id));
}

static int fn_created_time(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_date(out, c->r->created_ms, 0);
	return 0;
}

/* --------------------------------------------------------------- dates */

static int fn_now(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_date(out, c->r->now_ms, 0);
	return 0;
}

static int fn_today(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	fv_date(out, fdate_start_of(c->r->now_ms, FU_DAY), 1);
	return 0;
}

/* Two dates for a comparison; 1 with *out set when either is blank or bad. */
static int two_dates(const struct fval *args, int64_t *a, int64_t *b, struct fval *out)
{
	int da, db, ra = fv_to_date(&args[0], a, &da), rb = fv_to_date(&args[1], b, &db);

	if (ra == 2 || rb == 2) {
		fv_err(out, "#ERROR!");
		return 1;
	}
	if (ra == 1 || rb == 1) {
		fv_bool(out, 0);
		return 1;
	}
	return 0;
}

static int fn_is_after(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int64_t a, b;

	if (two_dates(args, &a, &b, out) == 0)
		fv_bool(out, a > b);
	return 0;
}

static int fn_is_before(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int64_t a, b;

	if (two_dates(args, &a, &b, out) == 0)
		fv_bool(out, a < b);
	return 0;
}

/* A unit argument; an unknown unit falls back to `fallback`, as moment does. */
static enum fdate_unit unit_arg(struct fctx *c, const struct fval *args, size_t n, size_t i,
				enum fdate_unit absent, enum fdate_unit fallback, int *rc)
{
	const char *s;
	size_t len;
	int u;

	*rc = 0;
	if (i >= n || fv_is_empty(&args[i]))
		return absent;
	if (fv_to_str(c, &args[i], &s, &len) < 0) {
		*rc = -1;
		return absent;
	}
	u = fdate_unit_parse(s, len);
	return u < 0 ? fallback : (enum fdate_unit)u;
}

static int fn_is_same(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int64_t a, b;
	int rc;
	enum fdate_unit u = unit_arg(c, args, n, 2, FU_MS, FU_MS, &rc);

	if (rc < 0)
		return -1;
	if (two_dates(args, &a, &b, out) == 0)
		fv_bool(out, fdate_start_of(a, u) == fdate_start_of(b, u));
	return 0;
}

static int fn_datetime_parse(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s, *fmt;
	size_t len, flen;
	int64_t ms;
	int date_only = 0;

	if (args[0].t == FV_DATE) {
		*out = args[0];
		return 0;
	}
	if (fv_is_empty(&args[0])) {
		fv_blank(out);
		return 0;
	}
	ARG_STR(0, &s, &len);
	if (n > 1 && !fv_is_empty(&args[1])) {
		ARG_STR(1, &fmt, &flen);
		if (fdate_parse_format(s, len, fmt, flen, &ms) == 0) {
			fv_date(out, ms, 0);
			return 0;
		}
	} else if (fdate_parse(s, len, &ms, &date_only) == 0) {
		fv_date(out, ms, date_only);
		return 0;
	}
	fv_err(out, "#ERROR!");
	return 0;
}

/* DATETIME_DIFF(date1, date2, [unit]): date1 - date2, seconds by default. */
static int fn_datetime_diff(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int64_t a, b;
	int da, db, ra, rb, rc;
	enum fdate_unit u = unit_arg(c, args, n, 2, FU_SECOND, FU_MS, &rc);

	if (rc < 0)
		return -1;
	ra = fv_to_date(&args[0], &a, &da);
	rb = fv_to_date(&args[1], &b, &db);
	if (ra == 2 || rb == 2)
		fv_err(out, "#ERROR!");
	else if (ra == 1 || rb == 1)
		fv_blank(out);
	else
		fv_num(out, fdate_diff(a, b, u));
	return 0;
}

static int fn_dateadd(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	int64_t ms, res;
	int date_only, r;
	double count;
	const char *us;
	size_t ul;
	int u;

	r = fv_to_date(&args[0], &ms, &date_only);
	if (r == 1) {
		fv_blank(out);
		return 0;
	}
	if (r == 2) {
		fv_err(out, "#ERROR!");
		return 0;
	}
	ARG_NUM(1, &count);
	ARG_STR(2, &us, &ul);
	u = fdate_unit_parse(us, ul);
	if (u < 0) { /* moment ignores an unknown unit */
		fv_date(out, ms, date_only);
		return 0;
	}
	if (fdate_add(ms, count, (enum fdate_unit)u, &res) < 0) {
		fv_err(out, "#ERROR!");
		return 0;
	}
	fv_date(out, res, date_only && u >= FU_DAY);
	return 0;
}

/* ---------------------------------------------------------------- text */

/* Code points in s[0..len) (UTF-8; stray bytes count as one each). */
static size_t cp_count(const char *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* Byte offset of code point number k (len when past the end). */
static size_t cp_offset(const char *s, size_t len, size_t k)
{
	size_t i = 0;

	while (i < len && k > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* A count argument as a whole number >= 0 (fractions truncated). */
static size_t count_of(double x)
{
	if (!(x > 0))
		return 0;
	if (x > (double)FORMULA_MAX_STRING)
		return FORMULA_MAX_STRING;
	return (size_t)x;
}

static int find_impl(struct fctx *c, const struct fval *args, size_t n, struct fval *out,
		     int blank_when_missing)
{
	const char *needle, *hay, *hit;
	size_t nl, hl, from = 0, off;
	double start = 0;

	ARG_STR(0, &needle, &nl);
	ARG_STR(1, &hay, &hl);
	if (n > 2)
		ARG_NUM(2, &start);
	from = count_of(start);
	off = cp_offset(hay, hl, from);
	hit = nl == 0 ? hay + off : memmem(hay + off, hl - off, needle, nl);
	if (hit)
		fv_num(out, (double)cp_count(hay, (size_t)(hit - hay)) + 1);
	else if (blank_when_missing)
		fv_blank(out);
	else
		fv_num(out, 0);
	return 0;
}

/* FIND(stringToFind, whereToSearch, [startFromPosition]): 1-based, 0 when missing. */
static int fn_find(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return find_impl(c, args, n, out, 0);
}

/* SEARCH: as FIND, but blank when missing. */
static int fn_search(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return find_impl(c, args, n, out, 1);
}

static int fn_len(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len;

	ARG_STR(0, &s, &len);
	fv_num(out, (double)cp_count(s, len));
	return 0;
}

/* ASCII letters change case; other characters stay as they are. */
static int change_case(struct fctx *c, const struct fval *args, struct fval *out, int upper)
{
	const char *s;
	size_t len;
	char *p;

	ARG_STR(0, &s, &len);
	if (!(p = fctx_strdup(c, s, len)))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (upper && p[i] >= 'a' && p[i] <= 'z')
			p[i] = (char)(p[i] - 'a' + 'A');
		else if (!upper && p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] - 'A' + 'a');
	}
	fv_blank(out);
	out->t = FV_STR;
	out->s = p;
	out->len = len;
	return 0;
}

static int fn_lower(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return change_case(c, args, out, 0);
}

static int fn_upper(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return change_case(c, args, out, 1);
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static int fn_trim(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len, a = 0;

	ARG_STR(0, &s, &len);
	while (a < len && is_space(s[a]))
		a++;
	while (len > a && is_space(s[len - 1]))
		len--;
	return fv_str(c, out, s + a, len - a);
}

static int fn_concatenate(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char **parts = fctx_alloc(c, n * sizeof(*parts));
	size_t *lens = fctx_alloc(c, n * sizeof(*lens)), total = 0;
	char *p;

	if (!parts || !lens)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ARG_STR(i, &parts[i], &lens[i]);
		total += lens[i];
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
	for (size_t i = 0; i < n; i++) {
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	*p = '\0';
	return 0;
}

static int fn_left(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len;
	double k;

	ARG_STR(0, &s, &len);
	ARG_NUM(1, &k);
	return fv_str(c, out, s, cp_offset(s, len, count_of(k)));
}

static int fn_right(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len, total, k, off;
	double x;

	ARG_STR(0, &s, &len);
	ARG_NUM(1, &x);
	total = cp_count(s, len);
	k = count_of(x);
	off = k >= total ? 0 : cp_offset(s, len, total - k);
	return fv_str(c, out, s + off, len - off);
}

/* MID(string, whereToStart, count): whereToStart counts from 0, as documented. */
static int fn_mid(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len, a, b;
	double start, count;

	ARG_STR(0, &s, &len);
	ARG_NUM(1, &start);
	ARG_NUM(2, &count);
	a = cp_offset(s, len, count_of(start));
	b = a + cp_offset(s + a, len - a, count_of(count));
	return fv_str(c, out, s + a, b - a);
}

/* SUBSTITUTE(string, old_text, new_text, [index]): all, or only the index-th. */
static int fn_substitute(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s, *old, *rep;
	size_t len, ol, rl, i = 0, seen = 0, want = 0;
	struct buf b;
	int rc = -1, built = 0;
	double idx;

	ARG_STR(0, &s, &len);
	ARG_STR(1, &old, &ol);
	ARG_STR(2, &rep, &rl);
	if (n > 3) {
		ARG_NUM(3, &idx);
		want = count_of(idx);
		if (want == 0) {
			fv_err(out, "#ERROR!");
			return 0;
		}
	}
	if (ol == 0)
		return fv_str(c, out, s, len);
	buf_init(&b, FORMULA_MAX_STRING);
	while (i < len) {
		const char *hit = memmem(s + i, len - i, old, ol);
		size_t at;
		int keep;

		if (!hit)
			break;
		at = (size_t)(hit - s);
		seen++;
		keep = want != 0 && seen != want;
		if (buf_append(&b, s + i, at - i) < 0 ||
		    buf_append(&b, keep ? old : rep, keep ? ol : rl) < 0)
			goto out;
		i = at + ol;
	}
	if (buf_append(&b, s + i, len - i) < 0)
		goto out;
	built = 1;
	rc = fv_str(c, out, buf_cstr(&b), b.len);
out:
	if (!built && b.overflow)
		serr_set(c->e, "formula produced a text longer than %d bytes", FORMULA_MAX_STRING);
	else if (!built)
		serr_set(c->e, "out of memory evaluating SUBSTITUTE");
	buf_free(&b);
	return rc;
}

/* VALUE(text): the number in a text, currency signs and thousands separators dropped. */
static int fn_value(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *s;
	size_t len, k = 0;
	char tmp[64];
	int digits = 0;
	double x;

	if (args[0].t == FV_NUM || args[0].t == FV_BOOL) {
		fv_num(out, args[0].n);
		return 0;
	}
	ARG_STR(0, &s, &len);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == 'e' || ch == 'E'))
			continue;
		if ((ch == 'e' || ch == 'E') && !digits)
			continue;
		if (k + 1 >= sizeof(tmp)) {
			fv_err(out, "#ERROR!");
			return 0;
		}
		digits += ch >= '0' && ch <= '9';
		tmp[k++] = ch;
	}
	tmp[k] = '\0';
	if (!digits) {
		fv_blank(out);
		return 0;
	}
	if (parse_double(tmp, &x) != 0)
		fv_err(out, "#ERROR!");
	else
		fv_num(out, x);
	return 0;
}

/* T(value): the value when it is text, blank otherwise. */
static int fn_t(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	if (args[0].t == FV_STR)
		*out = args[0];
	else
		fv_blank(out);
	return 0;
}

/* --------------------------------------------------------------- arrays */

static int fn_arrayjoin(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	const char *sep = ", ", *part;
	size_t sl = 2, pl;
	struct buf b;
	int rc = -1;

	if (n > 1)
		ARG_STR(1, &sep, &sl);
	if (args[0].t != FV_ARR) {
		ARG_STR(0, &part, &pl);
		return fv_str(c, out, part, pl);
	}
	buf_init(&b, FORMULA_MAX_STRING);
	for (size_t i = 0; i < args[0].nitems; i++) {
		if (fv_to_str(c, &args[0].items[i], &part, &pl) < 0)
			goto out;
		if ((i && buf_append(&b, sep, sl) < 0) || buf_append(&b, part, pl) < 0) {
			serr_set(c->e, "formula produced a text longer than %d bytes",
				 FORMULA_MAX_STRING);
			goto out;
		}
	}
	rc = fv_str(c, out, buf_cstr(&b), b.len);
out:
	buf_free(&b);
	return rc;
}

static int fn_counta(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		if (args[i].t == FV_ARR) {
			for (size_t k = 0; k < args[i].nitems; k++)
				count += !fv_is_empty(&args[i].items[k]);
		} else {
			count += !fv_is_empty(&args[i]);
		}
	}
	fv_num(out, (double)count);
	return 0;
}

/* --------------------------------------------------------------- numbers */

static int fn_int(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	double x;

	ARG_NUM(0, &x);
	fv_num(out, floor(x));
	return 0;
}

static int fn_abs(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	double x;

	ARG_NUM(0, &x);
	fv_num(out, fabs(x));
	return 0;
}

/* ROUND(value, precision): ties toward positive infinity, as documented. */
static int fn_round(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	double x, prec = 0, scale;

	ARG_NUM(0, &x);
	if (n > 1)
		ARG_NUM(1, &prec);
	prec = trunc(prec);
	if (prec > 15 || prec < -15) {
		fv_num(out, prec > 0 ? x : 0);
		return 0;
	}
	scale = pow(10, prec);
	fv_num(out, floor(x * scale + 0.5) / scale);
	return 0;
}

/* MAX/MIN over numbers and arrays of numbers; blanks and text are skipped. */
static int extreme(const struct fval *args, size_t n, struct fval *out, int want_max)
{
	double best = 0, x;
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fval *items = args[i].t == FV_ARR ? args[i].items : &args[i];
		size_t count = args[i].t == FV_ARR ? args[i].nitems : 1;

		for (size_t k = 0; k < count; k++) {
			if (items[k].t != FV_NUM && items[k].t != FV_BOOL && items[k].t != FV_STR)
				continue;
			if ((items[k].t == FV_STR && items[k].len == 0) || fv_to_num(&items[k], &x) != 0)
				continue;
			if (!any || (want_max ? x > best : x < best))
				best = x;
			any = 1;
		}
	}
	fv_num(out, best);
	return 0;
}

static int fn_max(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return extreme(args, n, out, 1);
}

static int fn_min(struct fctx *c, const struct fval *args, size_t n, struct fval *out)
{
	return extreme(args, n, out, 0);
}

/* ---------------------------------------------------------------- table */

#define ANY (-1)

static const struct ffunc funcs[] = {
	{"AND", 1, ANY, 0, fn_and},
	{"OR", 1, ANY, 0, fn_or},
	{"XOR", 1, ANY, 0, fn_xor},
	{"NOT", 1, 1, 0, fn_not},
	{"IF", 2, 3, FF_KEEP_ERRORS, fn_if},
	{"SWITCH", 2, ANY, FF_KEEP_ERRORS, fn_switch},
	{"TRUE", 0, 0, 0, fn_true},
	{"FALSE", 0, 0, 0, fn_false},
	{"BLANK", 0, 0, 0, fn_blank},
	{"ERROR", 0, 0, 0, fn_error},
	{"ISERROR", 1, 1, FF_KEEP_ERRORS, fn_iserror},
	{"RECORD_ID", 0, 0, 0, fn_record_id},
	{"CREATED_TIME", 0, 0, 0, fn_created_time},
	{"LAST_MODIFIED_TIME", 0, ANY, FF_FIELDS_ONLY, NULL},
	{"NOW", 0, 0, 0, fn_now},
	{"TODAY", 0, 0, 0, fn_today},
	{"IS_AFTER", 2, 2, 0, fn_is_after},
	{"IS_BEFORE", 2, 2, 0, fn_is_before},
	{"IS_SAME", 2, 3, 0, fn_is_same},
	{"DATETIME_PARSE", 1, 3, 0, fn_datetime_parse},
	{"DATETIME_DIFF", 2, 3, 0, fn_datetime_diff},
	{"DATEADD", 3, 3, 0, fn_dateadd},
	{"FIND", 2, 3, 0, fn_find},
	{"SEARCH", 2, 3, 0, fn_search},
	{"LEN", 1, 1, 0, fn_len},
	{"LOWER", 1, 1, 0, fn_lower},
	{"UPPER", 1, 1, 0, fn_upper},
	{"TRIM", 1, 1, 0, fn_trim},
	{"CONCATENATE", 1, ANY, 0, fn_concatenate},
	{"LEFT", 2, 2, 0, fn_left},
	{"RIGHT", 2, 2, 0, fn_right},
	{"MID", 3, 3, 0, fn_mid},
	{"SUBSTITUTE", 3, 4, 0, fn_substitute},
	{"VALUE", 1, 1, 0, fn_value},
	{"T", 1, 1, 0, fn_t},
	{"ARRAYJOIN", 1, 2, 0, fn_arrayjoin},
	{"COUNTA", 1, ANY, 0, fn_counta},
	{"INT", 1, 1, 0, fn_int},
	{"ROUND", 1, 2, 0, fn_round},
	{"ABS", 1, 1, 0, fn_abs},
	{"MAX", 1, ANY, 0, fn_max},
	{"MIN", 1, ANY, 0, fn_min},
};

const struct ffunc *ffunc_find(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strlen(funcs[i].name) == n && strncasecmp(funcs[i].name, name, n) == 0)
			return &funcs[i];
	return NULL;
}
