/* TEST-ONLY: mach time declarations (see mach/mach.h in this folder). */
#ifndef BM_TEST_MACH_TIME_H
#define BM_TEST_MACH_TIME_H

#include <mach/mach.h>

struct mach_timebase_info {
  uint32_t numer;
  uint32_t denom;
};
typedef struct mach_timebase_info *mach_timebase_info_t;
typedef struct mach_timebase_info mach_timebase_info_data_t;

kern_return_t mach_timebase_info(mach_timebase_info_t info);
uint64_t mach_absolute_time(void);

#endif
