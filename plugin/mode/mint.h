/*
 * mint.h -- POST /batch/{workspace}/signature_tokens: a Discovery API signature token minted
 * with the API key and secret, for `discoveryMintToken: true` (docs/mode.md).
 */
#ifndef MODE_MINT_H
#define MODE_MINT_H

#include <stddef.h>

#include "conf.h"

/* Mints a token valid for an hour. Returns 0 with *token, *key, *secret (owned by the caller,
 * secrets: wipe before freeing), or -1 with the HTTP status (0 none) and why in err. Blocks. */
int mode_mint_token(const struct mode_config *cfg, char **token, char **key, char **secret,
                    long *status, char *err, size_t cap);

/* Zeroes and frees *s (a secret), and sets it to NULL. NULL-safe. */
void mode_wipe_free(char **s);

#endif
