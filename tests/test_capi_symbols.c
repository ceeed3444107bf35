/* Links every function of the C API (a missing or misspelt export fails the link), calls the ones
 * that need no engine, and checks the table is complete against the header (check_exports.sh). */
#include <tickforge/tickforge.h>

#include <stdio.h>
#include <string.h>

typedef void (*any_fn)(void);

#define FN(name) {#name, (any_fn)(name)}
static const struct {
  const char *name;
  any_fn fn;
} table[] = {
    FN(tf_err_str),          FN(tf_version),               FN(tf_version_str),
    FN(tf_rule_name),        FN(tf_config_new),            FN(tf_config_destroy),
    FN(tf_config_set),       FN(tf_config_load_file),      FN(tf_config_load_string),
    FN(tf_engine_new),       FN(tf_engine_destroy),        FN(tf_engine_on_alert),
    FN(tf_engine_add_feed),  FN(tf_engine_start),          FN(tf_engine_wait_feeds),
    FN(tf_engine_stop),      FN(tf_engine_symbol),         FN(tf_engine_ticker),
    FN(tf_engine_snapshot),  FN(tf_engine_snapshot_ticker), FN(tf_engine_stats),
    FN(tf_producer_new),     FN(tf_producer_close),        FN(tf_producer_offer),
    FN(tf_producer_offer_ticker), FN(tf_producer_offer_batch), FN(tf_producer_push),
    FN(tf_producer_push_ticker),  FN(tf_producer_push_batch),
};

int main(void) {
  size_t i;
  int failures = 0;
  for (i = 0; i < sizeof(table) / sizeof(table[0]); ++i) {
    if (table[i].fn == NULL) {
      printf("%s: NULL\n", table[i].name);
      ++failures;
    }
  }
  if (tf_version() != TF_VERSION) {
    printf("tf_version() %x != TF_VERSION %x\n", (unsigned)tf_version(), (unsigned)TF_VERSION);
    ++failures;
  }
  if (strcmp(tf_rule_name(TF_RULE_SMA_CROSS), "sma_cross") != 0) {
    printf("tf_rule_name(TF_RULE_SMA_CROSS) = %s\n", tf_rule_name(TF_RULE_SMA_CROSS));
    ++failures;
  }
  printf("%zu functions linked, library %s\n", sizeof(table) / sizeof(table[0]), tf_version_str());
  return failures == 0 ? 0 : 1;
}
