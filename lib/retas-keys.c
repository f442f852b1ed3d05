/*
 * Key files: one base64url raw key and a newline. A secret key file is
 * created once (first start) and must then survive power loss and never be
 * replaced behind the owner's back: it is written to a temporary file in the
 * same directory, fsynced, renamed into place with RENAME_NOREPLACE (so two
 * processes racing to create it end up sharing the first one's key), and the
 * directory is fsynced. A secret file that group or others can access is
 * refused rather than silently tightened: someone may already have read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-keys.h"
#include "retas-util.h"

#define KEY_LEN 32
/* base64url without padding of 32 bytes. */
#define KEY_B64_LEN 43

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	_cleanup_(freep) char *dir = NULL;
	_cleanup_(closep) int fd = -1;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Puts tmp at path. With noreplace, -EEXIST when path exists; filesystems
 * without RENAME_NOREPLACE get the same guarantee from link(). */
static int move_into_place(const char *tmp, const char *path, int noreplace)
{
	if (!noreplace)
		return rename(tmp, path) < 0 ? -errno : 0;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

/* Writes "B64\n" of key to path with mode, atomically. */
static int write_key_file(const char *path, const uint8_t *key, mode_t mode, int noreplace,
			  struct retas_error *err)
{
	_cleanup_(freep) char *tmp = NULL;
	_cleanup_(closep) int fd = -1;
	char *b64 = NULL;
	char line[KEY_B64_LEN + 2];
	int r;

	r = retas_b64url_encode(key, KEY_LEN, &b64);
	if (r < 0)
		goto out;
	memcpy(line, b64, KEY_B64_LEN);
	line[KEY_B64_LEN] = '\n';
	sodium_memzero(b64, KEY_B64_LEN);
	free(b64);
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, line, KEY_B64_LEN + 1);
	if (r == 0)
		r = fsync(fd) < 0 ? -errno : 0;
	if (r == 0)
		r = close(steal_fd(fd)) < 0 ? -errno : 0;
	if (r == 0)
		r = move_into_place(tmp, path, noreplace);
	if (r < 0) {
		unlink(tmp);
		if (r == -EEXIST)
			goto out;
		goto fail;
	}
	r = fsync_parent(path);
	if (r < 0)
		goto fail;
	goto out;
fail:
	retas_error_set(err, r, "key.write", N_("cannot write the key file %s: %s"), path,
			strerror(-r));
out:
	sodium_memzero(line, sizeof(line));
	return r;
}

/* Reads the 32-byte key of a file. secret: refuse group/other access. */
static int read_key_file(const char *path, int secret, uint8_t *key, struct retas_error *err)
{
	_cleanup_(closep) int fd = -1;
	char buf[KEY_B64_LEN + 3];
	struct stat st;
	size_t len = 0;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			retas_error_set(err, r, "key.missing", N_("the key file %s does not exist"),
					path);
		else
			retas_error_set(err, r, "key.open", N_("cannot open the key file %s: %s"),
					path, strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		retas_error_set(err, r, "key.open", N_("cannot open the key file %s: %s"), path,
				strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = retas_error_set(err, -EINVAL, "key.type",
				    N_("the key file %s is not a regular file"), path);
		goto out;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		r = retas_error_set(err, -EPERM, "key.mode",
				    N_("the secret key file %s has mode %04o: group or others may "
				       "access it; it must be 0600"),
				    path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* One byte more than a valid file, to see that it is too long. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			retas_error_set(err, r, "key.open", N_("cannot read the key file %s: %s"),
					path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == KEY_B64_LEN + 1 && buf[KEY_B64_LEN] == '\n')
		len--;
	if (len != KEY_B64_LEN) {
		r = retas_error_set(
		    err, -EINVAL, "key.format",
		    N_("the key file %s does not hold one base64url key of 32 bytes and a newline"),
		    path);
		goto out;
	}
	buf[KEY_B64_LEN] = '\0';
	r = retas_b64url_decode_key(buf, key, KEY_LEN);
	if (r < 0) {
		r = retas_error_set(
		    err, -EINVAL, "key.format",
		    N_("the key file %s does not hold one base64url key of 32 bytes and a newline"),
		    path);
		goto out;
	}
out:
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* Reads the secret of path, or creates it from fresh randomness when it is
 * missing and create is set. */
static int load_or_create(const char *path, int create, uint8_t *secret, struct retas_error *err)
{
	uint8_t fresh[KEY_LEN];
	int r;

	if (sodium_init() < 0)
		return retas_error_set(err, -EIO, "key.random",
				       N_("the cryptography library could not start"));
	r = read_key_file(path, 1, secret, err);
	if (r != -ENOENT || !create)
		return r;
	randombytes_buf(fresh, sizeof(fresh));
	r = write_key_file(path, fresh, 0600, 1, err);
	if (r == 0)
		memcpy(secret, fresh, KEY_LEN);
	else if (r == -EEXIST)
		/* Another process created it first: use that one. */
		r = read_key_file(path, 1, secret, err);
	sodium_memzero(fresh, sizeof(fresh));
	return r;
}

int retas_sign_keypair_load(const char *path, int create, struct retas_sign_keypair *out,
			    struct retas_error *err)
{
	uint8_t seed[KEY_LEN];
	struct retas_sign_keypair kp;
	int r;

	r = load_or_create(path, create, seed, err);
	if (r < 0)
		goto out;
	crypto_sign_seed_keypair(kp.pk, kp.sk, seed);
	*out = kp;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(&kp, sizeof(kp));
	return r;
}

int retas_box_keypair_load(const char *path, int create, struct retas_box_keypair *out,
			   struct retas_error *err)
{
	struct retas_box_keypair kp;
	int r;

	r = load_or_create(path, create, kp.sk, err);
	if (r < 0)
		goto out;
	if (crypto_scalarmult_base(kp.pk, kp.sk) != 0) {
		r = retas_error_set(err, -EINVAL, "key.format",
				    N_("the key file %s does not hold a usable X25519 key"), path);
		goto out;
	}
	*out = kp;
out:
	sodium_memzero(&kp, sizeof(kp));
	return r;
}

int retas_pubkey_write(const char *path, const uint8_t pk[32], struct retas_error *err)
{
	if (sodium_init() < 0)
		return retas_error_set(err, -EIO, "key.random",
				       N_("the cryptography library could not start"));
	return write_key_file(path, pk, 0644, 0, err);
}
