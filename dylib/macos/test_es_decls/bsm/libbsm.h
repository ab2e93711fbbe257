/* TEST-ONLY: audit-token accessors from libbsm, declared for bm from Apple's documentation. */
#ifndef BM_TEST_LIBBSM_H
#define BM_TEST_LIBBSM_H

#include <sys/types.h>
#include <mach/mach.h>

pid_t audit_token_to_pid(audit_token_t atoken);
uid_t audit_token_to_ruid(audit_token_t atoken);
uid_t audit_token_to_euid(audit_token_t atoken);
int audit_token_to_pidversion(audit_token_t atoken);

#endif
