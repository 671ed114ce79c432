/*
 * mf-err.h - error text into a caller's buffer.
 *
 * mailfruit's library functions report errors as text in a buffer the caller
 * owns (char *err, size_t errlen) instead of printing or keeping global
 * state, so one caller can log it, another can show it, and threads do not
 * share anything. mf_err_set() formats into that buffer; a NULL buffer or a
 * zero length is allowed and means "the caller does not want the text".
 */
#ifndef MF_ERR_H
#define MF_ERR_H

#include <stddef.h>

void mf_err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
