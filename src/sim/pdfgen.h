/*
 * A minimal PDF writer for test data and the sample base: real PDF 1.4
 * files (Helvetica, several pages when the text is long, exact xref
 * offsets) whose text pdftotext extracts back, plus the broken kinds a CV
 * inbox really receives: corrupt, encrypted, scanned (image only) and huge.
 */
#ifndef SCOUT_SIM_PDFGEN_H
#define SCOUT_SIM_PDFGEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * Text lines (UTF-8) -> a PDF appended to out. A line starting with "# " is
 * set as a bold heading (the marker is not printed); long lines wrap at word
 * boundaries; characters outside WinAnsi (Latin-1 plus a few) print as '?'.
 */
int pdfgen_text(const char *const *lines, size_t n, struct buf *out, serr *e) SCOUT_MUST;

/* Header and a few objects, then garbage and no xref/trailer: unreadable. */
int pdfgen_corrupt(uint64_t seed, struct buf *out, serr *e) SCOUT_MUST;

/* A text PDF whose trailer names a standard security handler with a user password. */
int pdfgen_encrypted(const char *const *lines, size_t n, struct buf *out, serr *e) SCOUT_MUST;

/* One page holding only a grey image: what a scanner produces, no text. */
int pdfgen_scanned(uint64_t seed, struct buf *out, serr *e) SCOUT_MUST;

/* A valid text PDF padded with an unreferenced stream to at least min_bytes. */
int pdfgen_huge(const char *const *lines, size_t n, size_t min_bytes, uint64_t seed,
		struct buf *out, serr *e) SCOUT_MUST;

#endif
