/*
 * cnum.h -- numbers in the notation of JSON, YAML and SQL ('.' before the fraction), whatever
 * the process's locale. etlhost calls setlocale(LC_ALL, "") so that messages and plugins see the
 * user's locale as they would under any other host; every number the host reads from a file or
 * writes as JSON goes through here instead of strtod/printf, which follow LC_NUMERIC.
 * Thread-safe: the C locale is switched in for the calling thread only.
 */
#ifndef HOST_CNUM_H
#define HOST_CNUM_H

#include <stddef.h>

/* strtod in the C locale; end as strtod's (may be NULL). */
double host_strtod_c(const char *s, char **end);

/* Writes x as a JSON number into buf (cap bytes, 32 is enough), as yajl_gen_double would in the
 * C locale ("%.20g", ".0" appended to a whole number). Returns its length, or -1 when x is not
 * finite (JSON has no such number). */
int host_json_double(double x, char *buf, size_t cap);

#endif
