/* The store's migrations and the audit log's hash chain, on a temporary
 * database: rows chain, any change to a row is found at that row, the
 * schema refuses updates and deletes, and a newer schema is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "store.h"

struct fixture {
	char dir[64];
	char path[96];
	struct rd_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct retas_error err = {0};

	snprintf(f->dir, sizeof(f->dir), "/tmp/retasd-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/retasd.db", f->dir);
	assert_int_equal(rd_store_open(f->path, 1000, &f->s, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	rd_store_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void append_rows(struct rd_store *s, int n)
{
	for (int i = 0; i < n; i++) {
		struct rd_audit_entry e = {
		    .at_ms = 1764000000000 + i,
		    .event = i % 2 ? "Login" : "OpenSession",
		    .outcome = i % 3 ? "ok" : "refused",
		    .reason = i % 3 ? "" : "login.required",
		    .uid = 1000,
		    .pid = 4242 + i,
		    .detail = "{\"petugas\":0}",
		};
		int64_t id = 0;

		assert_int_equal(rd_audit_append(s, &e, &id), 0);
		assert_int_equal(id, i + 1);
	}
}

static void exec_sql(struct rd_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(rd_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static void store_migrates_to_latest(void **state)
{
	struct fixture *f = *state;
	struct retas_error err = {0};
	char *integrity = NULL;

	assert_int_equal(rd_store_version(f->s), rd_store_latest_version());
	assert_int_equal(rd_store_integrity_check(f->s, &integrity), 0);
	assert_string_equal(integrity, "ok");
	free(integrity);
	/* Reopening migrates nothing and keeps the version. */
	rd_store_free(f->s);
	assert_int_equal(rd_store_open(f->path, 1000, &f->s, &err), 0);
	assert_int_equal(rd_store_version(f->s), rd_store_latest_version());
}

static void store_refuses_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct retas_error err = {0};
	struct rd_store *other = NULL;
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", rd_store_latest_version() + 1);
	exec_sql(f->s, sql);
	assert_int_equal(rd_store_open(f->path, 1000, &other, &err), -EPROTO);
	assert_string_equal(err.reason, "store.version");
	assert_null(other);
}

static void audit_empty_chain_verifies(void **state)
{
	struct fixture *f = *state;
	struct rd_audit_check c;
	static const uint8_t zeros[RD_AUDIT_HASH_LEN];

	assert_int_equal(rd_audit_verify(f->s, &c), 0);
	assert_int_equal(c.rows, 0);
	assert_int_equal(c.first_bad, 0);
	assert_memory_equal(c.head, zeros, sizeof(zeros));
}

static void audit_chain_verifies_and_links(void **state)
{
	struct fixture *f = *state;
	struct rd_audit_check c;
	sqlite3_stmt *st;
	uint8_t prev[RD_AUDIT_HASH_LEN] = {0};

	append_rows(f->s, 10);
	assert_int_equal(rd_audit_verify(f->s, &c), 0);
	assert_int_equal(c.rows, 10);
	assert_int_equal(c.first_bad, 0);
	assert_null(c.problem);
	/* Each row's prev is the hash of the row before. */
	assert_int_equal(sqlite3_prepare_v2(rd_store_db(f->s),
					    "SELECT prev, hash FROM audit ORDER BY id", -1, &st,
					    NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_memory_equal(sqlite3_column_blob(st, 0), prev, RD_AUDIT_HASH_LEN);
		memcpy(prev, sqlite3_column_blob(st, 1), RD_AUDIT_HASH_LEN);
	}
	sqlite3_finalize(st);
	assert_memory_equal(c.head, prev, RD_AUDIT_HASH_LEN);
}

static void audit_schema_is_append_only(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = rd_store_db(f->s);

	append_rows(f->s, 2);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET pid = 1", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
}

static void expect_break(struct rd_store *s, int64_t row, const char *problem)
{
	struct rd_audit_check c;

	assert_int_equal(rd_audit_verify(s, &c), 0);
	assert_int_equal(c.first_bad, row);
	assert_string_equal(c.problem, problem);
}

static void expect_intact(struct rd_store *s)
{
	struct rd_audit_check c;

	assert_int_equal(rd_audit_verify(s, &c), 0);
	assert_int_equal(c.first_bad, 0);
}

static void audit_tampering_found_at_its_row(void **state)
{
	static const char *const edits[] = {
	    "UPDATE audit SET at = at + 1 WHERE id = 4",
	    "UPDATE audit SET event = 'Logout' WHERE id = 4",
	    "UPDATE audit SET outcome = 'ok' WHERE id = 4",
	    "UPDATE audit SET reason = '' WHERE id = 4",
	    "UPDATE audit SET uid = 0 WHERE id = 4",
	    "UPDATE audit SET pid = 1 WHERE id = 4",
	    "UPDATE audit SET detail = '{\"petugas\":1}' WHERE id = 4",
	    "UPDATE audit SET hash = zeroblob(32) WHERE id = 4",
	};
	struct fixture *f = *state;

	append_rows(f->s, 6);
	exec_sql(f->s, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		exec_sql(f->s, "SAVEPOINT t");
		exec_sql(f->s, edits[i]);
		expect_break(f->s, 4, "hash");
		exec_sql(f->s, "ROLLBACK TO t; RELEASE t");
		expect_intact(f->s);
	}
}

static void audit_relinked_row_found_by_link(void **state)
{
	struct fixture *f = *state;

	append_rows(f->s, 6);
	exec_sql(f->s, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
	exec_sql(f->s, "UPDATE audit SET prev = zeroblob(32) WHERE id = 3");
	expect_break(f->s, 3, "link");
}

static void audit_deleted_row_found_by_sequence(void **state)
{
	struct fixture *f = *state;

	append_rows(f->s, 6);
	exec_sql(f->s, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
	exec_sql(f->s, "DELETE FROM audit WHERE id = 2");
	expect_break(f->s, 3, "sequence");
}

static void audit_append_joins_open_transaction(void **state)
{
	struct fixture *f = *state;
	struct rd_audit_entry e = {.at_ms = 1,
				   .event = "X",
				   .outcome = "ok",
				   .reason = "",
				   .uid = 0,
				   .pid = 1,
				   .detail = "{}"};
	struct rd_audit_check c;

	assert_int_equal(rd_store_txn_begin(f->s), 0);
	assert_int_equal(rd_audit_append(f->s, &e, NULL), 0);
	rd_store_txn_rollback(f->s);
	assert_int_equal(rd_audit_verify(f->s, &c), 0);
	assert_int_equal(c.rows, 0);
	assert_int_equal(rd_store_txn_begin(f->s), 0);
	assert_int_equal(rd_audit_append(f->s, &e, NULL), 0);
	assert_int_equal(rd_store_txn_commit(f->s), 0);
	assert_int_equal(rd_audit_verify(f->s, &c), 0);
	assert_int_equal(c.rows, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(store_migrates_to_latest, setup, teardown),
	    cmocka_unit_test_setup_teardown(store_refuses_newer_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_empty_chain_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_chain_verifies_and_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_schema_is_append_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_tampering_found_at_its_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_relinked_row_found_by_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_deleted_row_found_by_sequence, setup, teardown),
	    cmocka_unit_test_setup_teardown(audit_append_joins_open_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
