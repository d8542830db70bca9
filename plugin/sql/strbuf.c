/*
 * strbuf.c -- a growable byte buffer whose maximum is fixed at creation, so that text built
 * from hostile input (rendered templates, expanded definitions) fails with SQL_ERR_LIMIT
 * instead of growing without bound. Also the two helpers every module uses for messages.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

void sb_init(struct strbuf *sb, size_t max) {
  sb->data = NULL;
  sb->len = 0;
  sb->cap = 0;
  sb->max = max;
}

int sb_append(struct strbuf *sb, const char *s, size_t n) {
  if (n > sb->max || sb->len > sb->max - n)
    return SQL_ERR_LIMIT;
  if (sb->len + n + 1 > sb->cap) {
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + n + 1)
      cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p)
      return SQL_ERR_NOMEM;
    sb->data = p;
    sb->cap = cap;
  }
  if (n)
    memcpy(sb->data + sb->len, s, n);
  sb->len += n;
  sb->data[sb->len] = '\0';
  return SQL_OK;
}

int sb_append_str(struct strbuf *sb, const char *s) {
  return sb_append(sb, s, strlen(s));
}

int sb_finish(struct strbuf *sb, char **out, size_t *out_len) {
  if (!sb->data) {
    sb->data = malloc(1);
    if (!sb->data)
      return SQL_ERR_NOMEM;
    sb->data[0] = '\0';
  }
  *out = sb->data;
  if (out_len)
    *out_len = sb->len;
  sb->data = NULL;
  sb->len = sb->cap = 0;
  return SQL_OK;
}

void sb_free(struct strbuf *sb) {
  free(sb->data);
  sb->data = NULL;
  sb->len = sb->cap = 0;
}

void sql_position(const char *text, size_t len, size_t off, char *buf, size_t buflen) {
  size_t line = 1, col = 1;
  if (off > len)
    off = len;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  snprintf(buf, buflen, "line %zu, column %zu", line, col);
}

int sql_fail(int rc, char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

bool sql_poll_cancelled(struct sql_poll *p) {
  if (!p)
    return false;
  if (p->cancelled)
    return true;
  if (!p->cancel || !p->cancel->cancelled || ++p->rounds % SQL_POLL_EVERY != 0)
    return false;
  p->cancelled = p->cancel->cancelled(p->cancel->ctx) != 0;
  return p->cancelled;
}

int sql_cancelled(char *err, size_t errlen) {
  return sql_fail(SQL_ERR_CANCELLED, err, errlen, "cancelled");
}
