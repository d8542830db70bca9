/*
 * owners.c -- the user cache (see owners.h). A linear table: a workspace has few creators
 * compared with its reports, and each report looks its creator up once.
 */
#include "config.h"

#include "owners.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

char *mode_owners_username(const char *href) {
  if (href == NULL)
    return NULL;
  /* Mode links users as /api/{username} (possibly as an absolute URL). */
  const char *api = strstr(href, "/api/");
  if (api == NULL)
    return NULL;
  const char *name = api + 5;
  size_t len = strcspn(name, "/?#");
  if (len == 0 || name[len] == '/')
    return NULL;
  return mode_strndup(name, len);
}

static struct mode_owner_entry *find(const struct mode_owners *o, const char *username) {
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->entries[i].user.username, username) == 0)
      return &o->entries[i];
  return NULL;
}

const struct mode_owner_entry *mode_owners_find(const struct mode_owners *o, const char *username) {
  return find(o, username);
}

struct mode_owner_entry *mode_owners_add(struct mode_owners *o, const char *username) {
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    struct mode_owner_entry *e = realloc(o->entries, cap * sizeof *e);
    if (e == NULL)
      return NULL;
    o->entries = e;
    o->cap = cap;
  }
  struct mode_owner_entry *e = &o->entries[o->n];
  memset(e, 0, sizeof *e);
  e->user.username = strdup(username);
  if (e->user.username == NULL)
    return NULL;
  e->state = MODE_USER_PENDING;
  o->n++;
  return e;
}

void mode_owners_resolve(struct mode_owners *o, const char *username, const char *name,
                         const char *email, int known) {
  struct mode_owner_entry *e = find(o, username);
  if (e == NULL)
    return;
  free(e->user.name);
  free(e->user.email);
  e->user.name = mode_strdup(name);
  e->user.email = mode_strdup(email);
  e->state = known ? MODE_USER_KNOWN : MODE_USER_UNKNOWN;
}

void mode_owners_free(struct mode_owners *o) {
  if (o == NULL)
    return;
  for (size_t i = 0; i < o->n; i++) {
    free(o->entries[i].user.username);
    free(o->entries[i].user.name);
    free(o->entries[i].user.email);
  }
  free(o->entries);
  memset(o, 0, sizeof *o);
}
