/*
 * cnum.c -- numbers in the C locale's notation (see cnum.h).
 */
#include "config.h"

#include "cnum.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs with LC_NUMERIC "C" on this thread from begin to end; begin returns what end restores,
 * or (locale_t)0 when no C locale could be made (out of memory: the process's is used). */
static locale_t c_begin(locale_t *c) {
  *c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  return *c == (locale_t)0 ? (locale_t)0 : uselocale(*c);
}

static void c_end(locale_t c, locale_t old) {
  if (c == (locale_t)0)
    return;
  uselocale(old);
  freelocale(c);
}

double host_strtod_c(const char *s, char **end) {
  locale_t c, old = c_begin(&c);
  double v = strtod(s, end);
  c_end(c, old);
  return v;
}

int host_json_double(double x, char *buf, size_t cap) {
  if (!isfinite(x) || cap < 32)
    return -1;
  locale_t c, old = c_begin(&c);
  int n = snprintf(buf, cap, "%.20g", x);
  c_end(c, old);
  if (n < 0 || (size_t)n + 3 > cap)
    return -1;
  if (strspn(buf, "0123456789-") == (size_t)n) { /* a whole number still reads as a double */
    memcpy(buf + n, ".0", 3);
    n += 2;
  }
  return n;
}
