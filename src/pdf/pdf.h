/*
 * Text extraction from CV PDFs. CVs are untrusted input, so the parsing
 * happens in a child process (pdftotext) under an address-space limit, a
 * CPU limit and a wall-clock timeout; the parent only checks the size, the
 * magic bytes and the /Encrypt marker, and normalises the text that comes
 * back. A bad PDF costs a recorded, readable error, never the daemon.
 */
#ifndef SCOUT_PDF_PDF_H
#define SCOUT_PDF_PDF_H

#include <stddef.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"

enum pdf_status {
	PDF_OK,
	PDF_EMPTY,	  /* no text layer: a scanned image */
	PDF_NOT_PDF,	  /* no %PDF- header */
	PDF_TOO_LARGE,	  /* over pdf.max_file_mb */
	PDF_ENCRYPTED,	  /* needs a password */
	PDF_CORRUPT,	  /* the tool could not read it, or crashed */
	PDF_TIMEOUT,	  /* over pdf.timeout_seconds (wall clock or CPU) */
	PDF_LIMIT,	  /* over pdf.memory_mb */
	PDF_TOOL_MISSING, /* pdf.pdftotext not installed */
};

/*
 * Returns 0 with *st == PDF_OK and the normalised text appended to text,
 * or -1 with *st saying why and e holding a readable message. Never crashes
 * or hangs on any input.
 */
int pdf_extract_text(const struct config *cfg, const void *data, size_t len, struct buf *text,
		     enum pdf_status *st, serr *e) SCOUT_MUST;

/* The same, naming the file in messages: "cv 'ada.pdf' is encrypted ...". */
int pdf_extract_named(const struct config *cfg, const char *name, const void *data, size_t len,
		      struct buf *text, enum pdf_status *st, serr *e) SCOUT_MUST;

/* "ok", "empty", "not_pdf", "too_large", "encrypted", "corrupt", "timeout", "limit", "tool_missing". */
const char *pdf_status_name(enum pdf_status st);

/*
 * Clean extracted text: valid UTF-8 only (invalid bytes become U+FFFD),
 * control characters dropped, spaces inside a line collapsed (a run of 3 or
 * more, a layout column gap, stays 3 wide), lines trimmed, at most one
 * blank line in a row, page breaks become blank lines. Appends to out.
 */
int pdf_normalize_text(const char *in, size_t len, struct buf *out) SCOUT_MUST;

#endif
