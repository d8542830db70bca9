/*
 * sink_omrest.h -- the metadata-rest sink: lands entity records in an OpenMetadata server
 * through its REST API (docs/openmetadata.md has the reference).
 */
#ifndef HOST_SINK_OMREST_H
#define HOST_SINK_OMREST_H

#include "sink.h"

/* The sink's operations, type "metadata-rest"; registered in sink_registry.c. */
extern const struct host_sink_ops host_sink_metadata_rest;

/* What a metadata-rest sink did so far (all sources of the run). */
struct host_omrest_counts {
  unsigned long accepted;           /* records the server accepted */
  unsigned long rejected;           /* records the server refused (4xx), each logged with id */
  unsigned long lineage_unresolved; /* lineage edges held back: an end unknown to the server */
  unsigned long pending;            /* of those, edges kept for the next run (sink.h pending) */
  unsigned long entities_pending;   /* charts, data models, dashboards sent without an owner or
                                       a reference the server lacks, kept for the next run */
  unsigned long owners_unknown;     /* distinct owners that are not users of the server */
  unsigned long deleted;            /* entities soft-deleted by markDeletedDashboards */
  unsigned long refs_dropped;       /* a dashboard's charts or data models the server lacks */
  unsigned long columns_dropped;    /* lineage from-columns the server's table does not have */
  unsigned long requests;           /* HTTP attempts, retries included */
  unsigned long retries;
  unsigned long throttled; /* 429 answers */
};

/* Fills *out for a sink made by host_sink_metadata_rest.create. The runner's summary and the
 * tests read it; sink.h has no slot for rejects found at commit time (see the docs). */
void host_omrest_get_counts(void *sink, struct host_omrest_counts *out);

#endif
