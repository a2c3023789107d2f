/*
 * The versioned prompt files (prompts/<name>.md, compiled into the binary)
 * and the rendering of the user message that carries untrusted input (CV
 * text, Airtable text, job descriptions) as DATA between marker lines.
 *
 * A prompt file starts with a header of "key: value" lines ended by a
 * blank line; the rest is the system message:
 *   version: 3                     (required; stored with every result)
 *   data: the candidate's CV text  (optional; names the data in the message)
 *
 * Bump the version whenever the text changes: records normalized with an
 * older version are normalized again.
 */
#ifndef SCOUT_LLM_PROMPT_H
#define SCOUT_LLM_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* The lines around the data; the data never contains either. */
#define PROMPT_DATA_BEGIN "<<<"
#define PROMPT_DATA_END ">>>"
/* Largest data rendered into one message, in bytes. */
#define PROMPT_MAX_DATA ((size_t)1024 * 1024)

struct prompt {
	char name[64];
	int version;
	char data_label[256]; /* "the data" when the file has no data line */
	const char *text;     /* the system message, NUL-terminated, static */
	size_t len;
};

/* Load prompts/<name>.md (name: lowercase letters, digits, '_'; ".md" optional). */
int prompt_load(const char *name, struct prompt *out, serr *e) SCOUT_MUST;

/*
 * The user message: today's month (for "current" positions), a line
 * naming the data, then the data between a PROMPT_DATA_BEGIN line and a
 * PROMPT_DATA_END line, appended to out. The data is made safe first:
 * runs of three or more '<' or '>' are broken by spaces so the markers
 * cannot be forged, invalid UTF-8 becomes U+FFFD, CR/CRLF become LF and
 * other control characters spaces. Fails when data is over PROMPT_MAX_DATA.
 */
int prompt_render(const struct prompt *p, const char *data, struct buf *out, serr *e) SCOUT_MUST;

/* The same with an explicit "today" (epoch ms), for reproducible output. */
int prompt_render_at(const struct prompt *p, const char *data, int64_t now, struct buf *out,
		     serr *e) SCOUT_MUST;

#endif
