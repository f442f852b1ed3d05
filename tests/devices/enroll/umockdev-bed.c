/*
 * umockdev-bed: runs a program (retasd) in a umockdev testbed built here
 * with libumockdev, so the test can act on an emulated device while the
 * program runs. umockdev-run's -e replays a pad's events from launch;
 * signatures are wanted when the enrolment reaches them, so this helper
 * writes them through the device's fd when the test says so.
 *
 * usage: umockdev-bed [--device FILE]... [--pcap SYSFS=FILE]... [--ioctl DEV=FILE]...
 *                     -- PROGRAM ARGS...
 * stdin, one command a line:
 *   events DEV FILE   writes FILE's evemu events ("E: sec.usec type code value")
 *                     to DEV now, as struct input_event at the pace of their
 *                     timestamps, and answers "written N"
 * stdout: "started pid=P" once the program runs. Exits with the program's
 * status (SIGTERM and SIGINT are passed on to it, and SIGHUP, so a test can
 * make retasd reload its configuration).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/input.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <umockdev.h>
#include <unistd.h>

static UMockdevTestbed *bed;
static GMainLoop *loop;
static GPid child;
static int child_status = 1;

static void die(const char *what, GError *e)
{
	fprintf(stderr, "umockdev-bed: %s: %s\n", what, e ? e->message : g_strerror(errno));
	exit(1);
}

static long write_events(const char *dev, const char *path)
{
	FILE *f = fopen(path, "r");
	int fd = umockdev_testbed_get_dev_fd(bed, dev);
	char line[256];
	long n = 0;
	double prev = -1;

	/* The node is a stream: events written in one burst could be read
	 * split across struct input_event boundaries, so they go out at the
	 * pace of their timestamps, as a pad sends them. */
	if (!f || fd < 0)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct input_event ev = {0};
		unsigned long sec, usec;
		unsigned type, code;
		int value;
		struct timeval now;

		if (sscanf(line, "E: %lu.%lu %x %x %d", &sec, &usec, &type, &code, &value) != 5)
			continue;
		if (prev >= 0 && (double)sec + (double)usec / 1e6 > prev)
			g_usleep((gulong)(((double)sec + (double)usec / 1e6 - prev) * 1e6));
		prev = (double)sec + (double)usec / 1e6;
		gettimeofday(&now, NULL);
		ev.input_event_sec = now.tv_sec;
		ev.input_event_usec = now.tv_usec;
		ev.type = (unsigned short)type;
		ev.code = (unsigned short)code;
		ev.value = value;
		if (write(fd, &ev, sizeof(ev)) != sizeof(ev)) {
			n = -1;
			break;
		}
		n++;
	}
	fclose(f);
	return n;
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	char *line = NULL, dev[256], path[4096];
	gsize len;
	GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);

	(void)cond;
	(void)data;
	if (st != G_IO_STATUS_NORMAL) {
		g_free(line);
		return G_SOURCE_REMOVE; /* end of stdin: the program runs on */
	}
	if (sscanf(line, "events %255s %4095s", dev, path) == 2)
		printf("written %ld\n", write_events(dev, path));
	else
		printf("unknown command\n");
	fflush(stdout);
	g_free(line);
	return G_SOURCE_CONTINUE;
}

static void on_child(GPid pid, gint status, gpointer data)
{
	(void)pid;
	(void)data;
	child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	g_main_loop_quit(loop);
}

static gboolean on_signal(gpointer data)
{
	kill(child, GPOINTER_TO_INT(data));
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	GError *e = NULL;
	GIOChannel *in;
	char **envp;
	const char *preload;
	char *pl;
	int i;

	bed = umockdev_testbed_new();
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		char *eq;

		if (i + 1 >= argc)
			die("usage", NULL);
		if (strcmp(argv[i], "--device") == 0) {
			if (!umockdev_testbed_add_from_file(bed, argv[++i], &e))
				die(argv[i], e);
			continue;
		}
		eq = strchr(argv[i + 1], '=');
		if (!eq)
			die("usage: X=FILE", NULL);
		*eq = '\0';
		if (strcmp(argv[i], "--pcap") == 0 &&
		    !umockdev_testbed_load_pcap(bed, argv[i + 1], eq + 1, &e))
			die(eq + 1, e);
		if (strcmp(argv[i], "--ioctl") == 0 &&
		    !umockdev_testbed_load_ioctl(bed, argv[i + 1], eq + 1, &e))
			die(eq + 1, e);
		i++;
	}
	if (i + 1 >= argc)
		die("usage: -- PROGRAM", NULL);
	envp = g_get_environ();
	envp = g_environ_setenv(envp, "UMOCKDEV_DIR", umockdev_testbed_get_root_dir(bed), TRUE);
	preload = g_environ_getenv(envp, "LD_PRELOAD");
	pl = preload && *preload ? g_strdup_printf("libumockdev-preload.so.0:%s", preload)
				 : g_strdup("libumockdev-preload.so.0");
	envp = g_environ_setenv(envp, "LD_PRELOAD", pl, TRUE);
	if (!g_spawn_async(NULL, argv + i + 1, envp,
			   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
			   NULL, NULL, &child, &e))
		die(argv[i + 1], e);
	printf("started pid=%d\n", (int)child);
	fflush(stdout);
	loop = g_main_loop_new(NULL, FALSE);
	g_child_watch_add(child, on_child, NULL);
	g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
	g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));
	in = g_io_channel_unix_new(0);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP, on_stdin, NULL);
	g_main_loop_run(loop);
	g_free(pl);
	g_strfreev(envp);
	g_object_unref(bed);
	return child_status;
}
