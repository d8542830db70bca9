/*
 * site_assets.h -- the site's stylesheet and script (host-api/site/site.css, site.js), built
 * into etlhost as C strings by host-api/site.mk, so the binary alone can write a site.
 */
#ifndef HOST_SITE_ASSETS_H
#define HOST_SITE_ASSETS_H

extern const char site_css[];
extern const char site_js[];

#endif
