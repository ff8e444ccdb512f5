/*
 * The `onggi` command as `make setup` installs it: the warm CLI's client in C
 * (as Mercurial's chg is hg's).
 *
 * Why C: the Python client (runtime/cli/warm.py, client()) does almost nothing,
 * yet a Python interpreter needs ~7 ms to start before it can do it, a third of
 * a whole container launch. This program does the same in well under 1 ms: it
 * hands the warm server its arguments, environment, working directory, umask
 * and fds 0, 1 and 2, passes on the signals it gets, and exits with the
 * command's exit code. It speaks warm.py's protocol exactly:
 *
 *   -> len (4 bytes, big-endian) + marshal((argv, env, cwd, umask)), fds 0 1 2 (SCM_RIGHTS)
 *   <- 'P' pid (4 bytes, big-endian)   the worker that runs the command
 *   <- 'X' code (4 bytes, big-endian)  its exit code
 *   <- 'S'                             stale server: run the command yourself
 *
 * Whenever there is no warm server to run it (none yet, a stale one, warm
 * turned off, not root, `serve`), it becomes the Python CLI (execv), which
 * runs the command itself and starts a server for the next one. So this
 * program never runs a command on its own and holds no logic beyond the
 * protocol; a bug here shows as "falls back to Python", never as a wrong answer.
 *
 * Build: cc -O2 -DONGGI_PYTHON='"/path/to/venv/bin/python"' -o onggi client.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef ONGGI_PYTHON
#error "build with -DONGGI_PYTHON='\"/path/to/python\"' (the venv's python)"
#endif

extern char **environ;

/* --- becoming the Python CLI ------------------------------------------------------- */

static void python_cli(int argc, char **argv) __attribute__((noreturn));

static void python_cli(int argc, char **argv)
{
	/* -P: do not put the working directory first on sys.path (a `runtime/`
	 * there must not shadow onggi's). argv[0] must be the interpreter's own
	 * path: Python finds its venv from it. */
	char **args = calloc((size_t)argc + 4, sizeof(char *));
	if (args != NULL) {
		args[0] = ONGGI_PYTHON;
		args[1] = "-P";
		args[2] = "-c";
		args[3] = "from runtime.cli import main; main()";
		memcpy(args + 4, argv + 1, sizeof(char *) * (size_t)argc);   /* and its NULL */
		execv(ONGGI_PYTHON, args);
	}
	fprintf(stderr, "onggi: cannot start %s: %s. Run `make setup` again\n", ONGGI_PYTHON,
		strerror(errno));
	exit(125);
}

/* --- marshal, the part of it warm.py's payload uses --------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
	int bad;                       /* out of memory, or text marshal would refuse */
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n)
			cap *= 2;
		char *data = realloc(b->data, cap);
		if (data == NULL) {
			b->bad = 1;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_i32(struct buf *b, char type, int32_t v)   /* a type byte, then w_long: little-endian */
{
	unsigned char raw[5] = {(unsigned char)type, (unsigned char)v, (unsigned char)(v >> 8),
				(unsigned char)(v >> 16), (unsigned char)((uint32_t)v >> 24)};
	put(b, raw, sizeof raw);
}

/* Well-formed UTF-8 only (no overlongs, no surrogates, nothing past U+10FFFF):
 * what marshal.loads() decodes. Anything else goes to the Python CLI, which
 * carries undecodable bytes its own way. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t more;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			more = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			more = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (more >= n - i)                /* cut short */
			return 0;
		for (size_t k = 1; k <= more; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += more + 1;
	}
	return 1;
}

static void put_str(struct buf *b, const char *s, size_t n)
{
	if (n > INT32_MAX || !utf8_ok((const unsigned char *)s, n)) {
		b->bad = 1;
		return;
	}
	put_i32(b, 'u', (int32_t)n);
	put(b, s, n);
}

static void payload(struct buf *b, int argc, char **argv)
{
	char cwd[8192];
	mode_t mask = umask(022);
	umask(mask);
	if (getcwd(cwd, sizeof cwd) == NULL) {
		b->bad = 1;
		return;
	}
	put_i32(b, '(', 4);
	put_i32(b, '[', argc - 1);
	for (int i = 1; i < argc; i++)
		put_str(b, argv[i], strlen(argv[i]));
	put(b, "{", 1);
	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL || eq == *e)
			continue;             /* as os.environ: no name, no entry */
		put_str(b, *e, (size_t)(eq - *e));
		put_str(b, eq + 1, strlen(eq + 1));
	}
	put(b, "0", 1);               /* TYPE_NULL ends a dict */
	put_str(b, cwd, strlen(cwd));
	put_i32(b, 'i', (int32_t)mask);
}

/* --- talking to the server ------------------------------------------------------------ */

static volatile sig_atomic_t worker;          /* its pid, once the server said it */
static volatile sig_atomic_t terminating;     /* the last signal passed on that ends a process */

static void forward(int sig)
{
	if (sig != SIGWINCH)
		terminating = sig;
	if (worker > 0)
		kill((pid_t)worker, sig);
}

static int send_request(int sock, const struct buf *b)
{
	unsigned char head[4] = {(unsigned char)(b->len >> 24), (unsigned char)(b->len >> 16),
				 (unsigned char)(b->len >> 8), (unsigned char)b->len};
	int fds[3] = {0, 1, 2};
	char control[CMSG_SPACE(sizeof fds)];
	memset(control, 0, sizeof control);
	struct iovec iov[2] = {{head, sizeof head}, {b->data, b->len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = control, .msg_controllen = sizeof control};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	size_t total = sizeof head + b->len;
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return -1;
	/* The fds went with the first byte; the rest of a large payload may follow. */
	for (size_t done = (size_t)n; done < total; done += (size_t)n) {
		const char *from = done < sizeof head ? (const char *)head + done : b->data + (done - sizeof head);
		size_t left = done < sizeof head ? sizeof head - done : total - done;
		n = send(sock, from, left, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return -1;
	}
	return 0;
}

/* The command's exit code; -1: the server will not run it (stale, or went away first). */
static int await_answer(int sock)
{
	unsigned char in[64];
	size_t have = 0;
	for (;;) {
		ssize_t n = recv(sock, in + have, sizeof in - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (worker > 0 && terminating)   /* it died of the signal we passed on */
				return 128 + terminating;
			if (worker > 0) {
				fputs("onggi: the command's worker process died unexpectedly. "
				      "Run again with ONGGI_NO_WARM=1 to see why\n", stderr);
				return 125;
			}
			return -1;
		}
		have += (size_t)n;
		while (have >= 1) {
			if (in[0] == 'S')
				return -1;
			if (have < 5)
				break;
			int32_t value = (int32_t)((uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
						  (uint32_t)in[3] << 8 | in[4]);
			if (in[0] == 'X')
				return value & 0xFF;
			if (in[0] == 'P')
				worker = value;
			memmove(in, in + 5, have - 5);
			have -= 5;
		}
	}
}

int main(int argc, char **argv)
{
	const char *off = getenv("ONGGI_NO_WARM");
	if (argc < 2 || strcmp(argv[1], "serve") == 0 || geteuid() != 0 || (off != NULL && *off))
		python_cli(argc, argv);       /* as warm.py's _warm_allowed() */

	/* The request first: one we cannot make must not take a server's worker. */
	struct buf b = {0};
	payload(&b, argc, argv);
	if (b.bad)
		python_cli(argc, argv);

	const char *run = getenv("ONGGI_RUN");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int len = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/cli.sock",
			   run != NULL && *run ? run : "/run/onggi");
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (len < 0 || (size_t)len >= sizeof addr.sun_path || sock < 0 ||
	    connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0)
		python_cli(argc, argv);       /* no server: Python runs it and starts one */
	if (send_request(sock, &b) != 0)
		python_cli(argc, argv);

	struct sigaction sa = {.sa_handler = forward};   /* no SA_RESTART: recv sees EINTR */
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	int code = await_answer(sock);
	if (code < 0) {
		close(sock);
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		python_cli(argc, argv);
	}
	return code;
}
