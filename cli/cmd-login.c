/*
 * retas login NIP: logs an officer of the current surat tugas in. The PIN
 * is read from the terminal with echo off, or with --pin-stdin as one line
 * of standard input for scripts; it never appears on the command line,
 * where other users could read it from /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "retas-util.h"
#include "varlink.h"

#define PIN_MAX 64

static int cmd_login_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_login_entry = {
    .name = "login",
    .args = "NIP [--pin-stdin] [--json]",
    .summary = N_("Log in as an officer named in the surat tugas."),
    .help = N_("Asks for the officer's PIN on the terminal without showing it.\n"
	       "\n"
	       "  --pin-stdin   read the PIN as one line from standard input\n"
	       "\n"
	       "Wrong PINs count; too many of them lock the NIP for a while. A login\n"
	       "without activity ends by itself after the time set in retasd.conf.\n"),
    .exec = cmd_login_exec,
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Reads one line into buf (without its newline) from fd; -EINTR when a
 * signal came, -ENODATA at end of input before a newline and no text. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t got = read(fd, &c, 1);

		if (got < 0)
			return -errno;
		if (got == 0 || c == '\n')
			break;
		if (n + 1 >= size)
			return -E2BIG;
		buf[n++] = c;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n ? 0 : -ENODATA;
}

static int read_pin_tty(const char *nip, char *buf, size_t size)
{
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term, old_quit;
	struct termios saved, quiet;
	_cleanup_(closep) int fd = -1;
	int r;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || tcgetattr(fd, &saved) < 0)
		return -ENOTTY;
	/* No SA_RESTART: a signal ends the read, and the echo comes back. */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGQUIT, &sa, &old_quit);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	dprintf(fd, _("PIN for NIP %s: "), nip);
	r = tcsetattr(fd, TCSAFLUSH, &quiet) < 0 ? -errno : 0;
	if (r == 0)
		r = read_line(fd, buf, size);
	tcsetattr(fd, TCSAFLUSH, &saved);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (interrupted) {
		dprintf(fd, "\n");
		raise(interrupted);
	}
	return r;
}

static bool nip_ok(const char *nip)
{
	if (strlen(nip) != 18)
		return false;
	for (const char *p = nip; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int cmd_login_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_login_entry;
	struct cli_reply reply = {0};
	const char *nip = NULL;
	bool from_stdin = false, print;
	char pin[PIN_MAX + 2], t[64];
	json_object *params;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--pin-stdin"))
			from_stdin = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(e, _("unknown option '%s'"), argv[i]);
		else if (nip)
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
		else
			nip = argv[i];
	}
	if (!nip)
		return cli_usage_error(e, _("give the officer's NIP"));
	if (!nip_ok(nip))
		return cli_usage_error(e, _("a NIP is 18 digits, not '%s'"), nip);
	r = from_stdin ? read_line(STDIN_FILENO, pin, sizeof(pin))
		       : read_pin_tty(nip, pin, sizeof(pin));
	if (r == -ENOTTY) {
		cli_error(_("no terminal to read the PIN from; use --pin-stdin"));
		return CLI_EXIT_USAGE;
	}
	if (r == -E2BIG) {
		explicit_bzero(pin, sizeof(pin));
		cli_error(_("the PIN is longer than %d characters"), PIN_MAX);
		return CLI_EXIT_USAGE;
	}
	if (r < 0) {
		cli_error(_("no PIN given"));
		return CLI_EXIT_USAGE;
	}
	params = json_object_new_object();
	json_object_object_add(params, "nip", json_object_new_string(nip));
	json_object_object_add(params, "pin", json_object_new_string(pin));
	explicit_bzero(pin, sizeof(pin));
	r = cli_call(ctx, "Login", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print) {
		printf(_("Logged in: %s (NIP %s).\n"), cli_str(reply.params, "login.officer.nama"),
		       cli_str(reply.params, "login.officer.nip"));
		if (*cli_str(reply.params, "login.idle_logout_at"))
			printf(_("Without activity the login ends at %s.\n"),
			       cli_time(cli_str(reply.params, "login.idle_logout_at"), t));
	}
	cli_reply_clear(&reply);
	return r;
}
