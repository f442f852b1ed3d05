/* The fingerprint drivers, one line each. A new reader is one driver file
 * and one line here; callers find it through fp_device_open(). */
#include <stddef.h>

#include "fp-nb1010.h"

const struct fp_driver_ops *const fp_drivers[] = {
    &fp_nb1010_ops,
    NULL,
};
