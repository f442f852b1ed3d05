/*
 * The van's local index (DESIGN.md §3.2): what retasd keeps for its own
 * work about each student, since the sealed records are unreadable to it.
 * The NIK is looked up by a keyed hash (BLAKE2b under the local key) and
 * everything that names a student (NIK, name, class, gender, birth date) is
 * a JSON object encrypted with crypto_secretbox under the same key, which
 * lives in state_dir/local.key (0600) and nowhere else. The loaded roster
 * is the decrypted view the API methods work from.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-nik.h"
#include "retas-time.h"

#define RD_INDEX_KEY_BYTES 32

struct rd_daemon;

/* Reads the local key at path, creating it (0600) when absent. */
int rd_index_key_load(const char *path, uint8_t key[RD_INDEX_KEY_BYTES], struct retas_error *err);
/* The keyed hash of a 16-digit NIK. */
void rd_index_nik_hash(const uint8_t key[RD_INDEX_KEY_BYTES], const char *nik, uint8_t out[32]);
/* Encrypts the JSON text of o: *out (caller frees) is nonce || box. */
int rd_index_seal(const uint8_t key[RD_INDEX_KEY_BYTES], json_object *o, uint8_t **out,
		  size_t *len);
/* Decrypts and parses what rd_index_seal wrote; -EBADMSG when it does not
 * open under key. */
int rd_index_open(const uint8_t key[RD_INDEX_KEY_BYTES], const uint8_t *in, size_t len,
		  json_object **out);

enum rd_student_status {
	RD_STUDENT_PENDING,
	RD_STUDENT_ABSENT,
	RD_STUDENT_RECORDED,
};

struct rd_student {
	int64_t id;
	char nik[17];
	char *nama;
	char *kelas;
	enum retas_gender gender;
	struct retas_date birth;
	bool on_list;
	bool absent;
	char record_id[37];	 /* "" when not recorded */
	json_object *summary;	 /* the current record's summary, NULL when none */
	char *token;		 /* the current record's receipt token */
	int64_t recorded_at_ms;
	int n_records;
};

struct rd_roster {
	struct rd_student *s;
	size_t n;
};

enum rd_student_status rd_student_status(const struct rd_student *s);
const char *rd_student_status_name(enum rd_student_status st);
/* True when the current record has at least one finger exception. */
bool rd_student_has_exception(const struct rd_student *s);

/* Loads and decrypts every student of the current assignment. */
int rd_roster_load(struct rd_daemon *d, struct rd_roster *out);
void rd_roster_clear(struct rd_roster *r);
/* The student with this NIK, NULL when not in the roster. */
struct rd_student *rd_roster_find(struct rd_roster *r, const char *nik);

/* The JSON of an index entry for a student. */
json_object *rd_index_entry(const char *nik, const char *nama, const char *kelas,
			    enum retas_gender g, const struct retas_date *birth);

/* The date ages are taken on: the open (or last) session's, else the first
 * day of the letter's window, in WIB. */
void rd_session_date(const struct rd_daemon *d, struct retas_date *out);
/* The student's age and print eligibility on date. */
int rd_student_age(const struct rd_student *s, const struct retas_date *date, bool *record_only,
		   struct retas_date *eligible_on);
