# usdtgen.mk: make rules for USDT probe headers from D provider files (GNU make).
#
#     include $(shell usdtgen --make-include)
#
# then name the header as a prerequisite of the objects that include it:
#
#     app.o: app.c myapp.h
#
# and `make` runs `usdtgen -C -h -s myapp.d -o myapp.h` when myapp.d, or a file it
# #includes, changes. usdtgen rewrites the header only when its content changes, so
# objects are not rebuilt for a touched provider file whose probes did not change.
#
# Variables (set them before or after the include, or on make's command line):
#   USDTGEN          the usdtgen command (default: usdtgen)
#   USDTGEN_FLAGS    more flags: -I DIR, -D NAME=VALUE, --strict, ...
#   USDTGEN_DEPFILES the depfiles to read (default: *.h.dep and */*.h.dep); each header's
#                    dependencies (what cpp read) are written next to it as HEADER.dep
#
# Projects whose compiler writes its own dependency files as *.d next to the headers
# (gcc -MD with objects in the source tree) should restrict the rule to their headers with
# a static pattern rule instead:  $(PROBE_HEADERS): %.h: %.d ; $(USDTGEN_HEADER_RULE)

USDTGEN ?= usdtgen
USDTGEN_FLAGS ?=
USDTGEN_DEPFILES ?= $(wildcard *.h.dep */*.h.dep)

USDTGEN_HEADER_RULE = $(USDTGEN) -C -h -s $< -o $@ --depfile $@.dep $(USDTGEN_FLAGS)

%.h: %.d
	$(USDTGEN_HEADER_RULE)

# the depfiles' rules must not become the default goal of the including Makefile
usdtgen_default_goal := $(.DEFAULT_GOAL)
-include $(USDTGEN_DEPFILES)
.DEFAULT_GOAL := $(usdtgen_default_goal)
