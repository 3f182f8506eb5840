/* SPDX-License-Identifier: MIT */
/*
 * smsr-classify-features: the classifier's training input, for
 * tools/train/train-classifier.py. Reads "label<TAB>text" lines on stdin
 * and writes "label<TAB>v n m code verdict<TAB>bucket ..." per line: the
 * keyword scores, then the feature buckets, as core/classify/ computes
 * them, so training and classification never disagree on a feature.
 *
 * The one program outside core/ that reads the library's internals (the
 * classifier's private header), because what it prints is exactly those
 * internals. It is a build aid of the classifier module, not an operator
 * tool: it is not installed, and the operator tools use the public API only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "smsr/smsr.h"
#include "classify/classify.h"

static void features_line(char *line, size_t len)
{
	char *tab = memchr(line, '\t', len);
	struct smsr__cls_kw kw;
	uint32_t f[SMSR__CLS_FEAT_MAX];
	size_t nf;

	if (!tab)
		return;
	*tab = '\0';
	if (smsr_class_parse(line) < SMSR_CLASS_VERIFICATION)
		return; /* the header */
	smsr__classify_keywords(tab + 1, len - (size_t)(tab + 1 - line), &kw);
	nf =
	    smsr__cls_features(tab + 1, len - (size_t)(tab + 1 - line), &kw, f, SMSR__CLS_FEAT_MAX);
	printf("%s\t%d %d %d %d %d\t", line, kw.v, kw.n, kw.m, kw.code, kw.verdict);
	for (size_t i = 0; i < nf; i++)
		printf(i ? " %u" : "%u", f[i]);
	putchar('\n');
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;

		if (len && line[len - 1] == '\n')
			len--;
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		features_line(line, len);
	}
	free(line);
	return ferror(stdin) || fflush(stdout) ? 1 : 0;
}
