/*
 * fuzz-replay.c - main() for fuzz targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() on every file of the directories (or files)
 * given, one TAP point per file, so that the seed corpus and any crash
 * inputs kept there are regression tests under every compiler and
 * sanitizer build. A failed input aborts, which the TAP driver reports.
 */
#include "mailfruit-config.h"

#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, n;
	uint8_t chunk[65536];

	if (!tap_ok(fp != NULL, "open %s", path)) {
		tap_diag("%s", strerror(errno));
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((data = realloc(data, len + n)) == NULL)
			abort();
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(data, len);
	tap_ok(true, "%s (%zu bytes) replayed", path, len);
	free(data);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	static char *corpus[] = { NULL, (char *)MF_TEST_SRCDIR "/fuzz-corpus", NULL };
	int i;

	/* No arguments: the seed corpus, as "make check" runs it. */
	if (argc < 2) {
		argc = 2;
		argv = corpus;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;
		char **names = NULL;
		size_t count = 0, k;

		if (stat(argv[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
			replay_file(argv[i]);
			continue;
		}
		if (!tap_ok((dir = opendir(argv[i])) != NULL, "open directory %s", argv[i]))
			continue;
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if ((names = realloc(names, (count + 1) * sizeof(*names))) == NULL)
				abort();
			if (asprintf(&names[count++], "%s/%s", argv[i], de->d_name) < 0)
				abort();
		}
		closedir(dir);
		/* A stable order makes runs comparable. */
		qsort(names, count, sizeof(*names), by_name);
		for (k = 0; k < count; k++) {
			replay_file(names[k]);
			free(names[k]);
		}
		free(names);
	}
	return tap_done();
}
