/*
 * incremental.h -- the map an incremental run keeps between runs (docs/mode.md, "Incremental
 * runs"): for every report and dataset, the stamp of its listing fields and the ids of the
 * entities it produced, plus one stamp of everything workspace-wide (configuration, data
 * sources, definitions). The previous run's map says which reports may be skipped; this run's
 * map is built as reports are assembled or retained and handed to the host as a `state`
 * entity at the end of a run that lost nothing.
 *
 * State JSON: {"version": 1, "stamp": G, "reports": {"<token>": {"s": S, "e": {"<kind>": [ids]}}},
 *              "usage": {...}} -- "usage" is the view-count ledger of usage.h, kept in the same
 * state because a source has one; it is written whatever `incremental` says.
 *
 * Memory: one entry per report, its ids packed in one block ("<kind digit><id>\0" records).
 */
#ifndef MODE_INCREMENTAL_H
#define MODE_INCREMENTAL_H

#include <stddef.h>
#include <stdint.h>

#include "entities.h"

/* The kinds a report's entities are recorded (and retained) by. */
enum { MODE_INCR_KINDS = 4 };
extern const char *const mode_incr_kinds[MODE_INCR_KINDS];

struct mode_incr_entry {
  char *token; /* owned */
  char *stamp; /* owned */
  char *ids;   /* owned: packed records, `len` bytes */
  size_t len;
};

struct mode_usage;

struct mode_incr {
  const struct mode_usage *usage; /* borrowed, may be NULL: written into the state entity */
  char *prev_stamp;             /* owned; the previous run's workspace stamp, NULL when none */
  /* Discovery API runs (discovery.h): the stamp of everything batch listed, stored as "batch";
   * equal to the previous one (and the workspace stamp too), nothing changed at all. */
  char *prev_batch; /* owned; NULL when none */
  char batch[17];   /* this run's, "" when none */
  struct mode_incr_entry *prev; /* owned, sorted by token */
  size_t n_prev;
  struct mode_incr_entry *next; /* owned: this run's map, in the order recorded */
  size_t n_next, cap_next;
};

/* FNV-1a, 64 bits: a stamp is a change detector, not a security measure. Feed each field with
 * mode_incr_hash (NULL is hashed apart from ""), start from MODE_INCR_HASH_INIT. */
#define MODE_INCR_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t mode_incr_hash(uint64_t h, const char *field);
/* The hash as 16 hex digits into out (>= 17 bytes). */
void mode_incr_hex(uint64_t h, char *out);

/* Feeds the configuration JSON text (a connection or sourceConfig object) into h, leaving out
 * the credentials: a change of settings changes what a run emits, so it changes the stamp.
 * Text that is not JSON is hashed as is. */
uint64_t mode_incr_hash_config(uint64_t h, const char *json, size_t len);

/* Reads the previous state into inc->prev (inc zeroed or freshly cleared). Returns 0, or -1
 * with the reason in err (malformed, another version) and inc->prev left empty: the caller
 * warns and runs in full. Allocation failure is -2. */
int mode_incr_load(struct mode_incr *inc, const char *json, size_t len, char *err, size_t cap);

/* The previous entry of `token`, or NULL. Borrowed from inc. */
const struct mode_incr_entry *mode_incr_find(const struct mode_incr *inc, const char *token);

/* Starts this run's entry of a report (the one later mode_incr_add_id calls go to); copies
 * the previous entry's ids when `from` is given. 0, or -1 on OOM. */
int mode_incr_begin(struct mode_incr *inc, const char *token, const char *stamp,
                    const struct mode_incr_entry *from);
/* Records one entity of the current entry; kinds outside mode_incr_kinds are ignored. */
int mode_incr_add_id(struct mode_incr *inc, const char *kind, const char *id);

/* Calls fn for every kind of e that has ids, with the ids (borrowed for the call). Stops at
 * the first non-zero return of fn and returns it; -1 on OOM. */
int mode_incr_each_kind(const struct mode_incr_entry *e,
                        int (*fn)(void *ctx, const char *kind, const char *const *ids, size_t n),
                        void *ctx);

/* A `retain` entity (id "<token>/<kind>") listing ids; NULL on OOM. */
struct mode_entity *mode_incr_retain_entity(const char *token, const char *kind,
                                            const char *const *ids, size_t n);
/* The `state` entity of this run's map under workspace stamp `stamp` (with inc->usage when
 * set); NULL on OOM. */
struct mode_entity *mode_incr_state_entity(const struct mode_incr *inc, const char *stamp);

/* Frees everything inc owns and zeroes it. NULL-safe. */
void mode_incr_clear(struct mode_incr *inc);

#endif
