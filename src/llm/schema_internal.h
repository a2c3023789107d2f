/* What schema.c and schema_rules.c share: keyword lists, $ref lookup, quoting. */
#ifndef SCOUT_LLM_SCHEMA_INTERNAL_H
#define SCOUT_LLM_SCHEMA_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

/* Characters of a string or key shown in a message. */
#define SCHEMA_KEY_SHOWN 40

/* Keywords the validator checks, and annotations it ignores. */
extern const char *const schema_validation_keywords[];
extern const size_t schema_validation_count;
extern const char *const schema_annotation_keywords[];
extern const size_t schema_annotation_count;

int schema_keyword_in(const char *k, const char *const *list, size_t n);

/* The schema a $ref names ("#" or "#/$defs/<name>"), or NULL. */
const json_t *schema_ref_target(const json_t *root, const char *ref);

/* 1 when "type" is a known type name or a non-empty array of them. */
int schema_type_keyword_valid(const json_t *type);

/* At most max characters of s (len bytes), quoted, control characters as '?', never cut in UTF-8. */
void schema_quote_text(const char *s, size_t len, size_t max, char *out, size_t outsz);

#endif
