/*
 * libFuzzer target: the sealed record reader (retas_record_read_header,
 * retas_record_verify, retas_record_open) with the fixed device and head
 * office keys of fuzz-common.h. Mutated bytes rarely keep a valid
 * signature, so this target mostly exercises the structure checks in
 * front of it; fuzz-record-resigned reaches what lies behind. The checks
 * besides the sanitizers are in fuzz-record.h.
 */
#include <stdint.h>

#include "fuzz-record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_record_check(data, size);
	return 0;
}
