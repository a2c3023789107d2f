/*
 * The DATA given to the normalization prompts: a candidate's Airtable text
 * and CV text merged into one document, and the profile plus categories a
 * role-fitness answer scores. The result goes to prompt_render, which makes
 * it safe to place between the markers.
 */
#ifndef SCOUT_LLM_NORMALIZE_INPUT_H
#define SCOUT_LLM_NORMALIZE_INPUT_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * Append the Airtable text and the CV text (either may be NULL or empty)
 * under their own headings. When both together pass the prompt's data
 * limit the CV text is cut at a character boundary and a line says how
 * much was left out; returns 1 then (so the caller can log it), 0 when
 * everything fits, -1 when out does not have room.
 */
int normalize_candidate_input(const char *airtable_text, const char *cv_text, struct buf *out,
			      serr *e) SCOUT_MUST;

/*
 * Append a plain-text profile of a validated candidate answer (summary,
 * seniority, skills with ratings, positions, projects, narratives) and the
 * categories to score, under the heading the role-fitness prompt names.
 */
int normalize_fitness_input(const json_t *candidate, const char *const *categories, size_t n,
			    struct buf *out, serr *e) SCOUT_MUST;

#endif
