/*
 * om_server_config.c -- workflowConfig.openMetadataServerConfig, read once for every client of
 * the OpenMetadata server (see om_server_config.h).
 */
#include "config.h"

#include "om_server_config.h"

#include "log.h"
#include "omrest_json.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* Loopback is an IP literal in 127.0.0.0/8, ::1, or exactly localhost; host as libcurl's URL
 * parser gives it (IPv6 in brackets). The Mode plugin's conf.c holds the same rule. */
static bool is_loopback_host(const char *host) {
  unsigned char addr[16];
  char v6[64];
  size_t n = strlen(host);
  if (strcasecmp(host, "localhost") == 0)
    return true;
  if (inet_pton(AF_INET, host, addr) == 1)
    return addr[0] == 127;
  if (n < 2 || n - 2 >= sizeof v6 || host[0] != '[' || host[n - 1] != ']')
    return false;
  memcpy(v6, host + 1, n - 2);
  v6[n - 2] = '\0';
  return inet_pton(AF_INET6, v6, addr) == 1 && memcmp(addr, &in6addr_loopback, 16) == 0;
}

/* Whether url is plain http to another machine. Parsed, not prefix-matched: in
 * http://localhost@evil.example "localhost" is a user name and the host is evil.example. */
static bool is_plain_http_to_remote(const char *url) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  bool remote = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                strcmp(scheme, "http") == 0 &&
                curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && !is_loopback_host(host);
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return remote;
}

etl_status host_om_server_config(yajl_val wf, struct host_log *log, bool quiet,
                                 struct host_om_client_config *cc) {
  struct host_log *say = quiet ? NULL : log; /* where messages go; NULL drops them */
  yajl_val inner = host_json_get(wf, "workflowConfig");
  if (inner)
    wf = inner;
  yajl_val om = host_json_get(wf, "openMetadataServerConfig");
  const char *where = "workflowConfig.openMetadataServerConfig";
  if (!YAJL_IS_OBJECT(om)) {
    host_log_msg(say, ETL_SEV_ERROR, NULL, where,
                 "missing: the metadata-rest sink needs the OpenMetadata server's hostPort");
    return ETL_ERR_CONFIG;
  }
  cc->base_url = host_json_str(om, "hostPort");
  if (!cc->base_url ||
      (strncmp(cc->base_url, "http://", 7) != 0 && strncmp(cc->base_url, "https://", 8) != 0)) {
    host_log_msg(say, ETL_SEV_ERROR, NULL, where,
                 "hostPort must be a URL such as http://localhost:8585/api");
    return ETL_ERR_CONFIG;
  }
  size_t n = strlen(cc->base_url);
  while (n > 0 && cc->base_url[n - 1] == '/')
    n--;
  if (n < 4 || strncmp(cc->base_url + n - 4, "/api", 4) != 0)
    host_log_msg(say, ETL_SEV_WARNING, NULL, where,
                 "hostPort %s does not end in /api, where OpenMetadata serves its API "
                 "(http://localhost:8585/api)",
                 cc->base_url);
  const char *provider = host_json_str(om, "authProvider");
  if (!provider)
    provider = "no-auth";
  if (strcmp(provider, "openmetadata") == 0) {
    cc->jwt = host_json_str(host_json_get(om, "securityConfig"), "jwtToken");
    if (!cc->jwt || !cc->jwt[0]) {
      host_log_msg(say, ETL_SEV_ERROR, NULL, where,
                   "authProvider openmetadata needs securityConfig.jwtToken");
      return ETL_ERR_CONFIG;
    }
    host_log_add_secret(log, cc->jwt);
  } else if (strcmp(provider, "no-auth") != 0) {
    host_log_msg(say, ETL_SEV_ERROR, NULL, where,
                 "authProvider '%s' is not supported (use openmetadata with a bot's JWT, or "
                 "no-auth)",
                 provider);
    return ETL_ERR_CONFIG;
  }
  const char *verify = host_json_str(om, "verifySSL");
  cc->verify_tls = true; /* on by default, whatever the scheme: "no-ssl" only means plain http */
  if (verify && strcmp(verify, "ignore") == 0) {
    cc->verify_tls = false;
    host_log_msg(say, ETL_SEV_WARNING, NULL, where,
                 "verifySSL: ignore -- the server's certificate is not checked");
  } else if (verify && strcmp(verify, "validate") != 0 && strcmp(verify, "no-ssl") != 0) {
    host_log_msg(say, ETL_SEV_ERROR, NULL, where,
                 "verifySSL must be no-ssl, ignore or validate, not '%s'", verify);
    return ETL_ERR_CONFIG;
  }
  yajl_val ssl = host_json_get(om, "sslConfig");
  cc->ca_file = host_json_str(ssl, "certificatePath");
  if (!cc->ca_file)
    cc->ca_file = host_json_str(ssl, "caCertificate"); /* older OpenMetadata name */
  if (cc->jwt && is_plain_http_to_remote(cc->base_url))
    host_log_msg(say, ETL_SEV_WARNING, NULL, where,
                 "hostPort is plain http to a remote host: the JWT travels unencrypted");
  return ETL_OK;
}
