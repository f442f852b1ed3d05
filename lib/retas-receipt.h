/*
 * The student's receipt (resi) for a recorded KTP-el: the Dinas header,
 * name, NIK masked to its first six and last four digits, school, date,
 * officer, a record-only note with the date the card can be printed, and
 * a QR code holding the token head office scans at card issuance.
 *
 * Format: A6 portrait (105 x 148 mm), the size of the counter's receipts
 * and half an A5 sheet, so any office printer can print it. The PDF is
 * vector; the PNG is the same page at RETAS_RECEIPT_PNG_DPI, 8-bit grey,
 * with its resolution recorded (pHYs) so it prints at A6. The QR code uses
 * error correction level M, a quiet zone of 4 modules and whole device
 * pixels per module in the PNG. Part of the retas-render library.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-time.h"

#define RETAS_RECEIPT_TOKEN_MAX 512
#define RETAS_RECEIPT_PNG_DPI 200
/* A6 in points. */
#define RETAS_RECEIPT_WIDTH_PT 297.638
#define RETAS_RECEIPT_HEIGHT_PT 419.528

struct retas_receipt {
	const char *nama;	   /* UTF-8, 1..100 bytes */
	const char *nik;	   /* 16 digits or already masked; printed masked */
	const char *sekolah;	   /* UTF-8, 1..127 bytes */
	const char *npsn;	   /* 8 digits */
	struct retas_date tanggal; /* the recording date */
	const char *petugas_nama;  /* UTF-8, 1..100 bytes */
	const char *petugas_nip;   /* 18 digits */
	bool record_only;
	struct retas_date eligible_on; /* the 17th birthday, when record_only */
	/* The QR code's content, opaque to this module (its format is the
	 * receipt token's): printable ASCII, 1..RETAS_RECEIPT_TOKEN_MAX bytes. */
	const char *token;
};

/*
 * Renders the receipt as PDF or as PNG. *out is a new buffer of *len bytes
 * the caller frees. Every field is checked first. Errors (err->reason):
 * receipt.nama receipt.nik receipt.sekolah receipt.npsn receipt.tanggal
 * receipt.petugas receipt.nip receipt.eligible receipt.token receipt.qr
 * receipt.render receipt.memory.
 */
int retas_receipt_pdf(const struct retas_receipt *rc, uint8_t **out, size_t *len,
		      struct retas_error *err);
int retas_receipt_png(const struct retas_receipt *rc, uint8_t **out, size_t *len,
		      struct retas_error *err);
