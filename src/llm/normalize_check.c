/*
 * The checks of normalization answers that a JSON schema cannot express
 * (see normalize_check_* in normalize_schema.h): they run after schema
 * validation, so types and required properties are known to be right.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "llm/normalize_schema.h"
#include "llm/schema.h"

#define PROBLEMS_LISTED 6
#define PROBLEMS_MAX_BYTES (2 * SERR_MAX)

/* Problems found so far; the first few are listed, the rest counted. */
struct chk {
	struct buf b;
	int n;
	int listed;
};

static void problem(struct chk *c, const char *fmt, ...) SCOUT_PRINTF(2, 3);

static void problem(struct chk *c, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;

	c->n++;
	if (c->listed >= PROBLEMS_LISTED)
		return;
	if (c->listed > 0)
		rc = buf_puts(&c->b, "; ");
	if (rc == 0) {
		va_start(ap, fmt);
		rc = buf_vprintf(&c->b, fmt, ap);
		va_end(ap);
	}
	c->listed = rc == 0 ? c->listed + 1 : PROBLEMS_LISTED;
}

static void chk_init(struct chk *c)
{
	buf_init(&c->b, PROBLEMS_MAX_BYTES);
	c->n = 0;
	c->listed = 0;
}

static int chk_finish(struct chk *c, serr *e)
{
	int rc = 0;

	if (c->n > c->listed)
		rc = serr_set(e, "%s; and %d more problem%s", buf_cstr(&c->b), c->n - c->listed,
			      c->n - c->listed == 1 ? "" : "s");
	else if (c->n > 0)
		rc = serr_set(e, "%s", buf_cstr(&c->b));
	buf_free(&c->b);
	return rc;
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (!is_space(*s))
			return 0;
	return 1;
}

/* Every string of the answer, wherever it is, within NORMALIZE_MAX_TEXT. */
static void check_lengths(struct chk *c, const json_t *v, struct buf *path, int depth)
{
	size_t saved = path->len, i;
	const char *k;
	json_t *x;

	if (depth > 32)
		return;
	if (json_is_string(v) && json_string_length(v) > NORMALIZE_MAX_TEXT)
		problem(c, "%s: text of %zu bytes is longer than %d bytes", buf_cstr(path),
			json_string_length(v), NORMALIZE_MAX_TEXT);
	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, x) {
			if (buf_printf(path, ".%s", k) == 0)
				check_lengths(c, x, path, depth + 1);
			path->len = saved;
			path->data[saved] = '\0';
		}
	if (json_is_array(v))
		json_array_foreach(v, i, x) {
			if (buf_printf(path, "[%zu]", i) == 0)
				check_lengths(c, x, path, depth + 1);
			path->len = saved;
			path->data[saved] = '\0';
		}
}

static void check_all_lengths(struct chk *c, const json_t *answer)
{
	struct buf path;

	buf_init(&path, 4096);
	if (buf_putc(&path, '$') == 0)
		check_lengths(c, answer, &path, 0);
	else
		problem(c, "$: cannot check text lengths: out of memory");
	buf_free(&path);
}

static void check_timezone(struct chk *c, const char *path, const json_t *tz)
{
	serr te;

	if (json_is_string(tz) && schema_check_timezone(json_string_value(tz), &te) < 0)
		problem(c, "%s: %s", path, te.msg);
}

static int cmp_code(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int normalize_currency_known(const char *code)
{
	/* Active ISO 4217 codes, sorted. */
	static const char *const codes[] = {
		"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
		"BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN",
		"BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF",
		"DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
		"GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
		"IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
		"KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
		"MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
		"NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN",
		"PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
		"SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
		"TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
		"VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
		"ZWG", "ZWL",
	};

	if (!code)
		return 0;
	return bsearch(&code, codes, sizeof(codes) / sizeof(codes[0]), sizeof(codes[0]),
		       cmp_code) != NULL;
}

static void check_range(struct chk *c, const char *path, const json_t *v, double lo, double hi)
{
	if (json_is_number(v) && !(json_number_value(v) >= lo && json_number_value(v) <= hi))
		problem(c, "%s: %.15g is outside %g..%g", path, json_number_value(v), lo, hi);
}

static void check_compensation(struct chk *c, const json_t *comp)
{
	const json_t *min = json_object_get(comp, "min"), *max = json_object_get(comp, "max");
	const json_t *amin = json_object_get(comp, "annual_min_usd");
	const json_t *amax = json_object_get(comp, "annual_max_usd");
	const char *cur = str(comp, "currency");

	if (!json_is_object(comp))
		return;
	if (!normalize_currency_known(cur))
		problem(c, "$.compensation.currency: '%.8s' is not an ISO 4217 currency code",
			cur ? cur : "");
	if (json_is_null(min) && json_is_null(max))
		problem(c, "$.compensation: neither min nor max is stated: make compensation null");
	if (json_is_number(min) && json_is_number(max) &&
	    json_number_value(min) > json_number_value(max))
		problem(c, "$.compensation: min %.15g is above max %.15g", json_number_value(min),
			json_number_value(max));
	if (json_is_number(amin) && json_is_number(amax) &&
	    json_number_value(amin) > json_number_value(amax))
		problem(c, "$.compensation: annual_min_usd %.15g is above annual_max_usd %.15g",
			json_number_value(amin), json_number_value(amax));
	if (json_is_null(min) != json_is_null(amin))
		problem(c, "$.compensation.annual_min_usd: must be null exactly when min is null");
	if (json_is_null(max) != json_is_null(amax))
		problem(c, "$.compensation.annual_max_usd: must be null exactly when max is null");
}

/* A canonical skill name: non-blank, no surrounding spaces, no capitals, short. */
static void check_canonical(struct chk *c, const char *path, const char *can)
{
	size_t len = can ? strlen(can) : 0;

	if (blank(can)) {
		problem(c, "%s: the canonical name is empty", path);
		return;
	}
	if (is_space(can[0]) || is_space(can[len - 1]))
		problem(c, "%s: '%.60s' has surrounding spaces", path, can);
	for (const char *p = can; *p; p++)
		if (*p >= 'A' && *p <= 'Z') {
			problem(c, "%s: '%.60s' is not lowercase", path, can);
			break;
		}
	if (len > NORMALIZE_MAX_NAME)
		problem(c, "%s: '%.40s...' is longer than %d bytes", path, can, NORMALIZE_MAX_NAME);
}

/* The first earlier skill (in a, then b up to index i of list l) with this canonical name. */
static int find_repeat(const json_t *const lists[2], int l, size_t i, const char *can, int *ml,
		       size_t *mj)
{
	for (int m = 0; m <= l; m++) {
		size_t end = m == l ? i : json_array_size(lists[m]);

		for (size_t j = 0; j < end; j++) {
			const char *other = str(json_array_get(lists[m], j), "canonical");

			if (other && strcmp(other, can) == 0) {
				*ml = m;
				*mj = j;
				return 1;
			}
		}
	}
	return 0;
}

/* Skills of one or two arrays: canonical names checked and unique across both. */
static void check_skills(struct chk *c, const json_t *a, const char *aname, const json_t *b,
			 const char *bname)
{
	const json_t *const lists[2] = { a, b };
	const char *names[2] = { aname, bname };
	char path[128];

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < json_array_size(lists[l]); i++) {
			const char *can = str(json_array_get(lists[l], i), "canonical");
			size_t mj;
			int ml;

			snprintf(path, sizeof(path), "$.%s[%zu].canonical", names[l], i);
			check_canonical(c, path, can);
			if (can && find_repeat(lists, l, i, can, &ml, &mj))
				problem(c, "%s: '%.60s' repeats $.%s[%zu]: list each skill once", path,
					can, names[ml], mj);
		}
	}
}

static void check_injection(struct chk *c, const json_t *answer)
{
	if (json_is_true(json_object_get(answer, "prompt_injection_detected")) &&
	    blank(str(answer, "injection_evidence")))
		problem(c, "$.injection_evidence: quote the instruction-like text when "
			   "prompt_injection_detected is true");
}

static int same_number(const json_t *a, const json_t *b, double tol)
{
	if (json_is_null(a) || json_is_null(b) || !a || !b)
		return json_is_null(a) && json_is_null(b);
	return fabs(json_number_value(a) - json_number_value(b)) <= tol;
}

/* An (N) value that must repeat a structured one. */
static void check_same(struct chk *c, const json_t *answer, const char *nkey, const json_t *v,
		       const char *vpath, double tol)
{
	const json_t *n = json_object_get(answer, nkey);
	int same = tol >= 0 ? same_number(n, v, tol) : json_equal((json_t *)n, (json_t *)v);
	char a[96], b[96];

	if (same)
		return;
	schema_describe_value(n, a, sizeof(a));
	schema_describe_value(v, b, sizeof(b));
	problem(c, "$.%s: %s differs from %s %s: give both the same value", nkey, a, vpath, b);
}

/* compensation.<key>, or JSON null when there is no compensation. */
static const json_t *comp_value(const json_t *answer, const char *key)
{
	const json_t *comp = json_object_get(answer, "compensation");

	return json_is_object(comp) ? json_object_get(comp, key) : json_null();
}

static int is_http_link(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

int normalize_check_candidate(const json_t *answer, serr *e)
{
	const json_t *exps = json_object_get(answer, "experiences");
	const json_t *projs = json_object_get(answer, "projects");
	const json_t *loc = json_object_get(answer, "location");
	char path[128];
	struct chk c;

	if (!json_is_object(answer))
		return serr_set(e, "$: the answer is not an object");
	chk_init(&c);
	check_all_lengths(&c, answer);
	check_range(&c, "$.years_of_experience", json_object_get(answer, "years_of_experience"), 0,
		    60);
	check_timezone(&c, "$.location.timezone", json_object_get(loc, "timezone"));
	check_compensation(&c, json_object_get(answer, "compensation"));
	check_skills(&c, json_object_get(answer, "skills"), "skills", NULL, NULL);
	for (size_t i = 0; i < json_array_size(exps); i++) {
		const char *start = str(json_array_get(exps, i), "start");
		const char *end = str(json_array_get(exps, i), "end");

		if (start && end && strcmp(start, end) > 0)
			problem(&c, "$.experiences[%zu]: start %.7s is after end %.7s", i, start, end);
	}
	for (size_t i = 0; i < json_array_size(projs); i++) {
		const char *url = str(json_array_get(projs, i), "url");

		snprintf(path, sizeof(path), "$.projects[%zu].url", i);
		if (url && !is_http_link(url))
			problem(&c, "%s: '%.60s' is not an http(s) link", path, url);
	}
	check_injection(&c, answer);
	if (blank(str(answer, "professional_summary")))
		problem(&c, "$.professional_summary: the summary is empty");
	check_same(&c, answer, "n_seniority_level", json_object_get(answer, "seniority_level"),
		   "$.seniority_level", -1);
	check_same(&c, answer, "n_years_of_experience",
		   json_object_get(answer, "years_of_experience"), "$.years_of_experience", 0.05);
	check_same(&c, answer, "n_compensation_min", comp_value(answer, "annual_min_usd"),
		   "$.compensation.annual_min_usd", 0.5);
	check_same(&c, answer, "n_compensation_max", comp_value(answer, "annual_max_usd"),
		   "$.compensation.annual_max_usd", 0.5);
	check_same(&c, answer, "n_timezone", json_object_get(loc, "timezone"),
		   "$.location.timezone", -1);
	return chk_finish(&c, e);
}

int normalize_check_job(const json_t *answer, serr *e)
{
	struct chk c;

	if (!json_is_object(answer))
		return serr_set(e, "$: the answer is not an object");
	chk_init(&c);
	check_all_lengths(&c, answer);
	check_range(&c, "$.min_years_experience", json_object_get(answer, "min_years_experience"),
		    0, 60);
	check_timezone(&c, "$.timezone", json_object_get(answer, "timezone"));
	check_compensation(&c, json_object_get(answer, "compensation"));
	check_skills(&c, json_object_get(answer, "must_have_skills"), "must_have_skills",
		     json_object_get(answer, "nice_to_have_skills"), "nice_to_have_skills");
	check_injection(&c, answer);
	if (blank(str(answer, "job_title")))
		problem(&c, "$.job_title: the title is empty");
	check_same(&c, answer, "n_seniority_level", json_object_get(answer, "seniority_level"),
		   "$.seniority_level", -1);
	check_same(&c, answer, "n_min_years_experience",
		   json_object_get(answer, "min_years_experience"), "$.min_years_experience", 0.05);
	check_same(&c, answer, "n_salary_min", comp_value(answer, "annual_min_usd"),
		   "$.compensation.annual_min_usd", 0.5);
	check_same(&c, answer, "n_salary_max", comp_value(answer, "annual_max_usd"),
		   "$.compensation.annual_max_usd", 0.5);
	check_same(&c, answer, "n_work_setup", json_object_get(answer, "work_setup"),
		   "$.work_setup", -1);
	check_same(&c, answer, "n_timezone", json_object_get(answer, "timezone"), "$.timezone",
		   -1);
	return chk_finish(&c, e);
}

int normalize_check_fitness(const json_t *answer, const char *const *categories, size_t n,
			    serr *e)
{
	const json_t *fit = json_object_get(answer, "fitness");
	size_t i, j;
	struct chk c;

	if (!json_is_array(fit))
		return serr_set(e, "$.fitness: the answer has no fitness array");
	chk_init(&c);
	check_all_lengths(&c, answer);
	for (i = 0; i < json_array_size(fit); i++) {
		const char *cat = str(json_array_get(fit, i), "category");
		int known = 0;

		for (j = 0; cat && j < n; j++)
			if (categories[j] && strcasecmp(cat, categories[j]) == 0)
				known = 1;
		if (!known)
			problem(&c, "$.fitness[%zu].category: '%.60s' was not asked for", i,
				cat ? cat : "");
		for (j = 0; cat && j < i; j++) {
			const char *prev = str(json_array_get(fit, j), "category");

			if (prev && strcasecmp(prev, cat) == 0) {
				problem(&c, "$.fitness[%zu].category: '%.60s' repeats $.fitness[%zu]",
					i, cat, j);
				break;
			}
		}
	}
	for (j = 0; j < n; j++) {
		int found = 0;

		for (i = 0; categories[j] && i < json_array_size(fit); i++) {
			const char *cat = str(json_array_get(fit, i), "category");

			if (cat && strcasecmp(cat, categories[j]) == 0)
				found = 1;
		}
		if (categories[j] && !found)
			problem(&c, "$.fitness: category '%.60s' has no score", categories[j]);
	}
	return chk_finish(&c, e);
}

static int validate_with(const json_t *schema, const char *name, const json_t *answer, serr *e)
{
	if (!schema)
		return serr_set(e, "cannot build the '%s' schema: out of memory", name);
	return schema_validate(schema, answer, e);
}

int normalize_validate_candidate(void *ud, const json_t *answer, serr *e)
{
	(void)ud;
	if (validate_with(normalize_schema_candidate(), NORMALIZE_SCHEMA_CANDIDATE, answer, e) < 0)
		return -1;
	return normalize_check_candidate(answer, e);
}

int normalize_validate_job(void *ud, const json_t *answer, serr *e)
{
	(void)ud;
	if (validate_with(normalize_schema_job(), NORMALIZE_SCHEMA_JOB, answer, e) < 0)
		return -1;
	return normalize_check_job(answer, e);
}

int normalize_validate_fitness(void *ud, const json_t *answer, serr *e)
{
	const struct normalize_categories *cats = ud;

	if (validate_with(normalize_schema_fitness(), NORMALIZE_SCHEMA_FITNESS, answer, e) < 0)
		return -1;
	return normalize_check_fitness(answer, cats ? cats->names : NULL, cats ? cats->n : 0, e);
}
