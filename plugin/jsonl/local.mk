# plugin/jsonl: the `jsonl` replay source, a libtool module installed as jsonl.so in plugindir.
plugin_LTLIBRARIES += plugin/jsonl.la
plugin_jsonl_la_SOURCES = plugin/jsonl/jsonl.c
plugin_jsonl_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS) $(YAJL_CFLAGS)
plugin_jsonl_la_LIBADD = $(YAJL_LIBS)
plugin_jsonl_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^etl_plugin_entry$$'

# Every plugin (of any fragment) is found as NAME.so: libtool's .la files in plugindir would
# only clutter it, so they are removed after install; since they are gone, uninstall removes
# the .so files itself.
install-data-hook: remove-plugin-la-files
remove-plugin-la-files:
	@for p in $(plugin_LTLIBRARIES); do \
	  echo " rm -f $(DESTDIR)$(plugindir)/$$(basename $$p)"; \
	  rm -f "$(DESTDIR)$(plugindir)/$$(basename $$p)"; \
	done
uninstall-hook: remove-plugin-so-files
remove-plugin-so-files:
	@for p in $(plugin_LTLIBRARIES); do \
	  so="$(DESTDIR)$(plugindir)/$$(basename $$p .la).so"; echo " rm -f $$so"; rm -f "$$so"; \
	done
.PHONY: remove-plugin-la-files remove-plugin-so-files
