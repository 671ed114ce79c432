/* mf-err.c - see mf-err.h. */
#include "mailfruit-config.h"

#include "mf-err.h"

#include <stdarg.h>
#include <stdio.h>

void mf_err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
