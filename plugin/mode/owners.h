/*
 * owners.h -- the workspace's users as far as this run needs them: each report's creator is
 * looked up once (GET /api/{username}), remembered, and ridden on its dashboard and charts.
 */
#ifndef MODE_OWNERS_H
#define MODE_OWNERS_H

#include <stddef.h>

#include "model.h"

enum mode_user_state { MODE_USER_PENDING = 1, MODE_USER_KNOWN, MODE_USER_UNKNOWN };

struct mode_owner_entry {
  struct mode_user user; /* owned */
  enum mode_user_state state;
};

struct mode_owners {
  struct mode_owner_entry *entries; /* owned */
  size_t n, cap;
};

/* The username in a creator link ("/api/modeuser" -> "modeuser"); a new string, or NULL when
 * the link has no usable name. */
char *mode_owners_username(const char *creator_href);
/* Finds a user. NULL when never seen. The pointer is valid until the next add. */
const struct mode_owner_entry *mode_owners_find(const struct mode_owners *o, const char *username);
/* Adds a user in state PENDING. Returns the entry, or NULL on OOM. */
struct mode_owner_entry *mode_owners_add(struct mode_owners *o, const char *username);
/* Records what GET /api/{username} said; name/email may be NULL (copied). known = 0 when the
 * lookup failed: the owner then travels with its username only. */
void mode_owners_resolve(struct mode_owners *o, const char *username, const char *name,
                         const char *email, int known);
void mode_owners_free(struct mode_owners *o);

#endif
