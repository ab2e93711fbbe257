/* check.h - the one assertion macro and result line every C unit test uses. */
#ifndef BM_TESTS_CHECK_H
#define BM_TESTS_CHECK_H

#include <stdio.h>

/* Failed checks so far; a test keeps going after a failure to report them all. */
static int failures;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      failures++;                                                                \
    }                                                                            \
  } while (0)

/* Prints "NAME: ok" or the failure count; returns the process exit code. */
static inline int check_result(const char *name) {
  if (failures) {
    fprintf(stderr, "%s: %d failure(s)\n", name, failures);
    return 1;
  }
  printf("%s: ok\n", name);
  return 0;
}

#endif
