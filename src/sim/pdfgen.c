/* Writes small real PDF files (and deliberately broken ones) for test data (see pdfgen.h). */
#include "sim/pdfgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define PAGE_W 612
#define PAGE_H 792
#define MARGIN 50
#define LEADING 14
#define WRAP_COLS 92
#define LINES_PER_PAGE ((PAGE_H - 2 * MARGIN) / LEADING)

/* One printed line: an escaped PDF string body and whether it is a heading. */
struct pline {
	size_t off; /* into the text buffer, NUL-terminated */
	int heading;
};

struct layout {
	struct buf text;
	struct pline *lines;
	size_t n, cap;
};

/* The object table of the file being written: byte offset of each object. */
struct pdfw {
	struct buf *out;
	size_t start; /* where this PDF starts in out */
	size_t *offs;
	size_t nobj, cap;
};

static uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Decode one UTF-8 sequence; invalid bytes decode as U+FFFD, one byte long. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *used)
{
	uint32_t c;
	size_t n, i;

	if (s[0] < 0x80) {
		*used = 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		*used = 1;
		return 0xFFFD;
	}
	if (n > len) {
		*used = 1;
		return 0xFFFD;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*used = 1;
			return 0xFFFD;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	*used = n;
	return c;
}

/* WinAnsiEncoding byte for a code point, '?' when the font cannot show it. */
static unsigned char winansi(uint32_t c)
{
	static const struct {
		uint16_t cp;
		unsigned char b;
	} extra[] = {
		{ 0x20AC, 0x80 }, { 0x201A, 0x82 }, { 0x0192, 0x83 }, { 0x201E, 0x84 },
		{ 0x2026, 0x85 }, { 0x2020, 0x86 }, { 0x2021, 0x87 }, { 0x02C6, 0x88 },
		{ 0x2030, 0x89 }, { 0x0160, 0x8A }, { 0x2039, 0x8B }, { 0x0152, 0x8C },
		{ 0x017D, 0x8E }, { 0x2018, 0x91 }, { 0x2019, 0x92 }, { 0x201C, 0x93 },
		{ 0x201D, 0x94 }, { 0x2022, 0x95 }, { 0x2013, 0x96 }, { 0x2014, 0x97 },
		{ 0x02DC, 0x98 }, { 0x2122, 0x99 }, { 0x0161, 0x9A }, { 0x203A, 0x9B },
		{ 0x0153, 0x9C }, { 0x017E, 0x9E }, { 0x0178, 0x9F },
	};

	if (c == '\t')
		return ' ';
	if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0xFF))
		return (unsigned char)c;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i].cp == c)
			return extra[i].b;
	return '?';
}

/* Append one WinAnsi byte to a PDF literal string, escaped. */
static int put_pdf_char(struct buf *b, unsigned char ch)
{
	if (ch == '(' || ch == ')' || ch == '\\') {
		char esc[2] = { '\\', (char)ch };
		return buf_append(b, esc, 2);
	}
	if (ch < 0x20 || ch >= 0x7F)
		return buf_printf(b, "\\%03o", ch);
	return buf_putc(b, (char)ch);
}

static int layout_push(struct layout *L, const unsigned char *w, size_t n, int heading)
{
	struct pline *nl;

	if (L->n == L->cap) {
		size_t ncap = L->cap ? L->cap * 2 : 64, bytes;
		if (size_mul(ncap, sizeof(*L->lines), &bytes) < 0)
			return -1;
		nl = realloc(L->lines, bytes);
		if (!nl)
			return -1;
		L->lines = nl;
		L->cap = ncap;
	}
	L->lines[L->n].off = L->text.len;
	L->lines[L->n].heading = heading;
	for (size_t i = 0; i < n; i++)
		if (put_pdf_char(&L->text, w[i]) < 0)
			return -1;
	if (buf_putc(&L->text, '\0') < 0)
		return -1;
	L->n++;
	return 0;
}

/* Convert a UTF-8 line to WinAnsi and wrap it at word boundaries. */
static int layout_line(struct layout *L, const char *line)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t len = strlen(line), i = 0, n = 0, last_space = 0;
	unsigned char w[WRAP_COLS + 1];
	int heading = 0;

	if (len >= 2 && s[0] == '#' && s[1] == ' ') {
		heading = 1;
		i = 2;
		/* a blank line before a heading, unless at the top of the text */
		if (L->n && layout_push(L, w, 0, 0) < 0)
			return -1;
	}
	while (i < len) {
		size_t used;
		uint32_t c = utf8_next(s + i, len - i, &used);
		unsigned char ch = winansi(c);

		i += used;
		if (c == '\n' || c == '\r')
			ch = ' ';
		if (n == WRAP_COLS) {
			size_t keep = last_space ? last_space : n;
			if (layout_push(L, w, keep, heading) < 0)
				return -1;
			/* carry the partial word over, dropping the space we broke at */
			size_t from = last_space ? last_space + 1 : n;
			memmove(w, w + from, n - from);
			n -= from;
			last_space = 0;
			for (size_t k = 0; k < n; k++)
				if (w[k] == ' ')
					last_space = k;
		}
		if (ch == ' ')
			last_space = n;
		w[n++] = ch;
	}
	return layout_push(L, w, n, heading);
}

static void layout_free(struct layout *L)
{
	buf_free(&L->text);
	free(L->lines);
	L->lines = NULL;
	L->n = L->cap = 0;
}

static int layout_build(struct layout *L, const char *const *lines, size_t n)
{
	buf_init(&L->text, 0);
	L->lines = NULL;
	L->n = L->cap = 0;
	for (size_t i = 0; i < n; i++)
		if (layout_line(L, lines[i] ? lines[i] : "") < 0)
			return -1;
	return 0;
}

/* Record the offset of the next object and write its header. */
static int obj_begin(struct pdfw *w, size_t num)
{
	if (num >= w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 32, bytes;
		size_t *no;
		while (ncap <= num)
			ncap *= 2;
		if (size_mul(ncap, sizeof(*w->offs), &bytes) < 0)
			return -1;
		no = realloc(w->offs, bytes);
		if (!no)
			return -1;
		memset(no + w->cap, 0, (ncap - w->cap) * sizeof(*no));
		w->offs = no;
		w->cap = ncap;
	}
	w->offs[num] = w->out->len - w->start;
	if (num + 1 > w->nobj)
		w->nobj = num + 1;
	return buf_printf(w->out, "%zu 0 obj\n", num);
}

static int write_stream(struct pdfw *w, size_t num, const char *dict_extra, const void *data,
			size_t len)
{
	if (obj_begin(w, num) < 0 ||
	    buf_printf(w->out, "<< /Length %zu%s >>\nstream\n", len, dict_extra) < 0 ||
	    buf_append(w->out, data, len) < 0 || buf_puts(w->out, "\nendstream\nendobj\n") < 0)
		return -1;
	return 0;
}

/* xref table and trailer; extra goes into the trailer dictionary. */
static int write_tail(struct pdfw *w, const char *extra)
{
	size_t xref = w->out->len - w->start;

	if (buf_printf(w->out, "xref\n0 %zu\n0000000000 65535 f \n", w->nobj) < 0)
		return -1;
	for (size_t i = 1; i < w->nobj; i++)
		if (buf_printf(w->out, "%010zu 00000 n \n", w->offs[i]) < 0)
			return -1;
	return buf_printf(w->out, "trailer\n<< /Size %zu /Root 1 0 R /Info 5 0 R%s >>\nstartxref\n%zu\n%%%%EOF\n",
			  w->nobj, extra ? extra : "", xref);
}

/* One page's content stream: the lines [from, to) of the layout. */
static int page_content(const struct layout *L, size_t from, size_t to, struct buf *c)
{
	int bold = 0;

	if (buf_printf(c, "BT\n/F1 10 Tf\n%d TL\n%d %d Td\n", LEADING, MARGIN,
		       PAGE_H - MARGIN - 10) < 0)
		return -1;
	for (size_t i = from; i < to; i++) {
		const struct pline *p = &L->lines[i];
		if (p->heading != bold) {
			if (buf_puts(c, p->heading ? "/F2 12 Tf\n" : "/F1 10 Tf\n") < 0)
				return -1;
			bold = p->heading;
		}
		if (buf_printf(c, "(%s) Tj T*\n", L->text.data + p->off) < 0)
			return -1;
	}
	return buf_puts(c, "ET\n");
}

/*
 * The common writer: text pages, then optional extra objects (an Encrypt
 * dictionary or padding), then xref and trailer.
 */
static int write_text_pdf(const char *const *lines, size_t n, int encrypt, size_t pad_to,
			  uint64_t seed, struct buf *out, serr *e)
{
	struct layout L;
	struct pdfw w = { out, out->len, NULL, 0, 0 };
	struct buf content, kids, tmp;
	size_t npages, first_page_obj = 6, next;
	char trailer[512];
	int rc = -1;

	buf_init(&content, 0);
	buf_init(&kids, 0);
	buf_init(&tmp, 0);
	if (layout_build(&L, lines, n) < 0)
		goto oom;
	npages = L.n ? (L.n + LINES_PER_PAGE - 1) / LINES_PER_PAGE : 1;
	for (size_t p = 0; p < npages; p++)
		if (buf_printf(&kids, "%s%zu 0 R", p ? " " : "", first_page_obj + 2 * p) < 0)
			goto oom;

	if (buf_puts(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n") < 0)
		goto oom;
	if (obj_begin(&w, 1) < 0 ||
	    buf_puts(out, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n") < 0)
		goto oom;
	if (obj_begin(&w, 2) < 0 ||
	    buf_printf(out, "<< /Type /Pages /Kids [%s] /Count %zu >>\nendobj\n", kids.data,
		       npages) < 0)
		goto oom;
	if (obj_begin(&w, 3) < 0 ||
	    buf_puts(out, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
			  "/Encoding /WinAnsiEncoding >>\nendobj\n") < 0)
		goto oom;
	if (obj_begin(&w, 4) < 0 ||
	    buf_puts(out, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
			  "/Encoding /WinAnsiEncoding >>\nendobj\n") < 0)
		goto oom;
	if (obj_begin(&w, 5) < 0 ||
	    buf_puts(out, "<< /Producer (scout pdfgen) /Creator (scout) >>\nendobj\n") < 0)
		goto oom;
	for (size_t p = 0; p < npages; p++) {
		size_t from = p * LINES_PER_PAGE, to = from + LINES_PER_PAGE;
		size_t pobj = first_page_obj + 2 * p;
		if (to > L.n)
			to = L.n;
		buf_reset(&content);
		if (page_content(&L, from, to, &content) < 0)
			goto oom;
		if (obj_begin(&w, pobj) < 0 ||
		    buf_printf(out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
				    "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
				    "/Contents %zu 0 R >>\nendobj\n",
			       PAGE_W, PAGE_H, pobj + 1) < 0)
			goto oom;
		if (write_stream(&w, pobj + 1, "", content.data, content.len) < 0)
			goto oom;
	}
	next = first_page_obj + 2 * npages;
	trailer[0] = '\0';
	if (encrypt) {
		uint64_t s = seed ^ 0x5EC12E7ULL;
		/*
		 * A standard security handler (RC4, revision 3) whose U entry does
		 * not match the empty password: readers ask for a user password.
		 */
		if (obj_begin(&w, next) < 0 ||
		    buf_puts(out, "<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <") < 0)
			goto oom;
		for (int i = 0; i < 4; i++)
			if (buf_printf(out, "%016llx", (unsigned long long)mix64(&s)) < 0)
				goto oom;
		if (buf_puts(out, "> /U <") < 0)
			goto oom;
		for (int i = 0; i < 4; i++)
			if (buf_printf(out, "%016llx", (unsigned long long)mix64(&s)) < 0)
				goto oom;
		if (buf_puts(out, "> >>\nendobj\n") < 0)
			goto oom;
		snprintf(trailer, sizeof(trailer),
			 " /Encrypt %zu 0 R /ID [<%016llx%016llx> <%016llx%016llx>]", next,
			 (unsigned long long)mix64(&s), (unsigned long long)mix64(&s),
			 (unsigned long long)mix64(&s), (unsigned long long)mix64(&s));
		next++;
	}
	if (pad_to && out->len - w.start < pad_to) {
		size_t need = pad_to - (out->len - w.start);
		uint64_t s = seed;
		/* incompressible filler so transports cannot shrink it either */
		for (size_t i = 0; i < need; i += 8) {
			uint64_t v = mix64(&s);
			size_t k = need - i < 8 ? need - i : 8;
			if (buf_append(&tmp, &v, k) < 0)
				goto oom;
		}
		if (write_stream(&w, next, " /Subtype /Filler", tmp.data, tmp.len) < 0)
			goto oom;
		next++;
	}
	if (write_tail(&w, trailer) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	serr_set(e, "cannot build test pdf: out of memory or over the buffer cap");
out:
	layout_free(&L);
	buf_free(&content);
	buf_free(&kids);
	buf_free(&tmp);
	free(w.offs);
	return rc;
}

int pdfgen_text(const char *const *lines, size_t n, struct buf *out, serr *e)
{
	return write_text_pdf(lines, n, 0, 0, 0, out, e);
}

int pdfgen_encrypted(const char *const *lines, size_t n, struct buf *out, serr *e)
{
	return write_text_pdf(lines, n, 1, 0, 0x1234ULL, out, e);
}

int pdfgen_huge(const char *const *lines, size_t n, size_t min_bytes, uint64_t seed,
		struct buf *out, serr *e)
{
	return write_text_pdf(lines, n, 0, min_bytes, seed, out, e);
}

int pdfgen_corrupt(uint64_t seed, struct buf *out, serr *e)
{
	uint64_t s = seed ^ 0xC0221u;

	/* a plausible start, then the body breaks off into noise and never ends */
	if (buf_puts(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n"
			  "endobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Cou") < 0)
		goto oom;
	for (int i = 0; i < 256; i++) {
		uint64_t v = mix64(&s);
		if (buf_append(out, &v, sizeof(v)) < 0)
			goto oom;
	}
	return 0;
oom:
	return serr_set(e, "cannot build corrupt test pdf: out of memory");
}

int pdfgen_scanned(uint64_t seed, struct buf *out, serr *e)
{
	struct pdfw w = { out, out->len, NULL, 0, 0 };
	struct buf img;
	const char *content = "q 512 0 0 692 50 50 cm /Im1 Do Q\n";
	uint64_t s = seed ^ 0x5CA9ULL;
	int rc = -1;

	buf_init(&img, 0);
	/* 64x64 8-bit grey "paper" with speckles */
	for (int i = 0; i < 64 * 64; i++) {
		unsigned char px = (unsigned char)(200 + (mix64(&s) % 56));
		if (buf_putc(&img, (char)px) < 0)
			goto oom;
	}
	if (buf_puts(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n") < 0 || obj_begin(&w, 1) < 0 ||
	    buf_puts(out, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n") < 0 ||
	    obj_begin(&w, 2) < 0 ||
	    buf_puts(out, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n") < 0 ||
	    obj_begin(&w, 3) < 0 ||
	    buf_printf(out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
			    "/Resources << /XObject << /Im1 6 0 R >> >> /Contents 4 0 R >>\nendobj\n",
		       PAGE_W, PAGE_H) < 0 ||
	    write_stream(&w, 4, "", content, strlen(content)) < 0 || obj_begin(&w, 5) < 0 ||
	    buf_puts(out, "<< /Producer (scout pdfgen scanner) >>\nendobj\n") < 0 ||
	    write_stream(&w, 6,
			 " /Type /XObject /Subtype /Image /Width 64 /Height 64 "
			 "/ColorSpace /DeviceGray /BitsPerComponent 8",
			 img.data, img.len) < 0 ||
	    write_tail(&w, NULL) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	serr_set(e, "cannot build scanned test pdf: out of memory");
out:
	buf_free(&img);
	free(w.offs);
	return rc;
}
