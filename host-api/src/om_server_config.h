/*
 * om_server_config.h -- reads workflowConfig.openMetadataServerConfig (hostPort, authProvider,
 * securityConfig.jwtToken, verifySSL, sslConfig) as OpenMetadata's ingestion workflow does. The
 * one reader for everything that talks to the OpenMetadata server: the metadata-rest sink
 * (sink_omrest.c) and the ingestion pipeline status (om_pipeline_status.c).
 */
#ifndef HOST_OM_SERVER_CONFIG_H
#define HOST_OM_SERVER_CONFIG_H

#include "omrest_client.h"

#include <etl/plugin.h>
#include <stdbool.h>
#include <yajl/yajl_tree.h>

struct host_log;

/* Fills cc's base_url, jwt, ca_file and verify_tls from the openMetadataServerConfig of wf
 * (the workflowConfig object itself, or a whole workflow holding one); the other members are
 * left alone. The strings are borrowed from wf. The JWT is registered with log as a secret.
 * A missing or bad value gives ETL_ERR_CONFIG; unless quiet, errors and warnings (a hostPort
 * not ending in /api, verifySSL: ignore, a JWT over plain http to a remote host) are logged
 * under "workflowConfig.openMetadataServerConfig". quiet is for a second reader of a config
 * the sink has already read and reported on. */
etl_status host_om_server_config(yajl_val wf, struct host_log *log, bool quiet,
                                 struct host_om_client_config *cc);

#endif
