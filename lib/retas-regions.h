/*
 * Region master data (kode wilayah): the provinces' two-digit codes and, for
 * Kota Jambi, the city (1571) and its eleven kecamatan (157101..157111).
 * Read at start from a data file installed with the program, never from
 * literals in code.
 */
#pragma once

#include "retas-error.h"

struct retas_regions;

/* Loads the data file at path. The caller frees *out with retas_regions_free. */
int retas_regions_load(const char *path, struct retas_regions **out, struct retas_error *err);
/* Loads the installed file: $RETAS_DATADIR/wilayah.tsv when that variable is
 * set (tests, the build tree), RETAS_DATADIR/wilayah.tsv otherwise. */
int retas_regions_load_default(struct retas_regions **out, struct retas_error *err);
void retas_regions_free(struct retas_regions *r);

/* The name of a province (2 digits), regency/city (4) or kecamatan (6), or
 * NULL when the code is not in the data. Borrowed. */
const char *retas_regions_name(const struct retas_regions *r, const char *code);
/* True when code is a known province / a known kecamatan. */
int retas_regions_is_province(const struct retas_regions *r, const char *code);
int retas_regions_is_kecamatan(const struct retas_regions *r, const char *code);
