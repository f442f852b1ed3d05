/*
 * Key files. A key file holds one base64url raw key and a newline, mode
 * 0600; the Ed25519 secret key file holds the 32-byte seed, from which
 * libsodium's 64-byte secret key and the public key are derived.
 */
#pragma once

#include <stdint.h>

#include "retas-error.h"

struct retas_sign_keypair {
	uint8_t pk[32];
	uint8_t sk[64];
};

struct retas_box_keypair {
	uint8_t pk[32];
	uint8_t sk[32];
};

/* Loads the Ed25519 key pair from path; when the file does not exist and
 * create is set, generates one and writes it with mode 0600 (atomically:
 * temporary file, fsync, rename). Refuses a file readable by group or
 * others (-EPERM, reason key.mode). */
int retas_sign_keypair_load(const char *path, int create, struct retas_sign_keypair *out,
			    struct retas_error *err);
/* The same for an X25519 key pair (the file holds the 32-byte secret key). */
int retas_box_keypair_load(const char *path, int create, struct retas_box_keypair *out,
			   struct retas_error *err);
/* Writes a public key file (base64url and a newline, mode 0644). */
int retas_pubkey_write(const char *path, const uint8_t pk[32], struct retas_error *err);
