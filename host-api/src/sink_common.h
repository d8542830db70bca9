/*
 * sink_common.h -- what the built-in sinks share: reading their YAML config (handed over as a
 * JSON object) with errors that name the key, naming a record in messages, and what the two
 * catalog sinks (sqlite, postgres) do alike: the record check, the upsert counts, early commits
 * and the retain-miss note.
 */
#ifndef HOST_SINK_COMMON_H
#define HOST_SINK_COMMON_H

#include "sink.h"

#include <etl/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

struct host_log;

/* Parses a sink's config (a JSON object; NULL means "{}") and checks it has only the keys in
 * `allowed` (NULL-terminated). Errors are logged as "sink.config.KEY: ..." and return
 * ETL_ERR_CONFIG. On success *out is owned by the caller (yajl_tree_free). */
etl_status host_sink_config_parse(const char *json, const char *type, const char *const *allowed,
                                  struct host_log *log, yajl_val *out);

/* Sets *out to the string under key, or to dflt when the key is absent or null. A value of
 * another type is logged and gives ETL_ERR_CONFIG. *out is borrowed from cfg (or is dflt). */
etl_status host_sink_config_string(yajl_val cfg, const char *key, const char *dflt,
                                   struct host_log *log, const char **out);

/* Sets *out to the integer under key (dflt when absent); it must lie in [min, max]. */
etl_status host_sink_config_int(yajl_val cfg, const char *key, long long dflt, long long min,
                                long long max, struct host_log *log, long long *out);

/* Writes "KIND ID" for messages into buf (cap > 0), with control characters shown as '?' so a
 * hostile id cannot forge log lines, truncated with "..." to fit. Returns buf. */
const char *host_sink_item(const struct host_record *rec, char *buf, size_t cap);

/* True when text[0..len) is valid UTF-8 in the strict sense of RFC 3629 (no overlong forms,
 * no UTF-16 surrogates, nothing above U+10FFFF). */
bool host_sink_utf8_valid(const char *text, size_t len);

/* True when the record's kind, id and source are non-empty valid UTF-8; else writes the reason
 * ("the record's id is not valid UTF-8") into why. */
bool host_sink_names_ok(const struct host_record *rec, char *why, size_t cap);

/* Parses one entity's JSON (strict UTF-8 first, then yajl with the given callbacks and ctx;
 * callbacks may be NULL to only check it). Returns true when it is well-formed and no callback
 * refused. On a syntax error writes the reason with its byte offset into why; when a callback
 * refused, why is left alone (the callback's ctx says why). */
bool host_sink_parse_entity(const char *json, size_t len, const yajl_callbacks *callbacks,
                            void *ctx, char *why, size_t cap);

/* The deletion fail-safe every sink that marks deletions asks, in one place: whether marking
 * n_delete of the source's n_live entities deleted stays within o->fail_safe_threshold
 * percent. When it would not, logs one warning (naming the sink `where`, the counts and the
 * key that raises the threshold), fills o->held (when set) for the run summary, and returns
 * false: the sink marks nothing, and records the
 * run as not complete so that a later run decides again. A malformed answer that hid most of
 * a workspace must never cost the catalog. */
bool host_fail_safe_allows(struct host_log *log, const char *source, const char *where,
                           const struct host_source_outcome *o, long long n_delete,
                           long long n_live);

/* ---- the catalog sinks (sink_sqlite.c, sink_postgres.c) ------------------------------------ */

/* A catalog sink's open transaction is committed early once it holds this many records (writes
 * and retains), to bound the write-ahead log. Early data never hurts: state is written only in
 * the transaction of everything before it. */
#define HOST_CATALOG_AUTOCOMMIT_RECORDS 20000

/* The largest entity JSON a catalog row takes: below SQLite's default SQLITE_MAX_LENGTH, and
 * well below PostgreSQL's 1 GB text limit. */
#define HOST_CATALOG_MAX_RECORD_BYTES 500000000

/* True when json[0..len) is one well-formed JSON object in valid UTF-8 of at most
 * HOST_CATALOG_MAX_RECORD_BYTES; else writes the reason into why. */
bool host_catalog_json_object_ok(const char *json, size_t len, char *why, size_t cap);

/* What a catalog counts for the source it is writing, stored in its `runs` row. */
struct host_catalog_counts {
  long long records, inserted, updated, unchanged, rejected;
};

/* Counts one upserted record. returned: the upsert's RETURNING gave a row (first_seen and
 * changed_run are its columns); no row means it was delivered twice in this run, unchanged. */
void host_catalog_count_upsert(struct host_catalog_counts *c, long long run_id, bool returned,
                               long long first_seen, long long changed_run);

/* A catalog sink's bookkeeping of its open transaction and of the retain-miss note, embedded by
 * value in the sink (zeroed at creation); it owns nothing. One thread, the sink's, uses it. */
struct host_catalog_batch {
  unsigned long pending;   /* records written since the last commit */
  bool retain_miss_logged; /* a retained id the catalog lacks was logged (once per sink) */
};

/* Adds n records to the open transaction; true when the sink should commit now. */
bool host_catalog_batch_add(struct host_catalog_batch *b, size_t n);

/* Says the sink committed: nothing is pending. */
void host_catalog_batch_committed(struct host_catalog_batch *b);

/* Notes `missing` retained ids of `kind` the catalog `label` lacks (or has marked deleted). Not
 * an error -- the catalog may be newer than the source's state (another file, a reset) -- so it
 * is logged once per sink, at debug level. */
void host_catalog_retain_missed(struct host_catalog_batch *b, struct host_log *log,
                                const char *label, const char *source, const char *kind,
                                size_t missing);

#endif
