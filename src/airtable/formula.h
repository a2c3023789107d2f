/*
 * Builds filterByFormula strings for the Airtable client so that no value can
 * change a formula's meaning: every value goes through formula_quote (a
 * single-quoted literal with \ ' and newlines escaped) and every field name
 * through formula_field ({name}, refused when it holds '}'). The composers
 * append the few shapes the syncs need.
 */
#ifndef SCOUT_AIRTABLE_FORMULA_H
#define SCOUT_AIRTABLE_FORMULA_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * Append 'value' with \ and ' escaped and newlines written as \n (other
 * characters stay as they are); -1 when out would pass its cap.
 */
int formula_quote(struct buf *out, const char *value) SCOUT_MUST;

/* Append {name}; a name that is empty or contains '}' cannot be referenced: error. */
int formula_field(struct buf *out, const char *name, serr *e) SCOUT_MUST;

/* {field}='value' */
int formula_field_equals(struct buf *out, const char *field, const char *value,
			 serr *e) SCOUT_MUST;

/* LEN({field}&'')>0 : the field has a value (0 counts; a checked box, text, a list). */
int formula_field_not_blank(struct buf *out, const char *field, serr *e) SCOUT_MUST;

/* {field}=TRUE() : the checkbox is checked. */
int formula_checkbox_checked(struct buf *out, const char *field, serr *e) SCOUT_MUST;

/* OR(RECORD_ID()='a',RECORD_ID()='b',...); FALSE() when n is 0. */
int formula_record_id_in(struct buf *out, const char *const *ids, size_t n,
			 serr *e) SCOUT_MUST;

/*
 * IS_AFTER(LAST_MODIFIED_TIME({f1},{f2},...),DATETIME_PARSE('iso_time')):
 * records whose named fields (all fields when nfields is 0) changed after
 * iso_time, an ISO-8601 UTC time such as iso8601_ms() writes.
 */
int formula_modified_after(struct buf *out, const char *const *fields, size_t nfields,
			   const char *iso_time, serr *e) SCOUT_MUST;

/* AND(p1,p2,...) / OR(p1,p2,...) of formulas built above; TRUE() / FALSE() when n is 0. */
int formula_and(struct buf *out, const char *const *parts, size_t n, serr *e) SCOUT_MUST;
int formula_or(struct buf *out, const char *const *parts, size_t n, serr *e) SCOUT_MUST;

/* NOT(part) */
int formula_not(struct buf *out, const char *part, serr *e) SCOUT_MUST;

#endif
