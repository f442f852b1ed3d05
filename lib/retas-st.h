/*
 * The surat tugas (assignment letter) contract of DESIGN.md §6: a JWS with
 * typ "retas-st+jws" whose payload is typ "retas.surat-tugas.v1" JSON.
 * Parsing validates every field; the questions the daemon asks of a letter
 * (valid now? for this van? is this NIP an officer? is this PIN right?) are
 * functions here so the daemon and the CLI answer them the same way.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-regions.h"
#include "retas-time.h"

#define RETAS_ST_JWS_TYP "retas-st+jws"
#define RETAS_ST_PAYLOAD_TYP "retas.surat-tugas.v1"
#define RETAS_ST_MAX_PETUGAS 16

struct retas_st_petugas {
	char nip[19];
	char *nama;
	char *pin; /* PHC argon2id string */
};

struct retas_st {
	char *nomor;
	struct retas_date tanggal;
	int64_t valid_from;  /* Unix ms */
	int64_t valid_until; /* Unix ms, > valid_from */
	int valid_offset_min; /* offset valid_from was written with (WIB: 420) */
	struct {
		char npsn[9];
		char *nama;
		char *alamat;
		char kecamatan[7];
	} sekolah;
	struct retas_st_petugas *petugas;
	size_t n_petugas;
	struct {
		char *id;
		uint8_t device_key[32];
	} kendaraan;
	struct {
		char *url;
		uint8_t seal_key[32];
	} hq;
	int min_age;
	int jari[10]; /* ISO/IEC 19794-4 finger positions 1..10, no repeats */
	size_t n_jari;
	struct {
		char nip[19];
		char *nama;
		char *jabatan;
	} penandatangan;
	char *kid;   /* the JWS header's kid, NULL when absent or parsed bare */
	char *token; /* the JWS as received, NULL when parsed bare */
};

/*
 * Parses and validates a payload (len bytes of JSON). regions, when not NULL,
 * checks sekolah.kecamatan. Errors name the field: err->reason is
 * "st.<field>" (st.json st.typ st.nomor st.tanggal st.valid_from
 * st.valid_until st.window st.npsn st.sekolah st.kecamatan st.petugas st.nip
 * st.pin st.kendaraan st.device_key st.hq st.seal_key st.min_age st.jari
 * st.penandatangan).
 */
int retas_st_parse(const char *json, size_t len, const struct retas_regions *regions,
		   struct retas_st **out, struct retas_error *err);

/* Verifies the JWS against the HQ signing key and parses its payload. */
int retas_st_verify(const char *token, size_t len, const uint8_t hq_sign_pk[32],
		    const struct retas_regions *regions, struct retas_st **out,
		    struct retas_error *err);

/* Serialises st as payload JSON (new string, caller frees); the inverse of
 * retas_st_parse. Head office signs the result with retas_jws_sign. */
int retas_st_to_json(const struct retas_st *st, char **out);

/* 0 when now_ms lies in [valid_from, valid_until); -EKEYEXPIRED with reason
 * st.expired after, -EKEYREJECTED with reason st.not-yet-valid before. */
int retas_st_check_time(const struct retas_st *st, int64_t now_ms, struct retas_error *err);
/* 0 when the letter names this van's device key; -EPERM st.other-van. */
int retas_st_check_van(const struct retas_st *st, const uint8_t device_pk[32],
		       struct retas_error *err);
/* The officer with this NIP, or NULL. Borrowed from st. */
const struct retas_st_petugas *retas_st_find_petugas(const struct retas_st *st, const char *nip);
/* 0 when pin matches the officer's argon2id hash, -EACCES otherwise. Slow
 * by design (argon2id): call it off the event loop. */
int retas_st_check_pin(const struct retas_st_petugas *p, const char *pin);

void retas_st_free(struct retas_st *st);
