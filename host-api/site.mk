# host-api/site.mk: `etlhost site CATALOG -o DIR`, a static HTML catalog of the sqlite catalog
# (docs/catalog.md). The pages come from host-api/libhostsite.la (no Graphviz: the unit tests
# link it alone); the command and its lineage pictures (host-api/libhostcatalog.la) are linked
# into etlhost. The stylesheet and the script are source files built in as C strings.
noinst_LTLIBRARIES += host-api/libhostsite.la
host_api_libhostsite_la_SOURCES = \
	host-api/src/site_model.c host-api/src/site_model.h \
	host-api/src/site_names.c host-api/src/site_names.h \
	host-api/src/site_html.c host-api/src/site_html.h \
	host-api/src/site_pages.c host-api/src/site_pages.h host-api/src/site_assets.h
nodist_host_api_libhostsite_la_SOURCES = host-api/site_assets.c
host_api_libhostsite_la_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS) \
	-I$(top_srcdir)/host-api/src
host_api_libhostsite_la_LIBADD = $(YAJL_LIBS) $(SQLITE_LIBS)

SITE_ASSETS = $(top_srcdir)/host-api/site/site.css $(top_srcdir)/host-api/site/site.js
host-api/site_assets.c: $(top_srcdir)/host-api/site/embed.sh $(SITE_ASSETS)
	$(AM_V_GEN)$(MKDIR_P) host-api && \
	{ $(SHELL) $(top_srcdir)/host-api/site/embed.sh site_css $(top_srcdir)/host-api/site/site.css && \
	  $(SHELL) $(top_srcdir)/host-api/site/embed.sh site_js $(top_srcdir)/host-api/site/site.js; \
	} >$@.tmp && mv $@.tmp $@
CLEANFILES += host-api/site_assets.c
EXTRA_DIST += host-api/site/embed.sh $(SITE_ASSETS)

host_api_etlhost_SOURCES += host-api/src/site_cli.c host-api/src/site_cli.h \
	host-api/src/site_lineage.c host-api/src/site_lineage.h
host_api_etlhost_LDADD += host-api/libhostsite.la host-api/libhostcatalog.la \
	host-api/libhostsinks.la host-api/libhostcommon.la $(YAJL_LIBS) $(SQLITE_LIBS) $(GVC_LIBS)

# Escaping, file names, reading a catalog built by the test, whole sites of hostile names, and
# the command's errors (it runs etlhost).
check_PROGRAMS += tests/unit/test_site
TESTS += tests/unit/test_site
tests_unit_test_site_SOURCES = tests/unit/test_site.c
tests_unit_test_site_CFLAGS = $(TESTUTIL_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/host-api/src
tests_unit_test_site_LDADD = host-api/libhostsite.la host-api/libhostsinks.la \
	host-api/libhostcommon.la \
	$(TESTUTIL_LIBS) $(YAJL_LIBS) $(SQLITE_LIBS)

# The site in a real browser (headless Chromium through its DevTools protocol) on a demo
# catalog: every page loads clean, links resolve, search works, screenshots, SVG node ids.
TESTS += tests/e2e/test_site_browser.sh
dist_check_SCRIPTS += tests/e2e/test_site_browser.sh
EXTRA_DIST += tests/e2e/cdp.py

# The browser test's screenshots (kept after the run for whoever reads its log).
clean-local: clean-site-shots
clean-site-shots:
	rm -rf tests/e2e/test_site_browser.shots
.PHONY: clean-site-shots
