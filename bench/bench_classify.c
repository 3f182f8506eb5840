/* SPDX-License-Identifier: MIT */
/*
 * Classifier throughput: one core, a mix of typical messages (the shared dev
 * corpus when present, else a built-in mix of all three classes in simplified
 * Chinese, traditional Chinese and English). Prints the median of the runs as
 * classify_msgs_per_sec and classify_ns_per_msg.
 *
 * usage: bench_classify [corpus.tsv] [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "smsr/msg.h"

#ifndef SMSR_SHARED_DIR
#define SMSR_SHARED_DIR "../shared"
#endif

#define MAX_MSGS 4096
#define PER_RUN	 2000000 /* classifications per run */
#define MIN_RUNS 5

static const char *const builtin[] = {
    "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。",
    "【中通快递】您的包裹已到达北京朝阳望京站，派件员正在派送，取件码 3-2-1108。",
    "【天猫】年终好价节！满400减60，叠加店铺券更划算，点击 tb.cn/Zx2 抢，回TD退订。",
    "【玉山銀行】一次性交易密碼 940117，有效時間5分鐘。",
    "【長榮航空】您的BR857航班已開放線上報到，登機時間14:20。",
    "【家樂福】週末限定：鮮乳買二送一，回覆TD退訂。",
    "Your Venmo code is 881920. Never share this code.",
    "Citi: A purchase of $58.20 at WHOLE FOODS was made on your card ending 3390.",
    "Kohl's: Take an extra 20% off with code SAVE20 this weekend only! Reply STOP to opt out.",
};

/* This thread's CPU time: on a shared machine it shows the cost without the waits. */
static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct corpus {
	char *text[MAX_MSGS];
	size_t len[MAX_MSGS];
	size_t n, bytes;
};

static void corpus_add(struct corpus *c, const char *s, size_t len)
{
	if (c->n == MAX_MSGS || !(c->text[c->n] = malloc(len + 1)))
		return;
	memcpy(c->text[c->n], s, len);
	c->text[c->n][len] = '\0';
	c->len[c->n++] = len;
	c->bytes += len;
}

/* Load the texts of a class<TAB>text file; returns 0 when it is unreadable. */
static int corpus_load(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		tab = memchr(line, '\t', (size_t)n);
		if (tab && strncmp(line, "class\t", 6) != 0)
			corpus_add(c, tab + 1, (size_t)(line + n - tab - 1));
	}
	free(line);
	fclose(f);
	return c->n > 0;
}

int main(int argc, char **argv)
{
	static struct corpus c;
	const char *path = argc > 1 ? argv[1] : SMSR_SHARED_DIR "/corpus/classify-dev.tsv";
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	double rate[64], ns[64], cpu[64];
	unsigned long sink = 0;
	char extra[200];

	if (runs < MIN_RUNS || runs > 64)
		runs = MIN_RUNS;
	if (!corpus_load(&c, path)) {
		path = "builtin";
		for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
			corpus_add(&c, builtin[i], strlen(builtin[i]));
	}
	for (size_t i = 0; i < c.n; i++) /* warm up: builds the table, fills caches */
		sink += smsr_classify(c.text[i], c.len[i]);
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = bench_now_ns(), c0 = cpu_now_ns(), dt;

		for (size_t k = 0; k < PER_RUN; k++) {
			size_t i = k % c.n;

			sink += smsr_classify(c.text[i], c.len[i]);
		}
		dt = bench_now_ns() - t0;
		cpu[r] = (double)(cpu_now_ns() - c0) / PER_RUN;
		rate[r] = PER_RUN * 1e9 / (double)dt;
		ns[r] = (double)dt / PER_RUN;
	}
	snprintf(extra, sizeof(extra),
		 ",\"cpu_ns_per_msg\":%.1f,\"msgs\":%zu,\"avg_bytes\":%.1f,\"corpus\":\"%s\","
		 "\"sink\":%lu",
		 bench_median(cpu, (size_t)runs), c.n, (double)c.bytes / (double)c.n,
		 strcmp(path, "builtin") ? "file" : "builtin", sink % 7);
	bench_emit("classify", "classify_msgs_per_sec", bench_median(rate, (size_t)runs), "msg/s",
		   runs, extra);
	bench_emit("classify", "classify_ns_per_msg", bench_median(ns, (size_t)runs), "ns", runs,
		   extra);
	for (size_t i = 0; i < c.n; i++)
		free(c.text[i]);
	return 0;
}
