# SPDX-License-Identifier: MIT
# What weft needs, checked when CMake configures, each with a message that
# names what is missing (README.md: requirements):
#   - Linux: weft waits with futex, epoll, eventfd, signalfd and timerfd, and
#     watches its children through pidfds (pidfd_open: Linux 5.3 or later at
#     run time; close_range is used where the kernel has it, 5.9);
#   - glibc 2.32 or later (sys/single_threaded.h), and kernel headers that
#     name those system calls (Debian 12: glibc 2.36, Linux 6.1);
#   - x86_64 or aarch64, the two processors weft is built and tested on (the
#     coroutine switch and the spin-wait hints have code for each).
include(CheckIncludeFile)
include(CheckSymbolExists)
include(CheckCSourceCompiles)

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    message(FATAL_ERROR "weft needs Linux (futex, epoll, eventfd, signalfd, timerfd, "
                        "pidfd_open); this system is ${CMAKE_SYSTEM_NAME}")
endif()

if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|aarch64|arm64)$")
    message(WARNING "weft is built and tested on x86_64 and aarch64; this processor "
                    "(${CMAKE_SYSTEM_PROCESSOR}) is not one of them: coroutines use "
                    "the portable switch, and nothing here has been tested")
endif()

set(CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
set(CMAKE_REQUIRED_QUIET ON)
check_c_source_compiles("
#include <features.h>
#if !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 32)
#error not glibc 2.32
#endif
int main(void) { return 0; }" WEFT_HAVE_GLIBC_2_32)
if(NOT WEFT_HAVE_GLIBC_2_32)
    message(FATAL_ERROR "weft needs the GNU C library (glibc) 2.32 or later; "
                        "this C library is another, or older")
endif()

foreach(h sys/single_threaded.h sys/epoll.h sys/eventfd.h sys/signalfd.h
          sys/timerfd.h linux/futex.h)
    string(MAKE_C_IDENTIFIER "WEFT_HAVE_${h}" var)
    check_include_file(${h} ${var})
    if(NOT ${var})
        message(FATAL_ERROR "weft needs the header <${h}> (glibc 2.32 or later and "
                            "Linux's headers: Debian's libc6-dev and linux-libc-dev)")
    endif()
endforeach()

foreach(call futex pidfd_open pidfd_send_signal close_range)
    check_symbol_exists(SYS_${call} sys/syscall.h WEFT_HAVE_SYS_${call})
    if(NOT WEFT_HAVE_SYS_${call})
        message(FATAL_ERROR "weft needs the system call ${call}, which <sys/syscall.h> "
                            "does not name (SYS_${call}): Linux headers 5.9 or later")
    endif()
endforeach()
unset(CMAKE_REQUIRED_DEFINITIONS)
unset(CMAKE_REQUIRED_QUIET)
