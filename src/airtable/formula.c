/*
 * filterByFormula builder (see formula.h). Values only ever enter a formula
 * as escaped single-quoted literals and field names only inside braces, so
 * a record value such as  x' , TRUE()) OR ('  stays one string literal.
 */
#include "airtable/formula.h"

#include <string.h>

#include "core/util.h"

static int too_long(struct buf *out, serr *e)
{
	return serr_set(e, "filterByFormula would pass %zu bytes; split the query", out->max);
}

int formula_quote(struct buf *out, const char *value)
{
	const char *p = value ? value : "";

	if (buf_putc(out, '\'') < 0)
		return -1;
	for (; *p; p++) {
		int rc;

		if (*p == '\\')
			rc = buf_puts(out, "\\\\");
		else if (*p == '\'')
			rc = buf_puts(out, "\\'");
		else if (*p == '\n')
			rc = buf_puts(out, "\\n");
		else
			rc = buf_putc(out, *p);
		if (rc < 0)
			return -1;
	}
	return buf_putc(out, '\'');
}

int formula_field(struct buf *out, const char *name, serr *e)
{
	if (!name || !*name)
		return serr_set(e, "empty field name cannot be used in a formula; check the field "
				"mapping in the config file");
	if (strchr(name, '}'))
		return serr_set(e, "field name '%s' contains '}' and cannot be referenced in an "
				"Airtable formula; rename the field", name);
	if (buf_putc(out, '{') < 0 || buf_puts(out, name) < 0 || buf_putc(out, '}') < 0)
		return too_long(out, e);
	return 0;
}

int formula_field_equals(struct buf *out, const char *field, const char *value, serr *e)
{
	if (formula_field(out, field, e) < 0)
		return -1;
	if (buf_putc(out, '=') < 0 || formula_quote(out, value) < 0)
		return too_long(out, e);
	return 0;
}

int formula_field_not_blank(struct buf *out, const char *field, serr *e)
{
	if (buf_puts(out, "LEN(") < 0)
		return too_long(out, e);
	if (formula_field(out, field, e) < 0)
		return -1;
	if (buf_puts(out, "&'')>0") < 0)
		return too_long(out, e);
	return 0;
}

int formula_checkbox_checked(struct buf *out, const char *field, serr *e)
{
	if (formula_field(out, field, e) < 0)
		return -1;
	if (buf_puts(out, "=TRUE()") < 0)
		return too_long(out, e);
	return 0;
}

int formula_record_id_in(struct buf *out, const char *const *ids, size_t n, serr *e)
{
	if (n == 0) {
		if (buf_puts(out, "FALSE()") < 0)
			return too_long(out, e);
		return 0;
	}
	if (buf_puts(out, "OR(") < 0)
		return too_long(out, e);
	for (size_t i = 0; i < n; i++) {
		if (!ids[i] || !*ids[i])
			return serr_set(e, "empty record id at position %zu of %zu", i + 1, n);
		if ((i && buf_putc(out, ',') < 0) || buf_puts(out, "RECORD_ID()=") < 0 ||
		    formula_quote(out, ids[i]) < 0)
			return too_long(out, e);
	}
	if (buf_putc(out, ')') < 0)
		return too_long(out, e);
	return 0;
}

int formula_modified_after(struct buf *out, const char *const *fields, size_t nfields,
			   const char *iso_time, serr *e)
{
	int64_t ms;

	/* a time Airtable cannot parse would silently match nothing */
	if (!iso_time || iso8601_parse(iso_time, &ms) != 0)
		return serr_set(e, "invalid time '%s' for a modified-after filter; expected "
				"ISO-8601 UTC such as 2026-01-02T03:04:05.000Z",
				iso_time ? iso_time : "");
	if (buf_puts(out, "IS_AFTER(LAST_MODIFIED_TIME(") < 0)
		return too_long(out, e);
	for (size_t i = 0; i < nfields; i++) {
		if (i && buf_putc(out, ',') < 0)
			return too_long(out, e);
		if (formula_field(out, fields[i], e) < 0)
			return -1;
	}
	if (buf_puts(out, "),DATETIME_PARSE(") < 0 || formula_quote(out, iso_time) < 0 ||
	    buf_puts(out, "))") < 0)
		return too_long(out, e);
	return 0;
}

/* NAME(p1,p2,...) over formulas the caller built; `empty` when there are none. */
static int combine(struct buf *out, const char *name, const char *empty,
		   const char *const *parts, size_t n, serr *e)
{
	if (n == 0) {
		if (buf_puts(out, empty) < 0)
			return too_long(out, e);
		return 0;
	}
	if (buf_puts(out, name) < 0 || buf_putc(out, '(') < 0)
		return too_long(out, e);
	for (size_t i = 0; i < n; i++) {
		if (!parts[i] || !*parts[i])
			return serr_set(e, "empty formula at position %zu of %zu in %s()", i + 1, n,
					name);
		if ((i && buf_putc(out, ',') < 0) || buf_puts(out, parts[i]) < 0)
			return too_long(out, e);
	}
	if (buf_putc(out, ')') < 0)
		return too_long(out, e);
	return 0;
}

int formula_and(struct buf *out, const char *const *parts, size_t n, serr *e)
{
	return combine(out, "AND", "TRUE()", parts, n, e);
}

int formula_or(struct buf *out, const char *const *parts, size_t n, serr *e)
{
	return combine(out, "OR", "FALSE()", parts, n, e);
}

int formula_not(struct buf *out, const char *part, serr *e)
{
	if (!part || !*part)
		return serr_set(e, "empty formula in NOT()");
	if (buf_puts(out, "NOT(") < 0 || buf_puts(out, part) < 0 || buf_putc(out, ')') < 0)
		return too_long(out, e);
	return 0;
}
