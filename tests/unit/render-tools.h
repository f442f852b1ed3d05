/*
 * Running poppler-utils and zbar-tools from the renderer tests: a scratch
 * directory, writing a buffer to a file in it, and a command's standard
 * output captured whole. A test program exits 77 (skipped) when a tool it
 * needs is not installed.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static inline bool tool_present(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096], *save = NULL, *dir;

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char full[4200];

		snprintf(full, sizeof(full), "%s/%s", dir, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* Exits 77 unless every tool named is installed. */
static inline void tools_or_skip(const char *const *names)
{
	for (; *names; names++)
		if (!tool_present(*names)) {
			fprintf(stderr, "%s is not installed: skipped\n", *names);
			exit(77);
		}
}

static inline char *scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[512];

	snprintf(buf, sizeof(buf), "%s/retas-render-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(buf))
		return NULL;
	return strdup(buf);
}

static inline int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wbe");
	int r = 0;

	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * Runs argv (searched in PATH) with stdout into a new NUL-terminated string
 * (*out, caller frees) and stderr to ours. Returns the exit status, or -1
 * when the program could not run or was killed.
 */
static inline int run_capture(char *const argv[], char **out, size_t *out_len)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status = -1;
	pid_t pid;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	for (;;) {
		ssize_t n;

		if (len + 4097 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = read(fds[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = buf;
	if (out_len)
		*out_len = len;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Collapses runs of blanks to one space and line ends to "\n", so table
 * cells laid out by pdftotext -layout read as "label 3 1". */
static inline void squeeze(char *s)
{
	char *w = s;
	bool blank = false;

	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t') {
			blank = true;
			continue;
		}
		if (blank && w != s && w[-1] != '\n' && *r != '\n')
			*w++ = ' ';
		blank = false;
		*w++ = *r;
	}
	*w = '\0';
}

static inline void remove_tree(const char *dir)
{
	char *const argv[] = {(char *)"rm", (char *)"-rf", (char *)dir, NULL};
	char *out = NULL;

	run_capture(argv, &out, NULL);
	free(out);
}
