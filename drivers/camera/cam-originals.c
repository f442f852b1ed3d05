/*
 * Keeping camera originals on the laptop, only when the configuration asks
 * for it and only for its retention time (see cam-photo.h). An original is
 * written to a temporary name and renamed, so a crash never leaves half a
 * photo under a real name; the purge removes those leftovers too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cam-photo.h"
#include "retas-i18n.h"

static bool plain_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 200 && name[0] != '.' && !strchr(name, '/');
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

int cam_original_keep(const char *dir, const char *name, const uint8_t *data, size_t len,
		      struct retas_error *err)
{
	char path[4096], tmp[4096];
	int fd, r = 0;

	if (!plain_name(name) || !ends_with(name, ".jpg"))
		return retas_error_set(err, -EINVAL, "photo.original_name",
				       N_("'%s' is not a valid name for an original photo."), name);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp))
		return retas_error_set(err, -ENAMETOOLONG, "photo.original_name",
				       N_("The originals directory path is too long."));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		return retas_error_set(err, r, "photo.original_write",
				       N_("Cannot keep the original photo in %s: %s."), dir,
				       strerror(-r));
	}
	while (len > 0 && r == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return retas_error_set(err, r, "photo.original_write",
				       N_("Cannot keep the original photo in %s: %s."), dir,
				       strerror(-r));
	}
	return 0;
}

int cam_original_purge(const char *dir, int64_t now_ms, int64_t retention_ms, unsigned *removed)
{
	int64_t cutoff = now_ms - retention_ms;
	struct dirent *de;
	unsigned count = 0;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		int64_t mtime;
		bool ours = (de->d_name[0] != '.' && ends_with(de->d_name, ".jpg")) ||
			    (de->d_name[0] == '.' && ends_with(de->d_name, ".jpg.tmp"));

		if (!ours || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (mtime >= cutoff)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			if (r == 0)
				r = -errno;
			continue;
		}
		count++;
	}
	closedir(d);
	if (removed)
		*removed = count;
	return r;
}
