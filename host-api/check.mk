# host-api/check.mk: etl-plugin-check, the conformance kit installed with the header for plugin
# authors. Built from <etl/plugin.h>, libc, libdl and pthreads only -- no host internals --
# because it is what a third party runs (docs/abi.md, "Check your plugin").
bin_PROGRAMS += host-api/etl-plugin-check
host_api_etl_plugin_check_SOURCES = host-api/check/etl-plugin-check.c \
	host-api/check/check_services.h
host_api_etl_plugin_check_CPPFLAGS = -I$(top_srcdir)/host-api/include
host_api_etl_plugin_check_CFLAGS = $(AM_CFLAGS)
host_api_etl_plugin_check_LDADD = -ldl $(PTHREAD_LIBS)

