/* SPDX-License-Identifier: MIT */
/*
 * smsrctl: the admin command line, built on the public API only.
 *
 * Subcommands live in one table; adding one (submit, status, channels,
 * stats) is a function and a row. Exit status: 0 success, 1 failure of the
 * command itself, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/msg.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static int cmd_classify(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"classify", "[--tsv [-v]]",
     "classify one message per stdin line; --tsv reads class<TAB>text lines\n"
     "\t\t\tand prints accuracy and the confusion matrix (-v: list misses)",
     cmd_classify},
    {"help", "", "print this help", cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: smsrctl <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %-12s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* Strip a trailing "\n" or "\r\n" from @line (@len bytes); returns the new length. */
static size_t chomp(char *line, size_t len)
{
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return len;
}

/* Tally of a labelled run: conf[expected][got], classes 1..3. */
struct tally {
	unsigned long conf[SMSR_NCLASS + 1][SMSR_NCLASS + 1];
	unsigned long total, right, skipped;
};

static void tsv_line(struct tally *t, char *line, size_t len, int verbose)
{
	char *tab = memchr(line, '\t', len);
	int want;
	enum smsr_class got;

	if (!tab) {
		t->skipped++;
		return;
	}
	*tab = '\0';
	want = smsr_class_parse(line);
	if (want < SMSR_CLASS_VERIFICATION) {
		t->skipped++; /* the header line, or a bad label */
		return;
	}
	got = smsr_classify(tab + 1, len - (size_t)(tab + 1 - line));
	t->conf[want][got]++;
	t->total++;
	if ((int)got == want)
		t->right++;
	else if (verbose)
		fprintf(stderr, "MISS want=%s got=%s\t%s\n", smsr_class_name(want),
			smsr_class_name(got), tab + 1);
}

static void tsv_report(const struct tally *t)
{
	printf("accuracy %.2f%% (%lu/%lu)\n", t->total ? 100.0 * t->right / t->total : 0.0,
	       t->right, t->total);
	printf("%-14s %12s %12s %12s\n", "want\\got", "verification", "notice", "marketing");
	for (int w = 1; w <= SMSR_NCLASS; w++) {
		printf("%-14s", smsr_class_name(w));
		for (int g = 1; g <= SMSR_NCLASS; g++)
			printf(" %12lu", t->conf[w][g]);
		printf("\n");
	}
}

static int cmd_classify(int argc, char **argv)
{
	int tsv = 0, verbose = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct tally t = {0};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = 1;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
		} else {
			fprintf(stderr, "smsrctl classify: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = chomp(line, (size_t)n);

		if (tsv)
			tsv_line(&t, line, len, verbose);
		else
			puts(smsr_class_name(smsr_classify(line, len)));
	}
	free(line);
	if (tsv)
		tsv_report(&t);
	return ferror(stdin) || fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "smsrctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
