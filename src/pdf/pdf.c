/* CV text extraction in an isolated, resource-limited pdftotext child (see pdf.h). */
#include "pdf/pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

/*
 * The tool gets a fixed, minimal environment: nothing of scout's own
 * (API keys, DATABASE_URL) may reach a parser that reads hostile files.
 */
static char *const tool_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL };

#define MAGIC_WINDOW 1024   /* readers accept junk before %PDF- within the first KiB */
#define STDERR_KEEP 4096    /* what we keep of the tool's diagnostics */
#define IO_CHUNK (64 * 1024)

/* What came back from one run of the extraction tool. */
struct run_result {
	struct buf out;
	struct buf err;
	int status;	 /* waitpid status */
	int timed_out;	 /* killed at the wall-clock deadline */
	int truncated;	 /* stdout reached the text cap */
	int exec_errno;	 /* non-zero when the tool could not be started */
};

const char *pdf_status_name(enum pdf_status st)
{
	switch (st) {
	case PDF_OK: return "ok";
	case PDF_EMPTY: return "empty";
	case PDF_NOT_PDF: return "not_pdf";
	case PDF_TOO_LARGE: return "too_large";
	case PDF_ENCRYPTED: return "encrypted";
	case PDF_CORRUPT: return "corrupt";
	case PDF_TIMEOUT: return "timeout";
	case PDF_LIMIT: return "limit";
	case PDF_TOOL_MISSING: return "tool_missing";
	}
	return "unknown";
}

/* ---- text normalisation ---- */

/* Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static uint32_t utf8_decode(const unsigned char *s, size_t len, size_t *used)
{
	uint32_t c, min;
	size_t n;

	*used = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		c = s[0] & 0x1F;
		min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		c = s[0] & 0x0F;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0xFFFD;
	}
	if (n > len)
		return 0xFFFD;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0xFFFD;
	*used = n;
	return c;
}

static int put_utf8(struct buf *b, uint32_t c)
{
	char o[4];

	if (c < 0x80)
		return buf_putc(b, (char)c);
	if (c < 0x800) {
		o[0] = (char)(0xC0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3F));
		return buf_append(b, o, 2);
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return buf_append(b, o, 3);
	}
	o[0] = (char)(0xF0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return buf_append(b, o, 4);
}

static int is_space_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F ||
	       c == 0x205F || c == 0x3000;
}

static int is_dropped_cp(uint32_t c)
{
	return (c < 0x20 && c != '\n' && c != '\f' && c != '\r') || (c >= 0x7F && c <= 0x9F) ||
	       (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

int pdf_normalize_text(const char *in, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, spaces = 0, newlines = 0;
	int line_start = 1, any = 0;

	while (i < len) {
		size_t used;
		uint32_t c = utf8_decode(s + i, len - i, &used);

		i += used;
		if (c == '\r') {
			if (i < len && s[i] == '\n')
				continue;
			c = '\n';
		}
		if (c == '\n' || c == '\f') {
			spaces = 0;
			line_start = 1;
			if (any)
				newlines += c == '\f' ? 2 : 1;
			continue;
		}
		if (is_space_cp(c)) {
			if (!line_start)
				spaces++;
			continue;
		}
		if (is_dropped_cp(c))
			continue;
		if (newlines) {
			if (buf_append(out, "\n\n", newlines > 1 ? 2 : 1) < 0)
				return -1;
		} else if (spaces) {
			if (buf_append(out, "   ", spaces >= 3 ? 3 : 1) < 0)
				return -1;
		}
		newlines = spaces = 0;
		line_start = 0;
		any = 1;
		if (put_utf8(out, c) < 0)
			return -1;
	}
	if (any && buf_putc(out, '\n') < 0)
		return -1;
	return 0;
}

/* ---- checks before the child runs ---- */

static const unsigned char *find_bytes(const unsigned char *h, size_t hl, const char *needle)
{
	return memmem(h, hl, needle, strlen(needle));
}

/* "/Encrypt" used as a trailer key: followed by an indirect reference or a dictionary. */
static int looks_encrypted(const unsigned char *d, size_t len)
{
	const unsigned char *p = d, *end = d + len;

	while ((p = find_bytes(p, (size_t)(end - p), "/Encrypt")) != NULL) {
		const unsigned char *q = p + 8;
		p = q;
		while (q < end && (*q == ' ' || *q == '\r' || *q == '\n' || *q == '\t'))
			q++;
		if (q < end && *q == '<')
			return 1;
		if (q < end && *q >= '0' && *q <= '9') {
			while (q < end && *q >= '0' && *q <= '9')
				q++;
			while (q < end && *q == ' ')
				q++;
			while (q < end && *q >= '0' && *q <= '9')
				q++;
			while (q < end && *q == ' ')
				q++;
			if (q < end && *q == 'R')
				return 1;
		}
	}
	return 0;
}

/* A short guess at what a non-PDF upload is, for the error message. */
static const char *guess_kind(const unsigned char *d, size_t len)
{
	if (len >= 4 && memcmp(d, "PK\x03\x04", 4) == 0)
		return "a zip container (a Word .docx or similar)";
	if (len >= 8 && memcmp(d, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return "an old Word .doc file";
	if (len >= 4 && memcmp(d, "\x89PNG", 4) == 0)
		return "a PNG image";
	if (len >= 3 && memcmp(d, "\xFF\xD8\xFF", 3) == 0)
		return "a JPEG image";
	if (len >= 5 && memcmp(d, "{\\rtf", 5) == 0)
		return "an RTF document";
	if (len >= 1 && d[0] == '<')
		return "an HTML or XML page";
	if (len == 0)
		return "an empty file";
	return "not a PDF";
}

/* Display name for messages: untrusted, so shortened and stripped of quotes and controls. */
static void display_name(const char *name, char *out, size_t outsz)
{
	size_t n = 0;

	if (!name || !*name) {
		snprintf(out, outsz, "the pdf");
		return;
	}
	n = (size_t)snprintf(out, outsz, "cv '");
	for (const unsigned char *p = (const unsigned char *)name; *p && n + 5 < outsz && n < 100;
	     p++)
		out[n++] = (*p < 0x20 || *p == '\'' || *p == 0x7F) ? '_' : (char)*p;
	out[n++] = '\'';
	out[n] = '\0';
}

/* First line of the tool's stderr, printable ASCII only, for messages. */
static void first_line(const struct buf *b, char *out, size_t outsz)
{
	const char *s = buf_cstr(b);
	size_t n = 0;

	while (*s == '\n' || *s == ' ')
		s++;
	for (; *s && *s != '\n' && n + 1 < outsz && n < 160; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7F) ? *s : '?';
	out[n] = '\0';
}

/* Look the tool up on PATH in the parent, so the child only calls execve. */
static int resolve_tool(const char *tool, char *out, size_t outsz)
{
	const char *path, *p;

	if (!tool || !*tool)
		return -1;
	if (strchr(tool, '/')) {
		if ((size_t)snprintf(out, outsz, "%s", tool) >= outsz)
			return -1;
		return access(out, X_OK);
	}
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p;) {
		size_t n = strcspn(p, ":");
		if (n && (size_t)snprintf(out, outsz, "%.*s/%s", (int)n, p, tool) < outsz) {
			struct stat sb;
			if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* ---- the child ---- */

struct child_plan {
	const char *path;
	char *const *argv;
	struct rlimit as, cpu, fsize, core, nofile;
	pid_t parent;
};

/* Runs between fork and exec: async-signal-safe calls only. */
static void child_exec(const struct child_plan *pl, int in_fd, int out_fd, int err_fd, int exec_fd)
{
	struct sigaction sa;
	sigset_t none;
	int a, b, c, x, saved;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != pl->parent)
		_exit(127);
	/* move everything above 2 first, so no dup2 clobbers a descriptor still needed */
	a = fcntl(in_fd, F_DUPFD, 10);
	b = fcntl(out_fd, F_DUPFD, 10);
	c = fcntl(err_fd, F_DUPFD, 10);
	x = fcntl(exec_fd, F_DUPFD, 10);
	if (a < 0 || b < 0 || c < 0 || x < 0 || dup2(a, 0) < 0 || dup2(b, 1) < 0 ||
	    dup2(c, 2) < 0 || dup2(x, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		_exit(126);
	close_range(4, ~0U, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setrlimit(RLIMIT_AS, &pl->as) < 0 || setrlimit(RLIMIT_CPU, &pl->cpu) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &pl->fsize) < 0 || setrlimit(RLIMIT_CORE, &pl->core) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &pl->nofile) < 0)
		_exit(126);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	execve(pl->path, pl->argv, tool_env);
	saved = errno;
	if (write(3, &saved, sizeof(saved)) < 0)
		_exit(127);
	_exit(127);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reap the child, killing its whole process group first when it overstays. */
static void reap(pid_t pid, int64_t deadline, struct run_result *r)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR)
			break;
		if (si.si_pid == pid)
			break;
		if (mono_ms() >= deadline) {
			r->timed_out = 1;
			break;
		}
		sleep_ms(5);
	}
	/* also sweeps anything the tool left behind in its group */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Feed data to the tool's stdin and drain its stdout and stderr at the same
 * time (poll on all three), so neither side can block the other.
 */
static int run_tool(const struct config *cfg, const char *path, const void *data, size_t len,
		    size_t out_cap, struct run_result *r, serr *e)
{
	char *const argv[] = { (char *)path, "-layout", "-enc", "UTF-8", "-", "-", NULL };
	struct child_plan pl;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, xp[2] = { -1, -1 };
	int timeout_s = cfg->pdf_timeout_s > 0 ? cfg->pdf_timeout_s : 20;
	rlim_t mem = (rlim_t)(cfg->pdf_memory_mb > 0 ? cfg->pdf_memory_mb : 512) * 1024 * 1024;
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	const unsigned char *p = data;
	size_t sent = 0;
	pid_t pid;
	int rc = -1;
	char tmp[IO_CHUNK];

	pl.path = path;
	pl.argv = argv;
	pl.as.rlim_cur = pl.as.rlim_max = mem;
	pl.cpu.rlim_cur = (rlim_t)timeout_s;
	pl.cpu.rlim_max = (rlim_t)timeout_s + 1;
	pl.fsize.rlim_cur = pl.fsize.rlim_max = 0;
	pl.core.rlim_cur = pl.core.rlim_max = 0;
	pl.nofile.rlim_cur = pl.nofile.rlim_max = 64;
	pl.parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(xp, O_CLOEXEC) < 0) {
		serr_set(e, "cannot create pipes for the pdf tool: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		serr_set(e, "cannot start the pdf tool: fork failed: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(&pl, in[1], outp[1], errp[1], xp[1]);
	setpgid(pid, pid); /* also from here, so the group exists before any kill */
	close_fd(&in[1]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&xp[1]);
	set_nonblock(in[0]);
	set_nonblock(outp[0]);
	set_nonblock(errp[0]);
	if (len == 0)
		close_fd(&in[0]);

	while (outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pf[3];
		int nf = 0, iw = -1, io = -1, ie = -1, wait;
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			r->timed_out = 1;
			break;
		}
		if (in[0] >= 0) {
			pf[nf] = (struct pollfd){ in[0], POLLOUT, 0 };
			iw = nf++;
		}
		if (outp[0] >= 0) {
			pf[nf] = (struct pollfd){ outp[0], POLLIN, 0 };
			io = nf++;
		}
		if (errp[0] >= 0) {
			pf[nf] = (struct pollfd){ errp[0], POLLIN, 0 };
			ie = nf++;
		}
		wait = left > 1000 ? 1000 : (int)left;
		if (poll(pf, (nfds_t)nf, wait) < 0) {
			if (errno == EINTR)
				continue;
			serr_set(e, "waiting for the pdf tool failed: %s", strerror(errno));
			kill(-pid, SIGKILL);
			reap(pid, deadline, r);
			goto out;
		}
		if (iw >= 0 && pf[iw].revents) {
			size_t chunk = len - sent < IO_CHUNK ? len - sent : IO_CHUNK;
			ssize_t w = send(in[0], p + sent, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				close_fd(&in[0]); /* the tool stopped reading: let it finish */
			if (sent == len)
				close_fd(&in[0]);
		}
		if (io >= 0 && pf[io].revents) {
			ssize_t n = read(outp[0], tmp, sizeof(tmp));
			if (n > 0) {
				size_t room = out_cap - r->out.len, k = (size_t)n < room ? (size_t)n : room;
				if (k && buf_append(&r->out, tmp, k) < 0) {
					serr_set(e, "out of memory reading pdf text");
					kill(-pid, SIGKILL);
					reap(pid, deadline, r);
					goto out;
				}
				if ((size_t)n > k) {
					r->truncated = 1;
					break;
				}
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&outp[0]);
			}
		}
		if (ie >= 0 && pf[ie].revents) {
			ssize_t n = read(errp[0], tmp, sizeof(tmp));
			if (n > 0) {
				size_t room = STDERR_KEEP - r->err.len, k = (size_t)n < room ? (size_t)n : room;
				/* diagnostics are best effort: a failed append only loses them */
				if (k && buf_append(&r->err, tmp, k) < 0)
					close_fd(&errp[0]);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&errp[0]);
			}
		}
	}
	if (r->timed_out || r->truncated)
		kill(-pid, SIGKILL);
	reap(pid, deadline, r);
	{
		int xerr = 0;
		if (read(xp[0], &xerr, sizeof(xerr)) == (ssize_t)sizeof(xerr))
			r->exec_errno = xerr ? xerr : ENOEXEC;
	}
	rc = 0;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&xp[0]);
	close_fd(&xp[1]);
	return rc;
}

static int has_alnum(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c >= 0xC2)
			return 1;
	}
	return 0;
}

static int mem_message(const struct buf *err)
{
	const char *s = buf_cstr(err);

	return strstr(s, "bad_alloc") || strstr(s, "Out of memory") || strstr(s, "out of memory") ||
	       strstr(s, "Cannot allocate memory");
}

/* Turn the child's outcome into a status and a message. */
static int classify(const struct config *cfg, const char *shown, const char *tool,
		    int encrypted, struct run_result *r, struct buf *text, enum pdf_status *st,
		    serr *e)
{
	char diag[192];
	struct buf norm;
	int rc = -1;

	buf_init(&norm, 0);
	first_line(&r->err, diag, sizeof(diag));
	if (r->exec_errno) {
		*st = PDF_TOOL_MISSING;
		serr_set(e, "pdf tool '%s' cannot be started (%s): install poppler-utils or set pdf.pdftotext",
			 tool, strerror(r->exec_errno));
		goto out;
	}
	if (r->timed_out || (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGXCPU)) {
		*st = PDF_TIMEOUT;
		serr_set(e, "%s: text extraction took longer than %d s (pdf.timeout_seconds) and was stopped",
			 shown, cfg->pdf_timeout_s);
		goto out;
	}
	if (!r->truncated && WIFSIGNALED(r->status)) {
		if (mem_message(&r->err) || WTERMSIG(r->status) == SIGKILL) {
			*st = PDF_LIMIT;
			serr_set(e, "%s: text extraction needed more than %d MB of memory (pdf.memory_mb) and was stopped",
				 shown, cfg->pdf_memory_mb);
		} else {
			*st = PDF_CORRUPT;
			serr_set(e, "%s is damaged: the pdf tool crashed on it (signal %d)", shown,
				 WTERMSIG(r->status));
		}
		goto out;
	}
	if (!r->truncated && WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0) {
		int code = WEXITSTATUS(r->status);
		if (encrypted || code == 3 || strstr(buf_cstr(&r->err), "password")) {
			*st = PDF_ENCRYPTED;
			serr_set(e, "%s is password-protected (encrypted): ask the candidate for an unprotected copy",
				 shown);
		} else if (mem_message(&r->err)) {
			*st = PDF_LIMIT;
			serr_set(e, "%s: text extraction needed more than %d MB of memory (pdf.memory_mb) and was stopped",
				 shown, cfg->pdf_memory_mb);
		} else {
			*st = PDF_CORRUPT;
			if (diag[0])
				serr_set(e, "%s is damaged and cannot be read (pdftotext: %s): ask the candidate for a new export",
					 shown, diag);
			else
				serr_set(e, "%s is damaged and cannot be read (pdf tool exit status %d): ask the candidate for a new export",
					 shown, code);
		}
		goto out;
	}
	if (pdf_normalize_text(r->out.data ? r->out.data : "", r->out.len, &norm) < 0) {
		*st = PDF_CORRUPT;
		serr_set(e, "%s: out of memory normalising its text", shown);
		goto out;
	}
	if (!has_alnum(&norm)) {
		if (encrypted) {
			*st = PDF_ENCRYPTED;
			serr_set(e, "%s is password-protected (encrypted): ask the candidate for an unprotected copy",
				 shown);
		} else if (strstr(buf_cstr(&r->err), "Error")) {
			*st = PDF_CORRUPT;
			serr_set(e, "%s is damaged and no text could be read (pdftotext: %s)", shown, diag);
		} else {
			*st = PDF_EMPTY;
			serr_set(e, "%s has no text layer (a scanned image?): its text must come from OCR or the candidate's Airtable fields",
				 shown);
		}
		goto out;
	}
	if (r->truncated)
		log_warn("cv text cut at the size cap", "file=\"%s\" max_kb=%d", shown,
			 cfg->pdf_max_text_kb);
	if (encrypted)
		log_info("encrypted cv opened without a password", "file=\"%s\"", shown);
	if (buf_append(text, norm.data, norm.len) < 0) {
		*st = PDF_LIMIT;
		serr_set(e, "%s: its text (%zu bytes) does not fit the caller's buffer", shown, norm.len);
		goto out;
	}
	*st = PDF_OK;
	rc = 0;
out:
	buf_free(&norm);
	return rc;
}

int pdf_extract_named(const struct config *cfg, const char *name, const void *data, size_t len,
		      struct buf *text, enum pdf_status *st, serr *e)
{
	const unsigned char *d = data;
	size_t max = (size_t)(cfg->pdf_max_mb > 0 ? cfg->pdf_max_mb : 20) * 1024 * 1024;
	size_t text_cap = (size_t)(cfg->pdf_max_text_kb > 0 ? cfg->pdf_max_text_kb : 512) * 1024;
	const char *tool = cfg->pdf_tool && *cfg->pdf_tool ? cfg->pdf_tool : "pdftotext";
	struct run_result r;
	char shown[128], path[4096];
	int encrypted, rc = -1;

	memset(&r, 0, sizeof(r));
	buf_init(&r.out, text_cap);
	buf_init(&r.err, STDERR_KEEP);
	display_name(name, shown, sizeof(shown));
	if (!data)
		len = 0;
	if (len > max) {
		*st = PDF_TOO_LARGE;
		serr_set(e, "%s is %.1f MB, over the %d MB limit (pdf.max_file_mb): ask the candidate for a smaller file",
			 shown, (double)len / (1024.0 * 1024.0), cfg->pdf_max_mb);
		goto out;
	}
	if (len < 5 || !find_bytes(d, len < MAGIC_WINDOW ? len : MAGIC_WINDOW, "%PDF-")) {
		*st = PDF_NOT_PDF;
		serr_set(e, "%s is not a pdf (%s): ask the candidate for a pdf export", shown,
			 guess_kind(d, len));
		goto out;
	}
	encrypted = looks_encrypted(d, len);
	if (resolve_tool(tool, path, sizeof(path)) < 0) {
		*st = PDF_TOOL_MISSING;
		serr_set(e, "pdf tool '%s' was not found (pdf.pdftotext): install poppler-utils", tool);
		goto out;
	}
	if (run_tool(cfg, path, data, len, text_cap, &r, e) < 0) {
		*st = PDF_CORRUPT;
		serr_wrap(e, "%s", shown);
		goto out;
	}
	rc = classify(cfg, shown, tool, encrypted, &r, text, st, e);
out:
	buf_free(&r.out);
	buf_free(&r.err);
	return rc;
}

int pdf_extract_text(const struct config *cfg, const void *data, size_t len, struct buf *text,
		     enum pdf_status *st, serr *e)
{
	return pdf_extract_named(cfg, NULL, data, len, text, st, e);
}
