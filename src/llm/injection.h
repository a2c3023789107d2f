/*
 * A detector of prompt injection in untrusted text (CVs, job descriptions),
 * independent of the model: a CV that addresses instructions to an AI is
 * flagged on the candidate even when the model does not report it. The
 * flag is for recruiters; it never changes a score.
 *
 * Matching is on a normalized copy of the text (ASCII lowercased, runs of
 * punctuation and spaces made one space, zero-width characters removed),
 * so "IGNORE  all\nprevious   instructions!" and "ig\u200bnore" are found.
 */
#ifndef SCOUT_LLM_INJECTION_H
#define SCOUT_LLM_INJECTION_H

#include "core/buf.h"

/* Most findings described in the evidence (all are counted). */
#define INJECTION_MAX_EVIDENCE 8
/* Only the first this many bytes of a text are scanned. */
#define INJECTION_MAX_SCAN ((size_t)4 * 1024 * 1024)

/*
 * Number of instruction-like passages found (0: none). For each of the
 * first INJECTION_MAX_EVIDENCE, evidence (may be NULL) gets a line
 *   <what was found>: "<the passage, from the original text>"
 * An evidence buffer that runs out of room just ends the listing.
 */
int injection_scan(const char *text, struct buf *evidence);

#endif
