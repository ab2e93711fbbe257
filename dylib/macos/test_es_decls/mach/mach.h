/*
 * TEST-ONLY: the few Mach declarations dylib/macos uses, written for bm from
 * Apple's public documentation so `clang -fsyntax-only` can run without the
 * macOS SDK. Values are placeholders; real builds use the SDK.
 */
#ifndef BM_TEST_MACH_H
#define BM_TEST_MACH_H

#include <stdint.h>

typedef int kern_return_t;
typedef unsigned int mach_port_t;
typedef mach_port_t task_t;
typedef unsigned int natural_t;
typedef natural_t mach_msg_type_number_t;
typedef natural_t task_flavor_t;
typedef int *task_info_t;

typedef struct {
  unsigned int val[8];
} audit_token_t;

#define KERN_SUCCESS 0
#define TASK_AUDIT_TOKEN 15
#define TASK_AUDIT_TOKEN_COUNT (sizeof(audit_token_t) / sizeof(natural_t))

mach_port_t mach_task_self(void);
kern_return_t task_info(task_t target_task, task_flavor_t flavor, task_info_t task_info_out,
                        mach_msg_type_number_t *task_info_outCnt);

#endif
