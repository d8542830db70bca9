/*
 * spool.h -- the entities of one source on their way from the thread that fetches them to the
 * one thread that writes the sink (runner.c, workflowConfig.parallelSources).
 *
 * Sources fetch at once, but the sink takes one source at a time (sink.h). While the writer
 * serves one source, the others' entities wait here, in an unlinked temporary file rather than
 * in memory: a source that finishes fetching early may hold its whole output until its turn.
 * Nothing in a spool is ever taken for delivered: a crash loses the spool, and the next run
 * fetches again from the last stored state (state entities wait in the spool like the rest).
 *
 * One producer thread calls put/finish; one consumer thread calls next/request_stop. Each spool
 * has its own lock; a shared condition variable (given at creation) is broadcast whenever a
 * spool gains an entity or ends, so that one consumer can wait on several spools.
 */
#ifndef HOST_SPOOL_H
#define HOST_SPOOL_H

#include <etl/plugin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct host_spool;

/* One entity read back. Its strings are NUL-terminated and owned by the spool: valid until the
 * next host_spool_next or host_spool_free. */
struct host_spool_item {
  const char *kind;
  const char *id;
  const char *json;
  size_t json_len;
};

/* Creates an empty spool in an unlinked file under $TMPDIR (else /tmp). mu and cv (borrowed;
 * they outlive the spool) are the lock and condition variable shared by the spools of a run.
 * Returns ETL_OK, ETL_ERR_NOMEM, or ETL_ERR_INTERNAL with the reason (errno's) in err. */
etl_status host_spool_new(pthread_mutex_t *mu, pthread_cond_t *cv, struct host_spool **out,
                          char *err, size_t errlen);

/* Producer: appends one entity (copied). ETL_OK, or ETL_ERR_INTERNAL when the file cannot
 * take it (a full disk): the producer then stops its source. */
etl_status host_spool_put(struct host_spool *s, const char *kind, const char *id,
                          const char *json, size_t json_len);

/* Producer: no more entities; `end` is the status that ended the stream (ETL_DONE normally). */
void host_spool_finish(struct host_spool *s, etl_status end);

/* Producer: whether the consumer asked it to stop (the sink failed for this source). */
bool host_spool_stop_requested(struct host_spool *s);

/* Consumer: asks the producer to stop; what it already spooled is discarded by the caller. */
void host_spool_request_stop(struct host_spool *s);

/* Consumer: the next entity, waiting up to timeout_ms for one. Returns 1 with *item filled,
 * 0 when none came in time (the caller does its housekeeping and asks again), or -1 at the
 * end, with the producer's end status in *end (ETL_ERR_INTERNAL also when the file cannot be
 * read back). The caller holds no lock. */
int host_spool_next(struct host_spool *s, int timeout_ms, struct host_spool_item *item,
                    etl_status *end);

/* Whether the producer has finished (for the consumer's housekeeping). */
bool host_spool_finished(struct host_spool *s);

/* Releases the spool and its file; NULL-safe; sets *s to NULL. The producer must be done. */
void host_spool_free(struct host_spool **s);

#endif
