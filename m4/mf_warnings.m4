# MF_WARNINGS: gnu11 and the project's warning set in MF_CFLAGS;
# --enable-werror (CI) turns every warning into an error.
AC_DEFUN([MF_WARNINGS], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors (CI)])],
    [], [enable_werror=no])
  MF_CFLAGS="-std=gnu11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
  AS_IF([test "x$enable_werror" = xyes], [MF_CFLAGS="$MF_CFLAGS -Werror"])
  AC_SUBST([MF_CFLAGS])
])
