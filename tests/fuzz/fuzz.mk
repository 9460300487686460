# libFuzzer target for the lineage-log reader and the audit views (clang only).
# Included from the top Makefile; `make fuzz` builds it and runs it for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
FUZZ_BIN     := $(B)/fuzz/logread_fuzz
FUZZ_SRC     := $(addprefix launcher/views/,logread.cc lineage.cc summary.cc trace_format.cc \
  view_util.cc tree_text.cc tree_json.cc tree_dot.cc tree_perfetto.cc tree_svg.cc tree_html.cc \
  fold.cc filter.cc group_text.cc runaway_report.cc json_writer.cc log_text.cc) \
  schema/record.cc schema/json_cursor.cc launcher/os/parse.cc
FUZZ_FLAGS   := -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all

$(FUZZ_BIN): tests/fuzz/logread_fuzz.cc $(FUZZ_SRC) $(wildcard launcher/*/*.h schema/*.h)
	@mkdir -p $(@D)
	$(CLANG)++ $(FUZZ_FLAGS) tests/fuzz/logread_fuzz.cc $(FUZZ_SRC) -o $@

.PHONY: fuzz
# The seed corpus is read-only in the tree; new inputs go to a scratch copy in $(B).
fuzz: $(FUZZ_BIN)
	rm -rf $(B)/fuzz/corpus && mkdir -p $(B)/fuzz/corpus && cp tests/fuzz/corpus/* $(B)/fuzz/corpus/
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 \
	  -dict=tests/fuzz/log.dict $(B)/fuzz/corpus
