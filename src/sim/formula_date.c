/*
 * Date parsing and arithmetic for the formula evaluator, in UTC (the time
 * zone of filterByFormula when the request names none). Units, rounding and
 * month arithmetic follow moment.js, which Airtable's date functions follow:
 * months clamp to the month's last day, diffs truncate toward zero.
 */
#include "sim/formula_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)
/* 0000-01-01 and 9999-12-31T23:59:59.999Z: the range dates may take. */
#define FDATE_MIN_MS (INT64_C(-62167219200000))
#define FDATE_MAX_MS (INT64_C(253402300799999))

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

struct civil {
	int64_t y;
	int mo, d, h, mi, s, ms;
};

static void civil_of(int64_t t, struct civil *c)
{
	int64_t days = floor_div(t, MS_PER_DAY);
	int64_t rest = t - days * MS_PER_DAY;

	civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (int)(rest / 3600000);
	c->mi = (int)(rest / 60000 % 60);
	c->s = (int)(rest / 1000 % 60);
	c->ms = (int)(rest % 1000);
}

/* Milliseconds of a validated civil time; -1 when a part is out of range. */
static int civil_to_ms(const struct civil *c, int64_t offset_min, int64_t *out)
{
	int64_t t;

	if (c->y < 0 || c->y > 9999 || c->mo < 1 || c->mo > 12 || c->d < 1 ||
	    c->d > days_in_month(c->y, c->mo) || c->h < 0 || c->h > 23 || c->mi < 0 || c->mi > 59 ||
	    c->s < 0 || c->s > 59 || c->ms < 0 || c->ms > 999)
		return -1;
	t = days_from_civil(c->y, c->mo, c->d) * MS_PER_DAY + (int64_t)c->h * 3600000 +
	    (int64_t)c->mi * 60000 + (int64_t)c->s * 1000 + c->ms - offset_min * 60000;
	if (t < FDATE_MIN_MS || t > FDATE_MAX_MS)
		return -1;
	*out = t;
	return 0;
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Exactly `count` digits at s[*i]. */
static int fixed_digits(const char *s, size_t n, size_t *i, int count, int *out)
{
	int v = 0;

	if (*i + (size_t)count > n)
		return -1;
	for (int k = 0; k < count; k++) {
		if (!is_digit(s[*i + (size_t)k]))
			return -1;
		v = v * 10 + (s[*i + (size_t)k] - '0');
	}
	*i += (size_t)count;
	*out = v;
	return 0;
}

/* Between 1 and max_count digits at s[*i]. */
static int some_digits(const char *s, size_t n, size_t *i, int max_count, int *out)
{
	int v = 0, k = 0;

	while (*i < n && k < max_count && is_digit(s[*i])) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	if (k == 0)
		return -1;
	*out = v;
	return 0;
}

/* Fraction of a second: any number of digits, milliseconds kept. */
static void fraction_ms(const char *s, size_t n, size_t *i, int *ms)
{
	int scale = 100;

	*ms = 0;
	while (*i < n && is_digit(s[*i])) {
		*ms += (s[*i] - '0') * scale;
		scale /= 10;
		(*i)++;
	}
}

/* "Z", "+HH:MM", "+HHMM" or "+HH" at s[*i]; nothing there is UTC. */
static int zone_offset(const char *s, size_t n, size_t *i, int64_t *off_min)
{
	int oh = 0, om = 0, sign;

	*off_min = 0;
	if (*i >= n)
		return 0;
	if (s[*i] == 'Z' || s[*i] == 'z') {
		(*i)++;
		return 0;
	}
	if (s[*i] != '+' && s[*i] != '-')
		return 0;
	sign = s[*i] == '-' ? -1 : 1;
	(*i)++;
	if (fixed_digits(s, n, i, 2, &oh) < 0)
		return -1;
	if (*i < n && s[*i] == ':')
		(*i)++;
	if (*i < n && is_digit(s[*i]) && fixed_digits(s, n, i, 2, &om) < 0)
		return -1;
	if (oh > 23 || om > 59)
		return -1;
	*off_min = sign * (oh * 60 + om);
	return 0;
}

/* Optional time after a date: [T or space]HH:MM[:SS[.fff]][zone]. */
static int time_part(const char *s, size_t n, size_t *i, struct civil *c, int64_t *off,
		     int *date_only)
{
	*date_only = 1;
	*off = 0;
	if (*i >= n)
		return 0;
	if (s[*i] != 'T' && s[*i] != 't' && s[*i] != ' ')
		return -1;
	(*i)++;
	*date_only = 0;
	if (fixed_digits(s, n, i, 2, &c->h) < 0 || *i >= n || s[*i] != ':')
		return -1;
	(*i)++;
	if (fixed_digits(s, n, i, 2, &c->mi) < 0)
		return -1;
	if (*i < n && s[*i] == ':') {
		(*i)++;
		if (fixed_digits(s, n, i, 2, &c->s) < 0)
			return -1;
		if (*i < n && (s[*i] == '.' || s[*i] == ',')) {
			(*i)++;
			if (*i >= n || !is_digit(s[*i]))
				return -1;
			fraction_ms(s, n, i, &c->ms);
		}
	}
	return zone_offset(s, n, i, off);
}

int fdate_parse(const char *s, size_t n, int64_t *ms, int *date_only)
{
	struct civil c = {0, 1, 1, 0, 0, 0, 0};
	int64_t off = 0;
	size_t i = 0;
	int y = 0, a = 0, b = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (fixed_digits(s, n, &i, 4, &y) == 0 && i < n && (s[i] == '-' || s[i] == '/')) {
		/* YYYY-MM-DD[time] or YYYY/MM/DD[time] */
		char sep = s[i++];

		c.y = y;
		if (some_digits(s, n, &i, 2, &c.mo) < 0 || i >= n || s[i] != sep)
			return -1;
		i++;
		if (some_digits(s, n, &i, 2, &c.d) < 0)
			return -1;
	} else {
		/* M/D/YYYY[ time], the US order Airtable's parser falls back to */
		i = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (some_digits(s, n, &i, 2, &a) < 0 || i >= n || s[i] != '/')
			return -1;
		i++;
		if (some_digits(s, n, &i, 2, &b) < 0 || i >= n || s[i] != '/')
			return -1;
		i++;
		if (fixed_digits(s, n, &i, 4, &y) < 0)
			return -1;
		c.y = y;
		c.mo = a;
		c.d = b;
	}
	if (time_part(s, n, &i, &c, &off, date_only) < 0 || i != n)
		return -1;
	return civil_to_ms(&c, off, ms);
}

static const char *const month_names[12] = {"january", "february", "march",     "april",
					    "may",     "june",     "july",      "august",
					    "september", "october", "november", "december"};

/* A month name or its first three letters, case-insensitively. */
static int month_name(const char *s, size_t n, size_t *i, int *mo)
{
	for (int m = 0; m < 12; m++) {
		size_t full = strlen(month_names[m]);

		if (*i + full <= n && strncasecmp(s + *i, month_names[m], full) == 0) {
			*i += full;
			*mo = m + 1;
			return 0;
		}
		if (*i + 3 <= n && strncasecmp(s + *i, month_names[m], 3) == 0) {
			*i += 3;
			*mo = m + 1;
			return 0;
		}
	}
	return -1;
}

static int fmt_has(const char *f, size_t fn, size_t j, const char *tok)
{
	size_t tl = strlen(tok);

	return j + tl <= fn && memcmp(f + j, tok, tl) == 0;
}

/* Skip separators in the input before a token, as moment's forgiving mode does. */
static void skip_separators(const char *s, size_t n, size_t *i)
{
	while (*i < n && !is_digit(s[*i]) && !((s[*i] | 0x20) >= 'a' && (s[*i] | 0x20) <= 'z') &&
	       s[*i] != '+' && s[*i] != '-')
		(*i)++;
}

/* Parse a whole number of seconds or milliseconds since the epoch. */
static int epoch_number(const char *s, size_t n, size_t *i, int64_t scale, int64_t *out)
{
	int64_t v = 0;
	int neg = 0, k = 0;

	if (*i < n && s[*i] == '-') {
		neg = 1;
		(*i)++;
	}
	while (*i < n && is_digit(s[*i]) && k < 15) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	if (k == 0)
		return -1;
	if (scale == 1000 && *i < n && s[*i] == '.') {
		int frac;

		(*i)++;
		fraction_ms(s, n, i, &frac);
		v = v * 1000 + frac;
		scale = 1;
	}
	v *= scale;
	*out = neg ? -v : v;
	return *out < FDATE_MIN_MS || *out > FDATE_MAX_MS ? -1 : 0;
}

int fdate_parse_format(const char *s, size_t n, const char *f, size_t fn, int64_t *ms)
{
	struct civil c = {1970, 1, 1, 0, 0, 0, 0};
	int64_t off = 0;
	size_t i = 0, j = 0;
	int pm = -1, h12 = 0, v;

	while (j < fn) {
		if (f[j] == '[') { /* [literal text] */
			size_t end = j + 1;

			while (end < fn && f[end] != ']')
				end++;
			if (i + (end - j - 1) > n || memcmp(s + i, f + j + 1, end - j - 1) != 0)
				return -1;
			i += end - j - 1;
			j = end < fn ? end + 1 : end;
			continue;
		}
		if (fmt_has(f, fn, j, "X") || fmt_has(f, fn, j, "x")) {
			int64_t t;

			skip_separators(s, n, &i);
			if (epoch_number(s, n, &i, f[j] == 'X' ? 1000 : 1, &t) < 0)
				return -1;
			*ms = t;
			return 0;
		}
		if (!((f[j] | 0x20) >= 'a' && (f[j] | 0x20) <= 'z')) {
			if (i < n && s[i] == f[j])
				i++;
			j++;
			continue;
		}
		skip_separators(s, n, &i);
		if (fmt_has(f, fn, j, "YYYY")) {
			if (some_digits(s, n, &i, 4, &v) < 0)
				return -1;
			c.y = v;
			j += 4;
		} else if (fmt_has(f, fn, j, "YY")) {
			if (fixed_digits(s, n, &i, 2, &v) < 0)
				return -1;
			c.y = v > 68 ? 1900 + v : 2000 + v;
			j += 2;
		} else if (fmt_has(f, fn, j, "MMMM") || fmt_has(f, fn, j, "MMM")) {
			if (month_name(s, n, &i, &c.mo) < 0)
				return -1;
			j += fmt_has(f, fn, j, "MMMM") ? 4 : 3;
		} else if (f[j] == 'M' || f[j] == 'D' || f[j] == 'H' || f[j] == 'h' || f[j] == 'm' ||
			   f[j] == 's') {
			char tok = f[j];

			if (some_digits(s, n, &i, 2, &v) < 0)
				return -1;
			j += fmt_has(f, fn, j + 1, (char[]){tok, '\0'}) ? 2 : 1;
			if (tok == 'D' && fmt_has(f, fn, j, "o")) { /* Do: 1st, 2nd */
				j++;
				if (i + 2 <= n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
					i += 2;
			}
			switch (tok) {
			case 'M': c.mo = v; break;
			case 'D': c.d = v; break;
			case 'H': c.h = v; break;
			case 'h': c.h = v; h12 = 1; break;
			case 'm': c.mi = v; break;
			default: c.s = v; break;
			}
		} else if (f[j] == 'S') {
			while (j < fn && f[j] == 'S')
				j++;
			if (i >= n || !is_digit(s[i]))
				return -1;
			fraction_ms(s, n, &i, &c.ms);
		} else if (f[j] == 'A' || f[j] == 'a') {
			if (i + 2 > n || (s[i + 1] | 0x20) != 'm')
				return -1;
			if ((s[i] | 0x20) == 'a')
				pm = 0;
			else if ((s[i] | 0x20) == 'p')
				pm = 1;
			else
				return -1;
			i += 2;
			j++;
		} else if (f[j] == 'Z') {
			j += fmt_has(f, fn, j, "ZZ") ? 2 : 1;
			if (zone_offset(s, n, &i, &off) < 0)
				return -1;
		} else {
			return -1; /* a format token this evaluator does not know */
		}
	}
	if (h12) {
		if (c.h < 1 || c.h > 12)
			return -1;
		if (pm == 1 && c.h < 12)
			c.h += 12;
		else if (pm == 0 && c.h == 12)
			c.h = 0;
	} else if (pm == 1 && c.h < 12) {
		c.h += 12;
	}
	return civil_to_ms(&c, off, ms);
}

void fdate_format(int64_t ms, int date_only, char out[40])
{
	struct civil c;

	civil_of(ms, &c);
	if (date_only)
		snprintf(out, 40, "%04lld-%02d-%02d", (long long)c.y, c.mo, c.d);
	else
		snprintf(out, 40, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)c.y, c.mo,
			 c.d, c.h, c.mi, c.s, c.ms);
}

int fdate_unit_parse(const char *s, size_t n)
{
	static const struct {
		const char *shortname, *name;
		enum fdate_unit u;
	} units[] = {
		{"ms", "millisecond", FU_MS}, {"s", "second", FU_SECOND}, {"m", "minute", FU_MINUTE},
		{"h", "hour", FU_HOUR},       {"d", "day", FU_DAY},       {"w", "week", FU_WEEK},
		{"M", "month", FU_MONTH},     {"Q", "quarter", FU_QUARTER}, {"y", "year", FU_YEAR},
	};

	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		size_t ln = strlen(units[k].name);

		if (n == strlen(units[k].shortname) && memcmp(s, units[k].shortname, n) == 0)
			return (int)units[k].u;
		if ((n == ln || (n == ln + 1 && (s[ln] | 0x20) == 's')) &&
		    strncasecmp(s, units[k].name, ln) == 0)
			return (int)units[k].u;
	}
	return -1;
}

static int add_months(int64_t t, int64_t months, int64_t *out)
{
	struct civil c;
	int64_t total;

	if (months > 120000 || months < -120000)
		return -1;
	civil_of(t, &c);
	total = c.y * 12 + (c.mo - 1) + months;
	c.y = floor_div(total, 12);
	c.mo = (int)(total - c.y * 12) + 1;
	if (c.y < 0 || c.y > 9999)
		return -1;
	if (c.d > days_in_month(c.y, c.mo))
		c.d = days_in_month(c.y, c.mo);
	return civil_to_ms(&c, 0, out);
}

/* moment rounds fractional day and month counts (Math.round). */
static int64_t js_round(double x)
{
	return (int64_t)floor(x + 0.5);
}

int fdate_add(int64_t ms, double count, enum fdate_unit u, int64_t *out)
{
	static const double unit_ms[] = {1, 1000, 60000, 3600000};
	double t;

	if (!isfinite(count) || fabs(count) > 1e15)
		return -1;
	switch (u) {
	case FU_MS:
	case FU_SECOND:
	case FU_MINUTE:
	case FU_HOUR:
		t = (double)ms + count * unit_ms[u];
		break;
	case FU_DAY:
	case FU_WEEK:
		t = (double)ms + (double)js_round(u == FU_WEEK ? count * 7 : count) * MS_PER_DAY;
		break;
	case FU_MONTH:
		return add_months(ms, js_round(count), out);
	case FU_QUARTER:
		return add_months(ms, js_round(count * 3), out);
	default:
		return add_months(ms, js_round(count * 12), out);
	}
	if (t < (double)FDATE_MIN_MS || t > (double)FDATE_MAX_MS)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* moment's monthDiff(a, b): fractional months from a to b, negated. */
static double month_diff(int64_t a, int64_t b)
{
	struct civil ca, cb;
	int64_t whole, anchor, anchor2;
	double adjust;

	civil_of(a, &ca);
	civil_of(b, &cb);
	if (ca.d < cb.d)
		return -month_diff(b, a);
	whole = (cb.y - ca.y) * 12 + (cb.mo - ca.mo);
	if (add_months(a, whole, &anchor) < 0)
		return 0;
	if (b - anchor < 0) {
		if (add_months(a, whole - 1, &anchor2) < 0 || anchor == anchor2)
			return 0;
		adjust = (double)(b - anchor) / (double)(anchor - anchor2);
	} else {
		if (add_months(a, whole + 1, &anchor2) < 0 || anchor2 == anchor)
			return 0;
		adjust = (double)(b - anchor) / (double)(anchor2 - anchor);
	}
	return -((double)whole + adjust);
}

double fdate_diff(int64_t a, int64_t b, enum fdate_unit u)
{
	double d = (double)(a - b), r;

	switch (u) {
	case FU_MS: r = d; break;
	case FU_SECOND: r = d / 1e3; break;
	case FU_MINUTE: r = d / 6e4; break;
	case FU_HOUR: r = d / 36e5; break;
	case FU_DAY: r = d / 864e5; break;
	case FU_WEEK: r = d / 6048e5; break;
	case FU_MONTH: r = month_diff(a, b); break;
	case FU_QUARTER: r = month_diff(a, b) / 3; break;
	default: r = month_diff(a, b) / 12; break;
	}
	r = r < 0 ? ceil(r) : floor(r);
	return r == 0 ? 0 : r; /* no negative zero */
}

int64_t fdate_start_of(int64_t ms, enum fdate_unit u)
{
	struct civil c;
	int64_t days;

	switch (u) {
	case FU_MS: return ms;
	case FU_SECOND: return floor_div(ms, 1000) * 1000;
	case FU_MINUTE: return floor_div(ms, 60000) * 60000;
	case FU_HOUR: return floor_div(ms, 3600000) * 3600000;
	case FU_DAY: return floor_div(ms, MS_PER_DAY) * MS_PER_DAY;
	case FU_WEEK:
		days = floor_div(ms, MS_PER_DAY);
		/* 1970-01-01 was a Thursday (4); weeks start on Sunday (0) */
		return (days - ((days % 7 + 7 + 4) % 7)) * MS_PER_DAY;
	default:
		break;
	}
	civil_of(ms, &c);
	if (u == FU_QUARTER)
		c.mo = (c.mo - 1) / 3 * 3 + 1;
	else if (u == FU_YEAR)
		c.mo = 1;
	return days_from_civil(c.y, c.mo, 1) * MS_PER_DAY;
}
