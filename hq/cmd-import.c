/*
 * retas-hq import DIR: batches from removable media (retas sync export),
 * with the same checks as an upload. Each batch's receipt is written next
 * to it (or into --receipts DIR) as BATCH-ID.receipt.jws for the van's
 * 'retas sync import-receipt'.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-ingest.h"
#include "retas-time.h"
#include "retas-util.h"
#include "sync-batch.h"

#define RECEIPT_EXT ".receipt.jws"

static int cmd_import_exec(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_import_entry = {
    .name = "import",
    .args = "DIR [--receipts DIR]",
    .summary = N_("Ingest batches from removable media and write their receipts."),
    .help = N_("Reads every *.retas-batch file in DIR, checks and stores it exactly as an\n"
	       "upload would be, and writes BATCH-ID.receipt.jws beside it (or into\n"
	       "--receipts DIR). Exits 1 when any batch was refused.\n"),
    .exec = cmd_import_exec,
};

static int write_receipt(const char *dir, const char *batch_id, const char *jws)
{
	_cleanup_(freep) char *path = NULL, *tmp = NULL;
	size_t len = strlen(jws);
	int fd, r = 0;

	if (asprintf(&path, "%s/%s" RECEIPT_EXT, dir, batch_id) < 0 ||
	    asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, jws, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int import_one(const struct hq_ctx *ctx, sqlite3 *db, const char *path, const char *receipts,
		      bool json)
{
	struct hq_ingest_result res = {0};
	struct retas_error err = {0};
	struct stat st;
	void *map = MAP_FAILED;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		hq_cli_error(_("%s: cannot read it"), path);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		hq_cli_error(_("%s: cannot read it"), path);
		return -EIO;
	}
	r = hq_ingest_batch(ctx, db, map, (size_t)st.st_size, NULL, "import", retas_time_now_ms(),
			    &res, &err);
	munmap(map, (size_t)st.st_size);
	if (r < 0) {
		hq_cli_error(_("%s: refused: %s"), path, err.message);
		if (json)
			printf("{\"file\":\"%s\",\"error\":\"%s\"}\n", path, err.reason);
		return r;
	}
	r = write_receipt(receipts, res.batch_id, res.receipt);
	if (r < 0)
		hq_cli_error(_("%s: stored, but cannot write its receipt into %s"), path, receipts);
	if (json)
		printf("{\"file\":\"%s\",\"batch\":\"%s\",\"van\":\"%s\",\"stored\":%zu,"
		       "\"already_received\":%zu,\"quarantined\":%zu,\"anomalies\":%zu}\n",
		       path, res.batch_id, res.van_id, res.stored, res.already, res.quarantined,
		       res.anomalies);
	else
		printf(_("%s: batch %s from %s: %zu stored, %zu already received, %zu quarantined, "
			 "%zu anomalies\n"),
		       path, res.batch_id, res.van_id, res.stored, res.already, res.quarantined,
		       res.anomalies);
	hq_ingest_result_clear(&res);
	return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_batch(const struct dirent *d)
{
	size_t n = strlen(d->d_name), e = strlen(SYNC_BATCH_EXT);

	return n > e && streq(d->d_name + n - e, SYNC_BATCH_EXT);
}

static int cmd_import_exec(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"receipts", required_argument, NULL, 'r'},
	    {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	struct dirent **list = NULL;
	const char *receipts = NULL, *dir;
	sqlite3 *db = NULL;
	int c, n, failed = 0, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			receipts = optarg;
		else
			return hq_cli_usage(&hq_cmd_import_entry);
	}
	if (optind + 1 != argc)
		return hq_cli_usage(&hq_cmd_import_entry);
	dir = argv[optind];
	if (!receipts)
		receipts = dir;
	n = scandir(dir, &list, is_batch, by_name);
	if (n < 0) {
		hq_cli_error(_("cannot read the directory %s: %s"), dir, strerror(errno));
		return HQ_EXIT_REFUSED;
	}
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		goto out;
	if (n == 0)
		hq_cli_error(_("%s holds no *%s files"), dir, SYNC_BATCH_EXT);
	for (int i = 0; i < n; i++) {
		_cleanup_(freep) char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0) {
			failed++;
			continue;
		}
		if (import_one(ctx, db, path, receipts, cli->json) < 0)
			failed++;
	}
	sqlite3_close(db);
	r = failed ? HQ_EXIT_REFUSED : HQ_EXIT_OK;
out:
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return r;
}
