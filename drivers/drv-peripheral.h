/*
 * The one shape every device class (fingerprint, camera, signature pad)
 * lists its attached devices in, so `retas devices` and the daemon's
 * health check show every class with the same code: each class exports one
 * drv_list_fn and adding a class to a listing is one table line.
 * Header only; no library behind it.
 */
#pragma once

#include <stddef.h>

#include "retas-error.h"

struct drv_peripheral {
	char model[64];	   /* what the officer reads, e.g. "NEXT Biometrics NB-1010-U" */
	char driver[32];   /* the driver serving it, e.g. "nb1010" */
	char location[48]; /* where it is attached, e.g. "usb 3:7" */
	char serial[64];   /* "" when unknown */
};

/*
 * Lists the attached devices of one class. *out is an array the caller
 * frees with free() (NULL when *n is 0). Finding none is not an error.
 */
typedef int (*drv_list_fn)(struct drv_peripheral **out, size_t *n, struct retas_error *err);
