/*
 * The pure half of the sync-back: (N) cell values from a normalized answer
 * and, per record, which cells to write and which a person edited (see
 * syncback.h). No I/O, so the rule that protects recruiters' edits is
 * checked in one place.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "pipeline/syncback.h"
#include "store/airtable_writes.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const work_setups[] = { "remote", "hybrid", "onsite" };
static const char *const verification[] = { SYNCBACK_UNVERIFIED, SYNCBACK_VERIFIED };

/*
 * Known by the column's entry, not its name: the name is the recruiters'
 * to choose (field.talent_n.*, field.job_n.*), the options are scout's.
 */
const char *const *syncback_select_choices(const struct normalize_n_field *nf, size_t *n)
{
	*n = 0;
	if (!nf || strcmp(nf->airtable_type, "singleSelect") != 0)
		return NULL;
	if (!nf->property) {
		/* scout's own select: (N) Verification Status */
		*n = COUNT(verification);
		return verification;
	}
	if (strcmp(nf->property, "n_seniority_level") == 0) {
		*n = normalize_seniority_count;
		return normalize_seniority_levels;
	}
	if (strcmp(nf->property, "n_work_setup") == 0) {
		*n = COUNT(work_setups);
		return work_setups;
	}
	return NULL;
}

/* Years keep a decimal (7.5 years), money is whole. */
int syncback_number_precision(const struct normalize_n_field *nf)
{
	return nf && nf->property && strstr(nf->property, "years") ? 1 : 0;
}

/*
 * Airtable keeps text as sent, but a single-line cell holds no line
 * breaks and surrounding blanks only make a later comparison fail: the
 * value written is the value read back.
 */
static json_t *text_cell(const char *s, int single_line)
{
	struct buf b;
	size_t n = strlen(s);
	json_t *v = NULL;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return json_null();
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		if (single_line && (c == '\n' || c == '\r' || c == '\t'))
			c = ' ';
		if (buf_putc(&b, c) < 0)
			goto out;
	}
	v = json_stringn(b.data ? b.data : "", b.len);
out:
	buf_free(&b);
	return v;
}

static json_t *number_cell(double d, int precision)
{
	double scale = precision > 0 ? pow(10, precision) : 1;
	double r = round(d * scale) / scale;

	if (r == floor(r) && fabs(r) < 9e15)
		return json_integer((json_int_t)r);
	return json_real(r);
}

json_t *syncback_cell(const struct config *cfg, const struct normalize_n_field *nf,
		      const json_t *value, serr *e)
{
	const char *type = nf->airtable_type, *col = normalize_n_column(cfg, nf);
	json_t *v;

	if (!value || json_is_null(value))
		return json_null();
	if (strcmp(type, "number") == 0) {
		if (!json_is_number(value)) {
			serr_set(e, "cannot map '%s' to '%s': a number column needs a number",
				 nf->property ? nf->property : "", col);
			return NULL;
		}
		return number_cell(json_number_value(value), syncback_number_precision(nf));
	}
	if (!json_is_string(value)) {
		serr_set(e, "cannot map '%s' to '%s': a %s column needs text",
			 nf->property ? nf->property : "", col, type);
		return NULL;
	}
	if (strcmp(type, "singleSelect") == 0) {
		size_t n;
		const char *const *choices = syncback_select_choices(nf, &n);
		const char *s = json_string_value(value);

		if (!*s)
			return json_null();
		for (size_t i = 0; i < n; i++)
			if (strcmp(choices[i], s) == 0)
				return json_string(s);
		serr_set(e, "cannot map '%.60s' to '%s': not one of the column's options", s, col);
		return NULL;
	}
	v = text_cell(json_string_value(value), strcmp(type, "singleLineText") == 0);
	if (!v)
		serr_set(e, "cannot map '%s' to '%s': out of memory",
			 nf->property ? nf->property : "", col);
	return v;
}

void syncback_plan_init(struct syncback_plan *p)
{
	p->write = NULL;
	p->edits = NULL;
}

void syncback_plan_free(struct syncback_plan *p)
{
	json_decref(p->write);
	json_decref(p->edits);
	syncback_plan_init(p);
}

static int is_empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

int syncback_plan_record(const struct config *cfg, const struct normalize_n_field *nf, size_t n,
			 const json_t *normalized, const json_t *current, const json_t *written,
			 struct syncback_plan *out, serr *e)
{
	int rc = -1;

	syncback_plan_free(out);
	out->write = json_object();
	out->edits = json_array();
	if (!out->write || !out->edits) {
		serr_set(e, "cannot plan the sync-back: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *col = normalize_n_column(cfg, &nf[i]);
		json_t *cur = json_object_get(current, col);
		json_t *last = json_object_get(written, col);
		json_t *want;

		if (last && !airtable_value_same(cur, last)) {
			/* scout wrote this cell and it changed since: a person's value, kept */
			if (json_array_append_new(out->edits,
						  json_pack("{s:s, s:O, s:O}", "field", col, "scout",
							    last, "human", cur ? cur : json_null())) < 0) {
				serr_set(e, "cannot plan the sync-back: out of memory");
				goto out;
			}
			continue;
		}
		if (!nf[i].property) {
			/* scout's own column (Verification Status): filled only when empty */
			if (!is_empty(cur))
				continue;
			want = json_string(SYNCBACK_UNVERIFIED);
		} else {
			want = syncback_cell(cfg, &nf[i], json_object_get(normalized, nf[i].property), e);
			if (!want)
				goto out;
		}
		if (airtable_value_same(cur, want)) {
			json_decref(want);
			continue;
		}
		if (json_object_set_new(out->write, col, want) < 0) {
			serr_set(e, "cannot plan the sync-back: out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		syncback_plan_free(out);
	return rc;
}
