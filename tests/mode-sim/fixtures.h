/*
 * --fixtures DIR: the recorded workspace of tests/fixtures/mode-api-samples, served byte for byte.
 * DIR/url-map.json's "test_mode.py@2025-01" section maps each recorded URL to a file; the
 * recorded workspace name ("acryl") is replaced by whatever --workspace names.
 */
#ifndef SIM_FIXTURES_H
#define SIM_FIXTURES_H

#include <stddef.h>

struct fixtures;

/* Loads the map and every file it names into memory. Returns 0 and *out (free with
 * fixtures_free), or -1 with a message naming the file at fault on stderr. */
int fixtures_load(const char *dir, struct fixtures **out);
void fixtures_free(struct fixtures **fx);

/* The recorded body for a path relative to the workspace, e.g. "/api/{ws}/spaces",
 * "/api/verify" or "/api/modeuser" (no query string; "/collections" already mapped to
 * "/spaces"). Returns NULL when nothing was recorded. */
const char *fixtures_get(const struct fixtures *fx, const char *key, size_t *len);

#endif
