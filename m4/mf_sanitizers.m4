# MF_SANITIZERS: --enable-sanitizers builds everything with ASan + UBSan,
# and makes UBSan findings fatal so a test run cannot hide them.
AC_DEFUN([MF_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_sanitizers=no])
  MF_SAN_CFLAGS=
  MF_SAN_LDFLAGS=
  AS_IF([test "x$enable_sanitizers" = xyes], [
    MF_SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    MF_SAN_LDFLAGS="-fsanitize=address,undefined"
    mf_save_CFLAGS=$CFLAGS; mf_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $MF_SAN_CFLAGS"; LDFLAGS="$LDFLAGS $MF_SAN_LDFLAGS"
    AC_MSG_CHECKING([whether $CC supports ASan and UBSan])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); AC_MSG_ERROR([--enable-sanitizers needs a compiler with ASan and UBSan (libasan, libubsan)])])
    CFLAGS=$mf_save_CFLAGS; LDFLAGS=$mf_save_LDFLAGS
  ])
  AC_SUBST([MF_SAN_CFLAGS])
  AC_SUBST([MF_SAN_LDFLAGS])
  AM_CONDITIONAL([MF_SANITIZERS], [test "x$enable_sanitizers" = xyes])
])
