/*
 * bm_sensor_testing.h - hooks for tests and benchmarks, outside the ABI of
 * bm_sensor.h. They are compiled into every build (the C unit tests link the
 * sources directly), but only the test build (`make -C dylib test-lib`,
 * -DBM_TEST_HOOKS, build/test/) exports them; the shipped library keeps them
 * hidden and drops them at link time. TS binds them in
 * ffi/synthetic_test_utils.ts, which only tests and benchmarks import.
 *
 * The test build also accepts config keys the shipped library rejects as
 * unknown (so a release agent can never be put in these modes):
 *   marks_only_under=/path  "every filesystem" mode follows only tmpfs mounts
 *                           under this directory (tests on a shared machine)
 *   debug_stall_ms=N        the agent sits on every batch with an auth event
 *                           this long (tests of the watchdog and guardian);
 *                           the library only accepts the key, the agent stalls
 */
#ifndef BM_SENSOR_TESTING_H
#define BM_SENSOR_TESTING_H

#include "bm_sensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef BM_TEST_HOOKS
#define BM_TEST_API BM_API
#else
#define BM_TEST_API
#endif

/*
 * Opens a sensor with no OS source (config as bm_sensor_open; OS keys
 * ignored). Records come only from bm_sensor_inject.
 */
BM_TEST_API bm_sensor *bm_sensor_open_synthetic(const char *config, char *err, uint32_t err_len);

/*
 * Copies `count` copies of one encoded record (len bytes) into the ring,
 * giving each a new seq; a record with BM_FLAG_AUTH gets a fresh auth_id and
 * deadline and is held like a real one. Returns how many were queued, -1 bad
 * arguments.
 */
BM_TEST_API int32_t bm_sensor_inject(bm_sensor *s, const uint8_t *rec, uint32_t len, uint32_t count);

/* Linux: permission events whose start time came from the fork table (pidfs inode matched). */
BM_TEST_API uint64_t bm_linux_debug_slot_hits(bm_sensor *s);

/* Linux: file event directories whose path came from the directory cache. */
BM_TEST_API uint64_t bm_linux_debug_dcache_hits(bm_sensor *s);

#ifdef __cplusplus
}
#endif
#endif /* BM_SENSOR_TESTING_H */
