/*
 * site_names.c -- safe, unique page file names (see site_names.h).
 */
#include "config.h"

#include "site_names.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUFFIX_MAX 24 /* "-" + 8 hex digits, then "-" + a counter */

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* Writes the slug of key into out (SITE_SLUG_MAX + 1 bytes); returns true when it was cut. */
static bool slug(const char *key, char *out) {
  size_t len = 0;
  for (const char *p = key; *p; p++) {
    if (len == SITE_SLUG_MAX)
      return true;
    char c = *p;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    if (c == '.' && len > 0 && out[len - 1] != '.')
      plain = true;
    out[len++] = plain ? c : '_';
    out[len] = '\0';
  }
  if (len == 0)
    strcpy(out, "_");
  return false;
}

static int cmp_ci(const void *a, const void *b) {
  return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Whether stem (compared ignoring case) occurs among stems other than at index i. n is small
 * relative to the work of writing a page per name, but a catalog may hold thousands of tables,
 * so the duplicates are found through a sorted copy. */
static bool *find_duplicates(char **stems, size_t n) {
  bool *dup = calloc(n ? n : 1, sizeof *dup);
  char **sorted = malloc((n ? n : 1) * sizeof *sorted);
  if (!dup || !sorted) {
    free(dup);
    free(sorted);
    return NULL;
  }
  memcpy(sorted, stems, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_ci);
  for (size_t i = 0; i < n; i++) {
    char *const *hit = bsearch(&stems[i], sorted, n, sizeof *sorted, cmp_ci);
    /* bsearch finds one of the equal entries; look at its neighbours */
    size_t k = (size_t)(hit - sorted);
    dup[i] = (k > 0 && strcasecmp(sorted[k - 1], stems[i]) == 0) ||
             (k + 1 < n && strcasecmp(sorted[k + 1], stems[i]) == 0);
  }
  free(sorted);
  return dup;
}

int site_page_names(const char *prefix, const char *const *keys, size_t n, char **names) {
  int rc = -1;
  char **stems = calloc(n ? n : 1, sizeof *stems); /* owned; each entry too */
  bool *dup = NULL;
  for (size_t i = 0; i < n; i++)
    names[i] = NULL;
  if (!stems)
    goto out;
  for (size_t i = 0; i < n; i++) {
    stems[i] = malloc(SITE_SLUG_MAX + SUFFIX_MAX + 1);
    if (!stems[i])
      goto out;
    if (slug(keys[i], stems[i]))
      sprintf(stems[i] + strlen(stems[i]), "-%08x", (unsigned)fnv1a(keys[i]));
  }
  if (!(dup = find_duplicates(stems, n)))
    goto out;
  for (size_t i = 0; i < n; i++)
    if (dup[i] && strlen(stems[i]) <= SITE_SLUG_MAX)
      sprintf(stems[i] + strlen(stems[i]), "-%08x", (unsigned)fnv1a(keys[i]));
  /* Left: equal keys, or a hash collision. Later ones get a counter, in key order. */
  free(dup);
  if (!(dup = find_duplicates(stems, n)))
    goto out;
  for (size_t i = 0, counter = 2; i < n; i++) {
    if (!dup[i])
      continue;
    bool earlier = false;
    for (size_t j = 0; j < i && !earlier; j++)
      earlier = strcasecmp(stems[j], stems[i]) == 0;
    if (earlier)
      sprintf(stems[i] + strlen(stems[i]), "-%zu", counter++);
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(prefix) + strlen(stems[i]) + sizeof ".html";
    if (!(names[i] = malloc(len)))
      goto out;
    snprintf(names[i], len, "%s%s.html", prefix, stems[i]);
  }
  rc = 0;
out:
  if (rc != 0)
    for (size_t i = 0; i < n; i++) {
      free(names[i]);
      names[i] = NULL;
    }
  for (size_t i = 0; stems && i < n; i++)
    free(stems[i]);
  free(stems);
  free(dup);
  return rc;
}
