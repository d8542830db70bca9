/*
 * util.h -- small helpers of the Mode connector: a set of strings (the tokens and users a run
 * must remember), a bounded growable buffer, and string helpers. No global state.
 */
#ifndef MODE_UTIL_H
#define MODE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* An open-addressing hash set of NUL-terminated strings; copies what it stores. */
struct mode_strset {
  char **slots;    /* owned; NULL = empty slot */
  size_t capacity; /* power of two */
  size_t count;
};

/* Adds s. Returns 1 if it was new, 0 if already present, -1 on OOM. */
int mode_strset_add(struct mode_strset *set, const char *s);
int mode_strset_has(const struct mode_strset *set, const char *s);
/* Releases every string; the set is then empty and reusable. NULL-safe. */
void mode_strset_clear(struct mode_strset *set);

/* A growable byte buffer that refuses to grow past max (curl's dynbuf "toobig"). Always
 * NUL-terminated when len > 0. */
struct mode_buf {
  char *data; /* owned */
  size_t len;
  size_t cap;
  size_t max;
};

/* Appends n bytes. Returns 0, -1 on OOM, -2 when max would be exceeded (nothing appended). */
int mode_buf_append(struct mode_buf *b, const char *p, size_t n);
void mode_buf_free(struct mode_buf *b);

/* strtod in the C locale's notation ('.' before the fraction), whatever the process's
 * LC_NUMERIC: JSON numbers never use a decimal comma, and a host (Python, GTK, etlhost) may
 * have called setlocale(LC_ALL, ""). Thread-safe: the locale is switched for this thread only.
 * end as strtod's; may be NULL. */
double mode_strtod_c(const char *s, char **end);

/* strdup/strndup that accept NULL (returning NULL). The result is owned by the caller. */
char *mode_strdup(const char *s);
char *mode_strndup(const char *s, size_t n);
/* printf into a new string owned by the caller; NULL on OOM. */
char *mode_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 64-bit FNV-1a hash, mixing into h (start with MODE_HASH_INIT). */
#define MODE_HASH_INIT 1469598103934665603ULL
uint64_t mode_hash(uint64_t h, const void *p, size_t n);
/* Percent-encodes one URL path segment (a token, a username); NULL-safe. Caller frees. */
char *mode_url_segment(const char *s);
/* "<host>/api/<workspace, encoded><tail>" (tail already encoded). Caller frees; NULL on OOM. */
char *mode_api_url(const char *host, const char *workspace, const char *tail);
/* Monotonic clock in seconds. */
double mode_now(void);

#endif
