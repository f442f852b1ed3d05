/*
 * Key files: creation (mode 0600, base64url and a newline, no temporary file
 * left behind), reloading the same key, known vectors (RFC 8032 for Ed25519,
 * RFC 7748 for X25519), and refusal of secret files that group or others may
 * access, of malformed files and of what is not a regular file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "retas-b64.h"
#include "retas-keys.h"
#include "retas-util.h"

/* RFC 8032 §7.1 test 1 and RFC 7748 §6.1 (Alice), as base64url. */
#define ED25519_SEED "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED25519_PK "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define X25519_SK "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo"
#define X25519_PK "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-keys-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/device.key", f->dir);
	umask(022);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[512];

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += !streq(e->d_name, ".") && !streq(e->d_name, "..");
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void keys_sign_create_and_reload(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair a, b;
	struct retas_error err = {0};
	uint8_t seed[32], msg[3] = {1, 2, 3}, sig[64];
	char text[128];

	assert_int_equal(retas_sign_keypair_load(f->path, 1, &a, &err), 0);
	assert_int_equal(file_mode(f->path), 0600);
	assert_int_equal(dir_entries(f->dir), 1);
	read_file(f->path, text, sizeof(text));
	assert_int_equal(strlen(text), 44);
	assert_int_equal(text[43], '\n');
	text[43] = '\0';
	assert_int_equal(retas_b64url_decode_key(text, seed, sizeof(seed)), 0);
	assert_memory_equal(seed, a.sk, 32);
	assert_memory_equal(a.pk, a.sk + 32, 32);

	assert_int_equal(retas_sign_keypair_load(f->path, 0, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* create on an existing file loads it rather than replacing it. */
	assert_int_equal(retas_sign_keypair_load(f->path, 1, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), b.sk), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), a.pk), 0);
}

static void keys_sign_two_files_differ(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair a, b;
	char other[160];

	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	assert_int_equal(retas_sign_keypair_load(f->path, 1, &a, NULL), 0);
	assert_int_equal(retas_sign_keypair_load(other, 1, &b, NULL), 0);
	assert_memory_not_equal(a.sk, b.sk, 32);
}

static void keys_sign_known_vector(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair kp;
	uint8_t pk[32];

	write_file(f->path, ED25519_SEED "\n", 0600);
	assert_int_equal(retas_sign_keypair_load(f->path, 0, &kp, NULL), 0);
	assert_int_equal(retas_b64url_decode_key(ED25519_PK, pk, sizeof(pk)), 0);
	assert_memory_equal(kp.pk, pk, 32);
	/* The trailing newline is optional on reading. */
	write_file(f->path, ED25519_SEED, 0400);
	assert_int_equal(retas_sign_keypair_load(f->path, 0, &kp, NULL), 0);
	assert_memory_equal(kp.pk, pk, 32);
}

static void keys_box_create_and_reload(void **state)
{
	struct fixture *f = *state;
	struct retas_box_keypair a, b;
	struct retas_error err = {0};
	uint8_t pk[32];

	assert_int_equal(retas_box_keypair_load(f->path, 1, &a, &err), 0);
	assert_int_equal(file_mode(f->path), 0600);
	assert_int_equal(dir_entries(f->dir), 1);
	assert_int_equal(crypto_scalarmult_base(pk, a.sk), 0);
	assert_memory_equal(pk, a.pk, 32);
	assert_int_equal(retas_box_keypair_load(f->path, 0, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	write_file(f->path, X25519_SK "\n", 0600);
	assert_int_equal(retas_box_keypair_load(f->path, 0, &b, &err), 0);
	assert_int_equal(retas_b64url_decode_key(X25519_PK, pk, sizeof(pk)), 0);
	assert_memory_equal(b.pk, pk, 32);
}

static void keys_refuse_group_or_other_access(void **state)
{
	static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601};
	struct fixture *f = *state;
	struct retas_sign_keypair kp, before;
	struct retas_box_keypair bkp;
	struct retas_error err = {0};
	char want[sizeof(err.message)];

	memset(&kp, 0x33, sizeof(kp));
	before = kp;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		write_file(f->path, ED25519_SEED "\n", modes[i]);
		assert_int_equal(retas_sign_keypair_load(f->path, 1, &kp, &err), -EPERM);
		assert_string_equal(err.reason, "key.mode");
		snprintf(want, sizeof(want),
			 "the secret key file %s has mode %04o: group or others may access it; it "
			 "must be 0600",
			 f->path, (unsigned)modes[i]);
		assert_string_equal(err.message, want);
		assert_memory_equal(&kp, &before, sizeof(kp));
		assert_int_equal(retas_box_keypair_load(f->path, 1, &bkp, &err), -EPERM);
		/* Refused, not tightened or replaced. */
		assert_int_equal(file_mode(f->path), modes[i]);
	}
}

static void keys_missing_without_create(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair kp;
	struct retas_box_keypair bkp;
	struct retas_error err = {0};
	char want[sizeof(err.message)];

	assert_int_equal(retas_sign_keypair_load(f->path, 0, &kp, &err), -ENOENT);
	assert_string_equal(err.reason, "key.missing");
	snprintf(want, sizeof(want), "the key file %s does not exist", f->path);
	assert_string_equal(err.message, want);
	assert_int_equal(retas_box_keypair_load(f->path, 0, &bkp, &err), -ENOENT);
	assert_int_equal(dir_entries(f->dir), 0);
}

static void keys_malformed_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    "short\n",
	    ED25519_SEED "\n\n",
	    ED25519_SEED "A\n",
	    ED25519_SEED " \n",
	    " " ED25519_SEED "\n",
	    "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n", /* base64, not base64url */
	    "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n",
	    "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B\n", /* non-zero padding bits */
	};
	struct fixture *f = *state;
	struct retas_sign_keypair kp;
	struct retas_error err = {0};
	char want[sizeof(err.message)];

	snprintf(want, sizeof(want),
		 "the key file %s does not hold one base64url key of 32 bytes and a newline",
		 f->path);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		write_file(f->path, bad[i], 0600);
		if (retas_sign_keypair_load(f->path, 1, &kp, &err) != -EINVAL)
			fail_msg("case %zu accepted", i);
		assert_string_equal(err.reason, "key.format");
		assert_string_equal(err.message, want);
	}
}

static void keys_not_regular_file_refused(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair kp;
	struct retas_error err = {0};
	char link_path[160], target[160];

	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(retas_sign_keypair_load(f->path, 1, &kp, &err), -EINVAL);
	assert_string_equal(err.reason, "key.type");
	assert_int_equal(rmdir(f->path), 0);

	/* A symbolic link is not followed: someone could point it anywhere. */
	snprintf(target, sizeof(target), "%s/target.key", f->dir);
	snprintf(link_path, sizeof(link_path), "%s/link.key", f->dir);
	write_file(target, ED25519_SEED "\n", 0600);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(retas_sign_keypair_load(link_path, 1, &kp, &err), -ELOOP);
	assert_string_equal(err.reason, "key.open");
}

static void keys_create_in_missing_dir(void **state)
{
	struct fixture *f = *state;
	struct retas_sign_keypair kp;
	struct retas_error err = {0};
	char path[160];

	snprintf(path, sizeof(path), "%s/nodir/device.key", f->dir);
	assert_int_equal(retas_sign_keypair_load(path, 1, &kp, &err), -ENOENT);
	assert_string_equal(err.reason, "key.write");
}

static void keys_pubkey_write(void **state)
{
	struct fixture *f = *state;
	struct retas_error err = {0};
	uint8_t pk[32];
	char text[128];

	assert_int_equal(retas_b64url_decode_key(ED25519_PK, pk, sizeof(pk)), 0);
	umask(077);
	assert_int_equal(retas_pubkey_write(f->path, pk, &err), 0);
	umask(022);
	assert_int_equal(file_mode(f->path), 0644);
	read_file(f->path, text, sizeof(text));
	assert_string_equal(text, ED25519_PK "\n");
	/* A public key file may be replaced. */
	memset(pk, 0, sizeof(pk));
	assert_int_equal(retas_pubkey_write(f->path, pk, &err), 0);
	read_file(f->path, text, sizeof(text));
	assert_string_equal(text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	assert_int_equal(dir_entries(f->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(keys_sign_create_and_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_sign_two_files_differ, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_sign_known_vector, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_box_create_and_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_refuse_group_or_other_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_missing_without_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_malformed_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_not_regular_file_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_create_in_missing_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(keys_pubkey_write, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
