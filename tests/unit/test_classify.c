/* SPDX-License-Identifier: MIT */
/*
 * Description: the message classifier (smsr_classify).
 *
 * Accuracy on three labelled corpora (the shared dev sample, our training
 * set, and a holdout set written before tuning) must each reach 97%. The
 * cases the issue calls out are pinned one by one: pickup codes and order
 * numbers are notices, coupon codes are marketing, an OTP with an opt-out
 * line is still an OTP. Robustness: empty, invalid UTF-8, very long text and
 * embedded NULs never crash and always give a valid class.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smsr/msg.h"
#include "classify/classify.h"

#define MIN_ACCURACY 0.97

static enum smsr_class cls(const char *s)
{
	return smsr_classify(s, strlen(s));
}

/* Accuracy of the classifier on a class<TAB>text file; -1 when it is missing. */
static double corpus_accuracy(const char *path, unsigned *total)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *tab;
	size_t cap = 0, len;
	ssize_t n;
	unsigned right = 0;

	*total = 0;
	if (!f)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		int want = smsr_class_parse(line);
		if (want < SMSR_CLASS_VERIFICATION)
			continue; /* header */
		(*total)++;
		if ((int)smsr_classify(tab + 1, strlen(tab + 1)) == want)
			right++;
		else
			print_message("miss (%s): %s\n", line, tab + 1);
	}
	free(line);
	fclose(f);
	return *total ? (double)right / *total : 0;
}

static void check_corpus(const char *path)
{
	unsigned total;
	double acc = corpus_accuracy(path, &total);

	if (acc < 0) {
		print_message("%s missing: skipped\n", path);
		skip();
	}
	print_message("%s: %.2f%% of %u\n", path, 100 * acc, total);
	assert_true(total > 0);
	assert_true(acc >= MIN_ACCURACY);
}

static void test_classify_dev_corpus_accuracy(void **state)
{
	(void)state;
	check_corpus(SMSR_SHARED_DIR "/corpus/classify-dev.tsv");
}

static void test_classify_train_corpus_accuracy(void **state)
{
	(void)state;
	check_corpus(SMSR_TEST_DATA "/classify-train.tsv");
}

static void test_classify_holdout_corpus_accuracy(void **state)
{
	(void)state;
	check_corpus(SMSR_TEST_DATA "/classify-holdout.tsv");
}

static void test_classify_train2_and_eval_corpora_accuracy(void **state)
{
	(void)state;
	check_corpus(SMSR_TEST_DATA "/classify-train2.tsv");
	check_corpus(SMSR_TEST_DATA "/classify-eval.tsv");
	check_corpus(SMSR_TEST_DATA "/classify-eval2.tsv");
}

/*
 * Written by someone who never saw the classifier, its keywords, model or
 * other corpora, and measured once before it joined the tests (98.83%,
 * 593 of 600). From now on it only guards against regressions: tuning on
 * it would make it one more training set.
 */
static void test_classify_independent_eval3_accuracy(void **state)
{
	(void)state;
	check_corpus(SMSR_TEST_DATA "/classify-eval3.tsv");
}

/*
 * The learned layer is really there and really decides: a message the
 * keywords are unsure of goes to the model, and the features are stable
 * (same text, same buckets), bounded and in range.
 */
static void test_classify_model_features(void **state)
{
	static const char *t = "Steam Guard: 5V8QX is the code you need";
	struct smsr__cls_kw kw;
	uint32_t a[SMSR__CLS_FEAT_MAX], b[SMSR__CLS_FEAT_MAX];
	size_t na, nb;

	(void)state;
	assert_true(smsr__cls_model_n > 1000);
	smsr__classify_keywords(t, strlen(t), &kw);
	na = smsr__cls_features(t, strlen(t), &kw, a, SMSR__CLS_FEAT_MAX);
	nb = smsr__cls_features(t, strlen(t), &kw, b, SMSR__CLS_FEAT_MAX);
	assert_int_equal(na, nb);
	assert_true(na > 10);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	for (size_t i = 0; i < na; i++)
		assert_true(a[i] < SMSR__CLS_BUCKETS);
	assert_int_equal(smsr__cls_features(t, strlen(t), &kw, a, 3), 3);
}

static void test_classify_keyword_table_is_sound(void **state)
{
	(void)state;
	assert_int_equal(smsr__classify_selfcheck(), 0);
}

static void test_classify_otp_in_three_languages(void **state)
{
	(void)state;
	assert_int_equal(cls("【某银行】您的动态码 402913，请勿泄露。"), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("【某銀行】您的驗證碼為 402913，請勿告知他人。"),
			 SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Your passcode is 402913."), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Your one-time PIN is 8841."), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("【某商城】一次性密碼 551029，5分鐘內有效。"),
			 SMSR_CLASS_VERIFICATION);
}

static void test_classify_dashed_and_spaced_codes_are_otp(void **state)
{
	(void)state;
	assert_int_equal(cls("Your Acme code is 402-118."), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Your Acme code is 402 118."), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("G-402118 is your Acme verification code."), SMSR_CLASS_VERIFICATION);
}

static void test_classify_otp_with_opt_out_line_is_otp(void **state)
{
	(void)state;
	assert_int_equal(cls("【某平台】验证码 662019，用于登录，回TD退订"),
			 SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Your Acme code is 662019. Reply STOP to opt out."),
			 SMSR_CLASS_VERIFICATION);
}

static void test_classify_pickup_code_is_notice(void **state)
{
	(void)state;
	assert_int_equal(cls("【某驿站】您的包裹已到站，取件码 662019，请及时领取。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某超商】包裹已送達門市，取貨碼 882103，請於7日內取件。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某快递】取件码 3-2-1108，营业时间 9:00-21:00。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Your Acme locker pickup code is 662019."), SMSR_CLASS_NOTICE);
}

static void test_classify_order_numbers_and_amounts_are_not_otp(void **state)
{
	(void)state;
	assert_int_equal(cls("【某商城】您的订单 2039187742 已发货，预计明天送达。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某银行】您尾号2231的卡消费 1,280.00 元，余额 5,102.11 元。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(
	    cls("Acme Bank: A purchase of $1204.00 was made on your card ending 3390."),
	    SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Your order #88120 is ready for pickup."), SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Acme Air: Flight 2231 to DEN departs at 6:10 PM from gate 12."),
			 SMSR_CLASS_NOTICE);
}

static void test_classify_coupon_code_is_marketing(void **state)
{
	(void)state;
	assert_int_equal(cls("Acme: Take an extra 20% off with code SAVE20 this weekend only!"),
			 SMSR_CLASS_MARKETING);
	assert_int_equal(cls("Use promo code 2024 for $10 off your next order."),
			 SMSR_CLASS_MARKETING);
	assert_int_equal(cls("【某外卖】今日下单享 7 折，使用优惠码 8821。"), SMSR_CLASS_MARKETING);
}

static void test_classify_marketing_without_opt_out(void **state)
{
	(void)state;
	assert_int_equal(cls("【某超市】周末水果买一送一，快来选购！"), SMSR_CLASS_MARKETING);
	assert_int_equal(cls("We miss you! Come back and get 30% off your next order."),
			 SMSR_CLASS_MARKETING);
}

static void test_classify_security_alert_without_code_is_notice(void **state)
{
	(void)state;
	assert_int_equal(cls("Your password was changed. If this wasn't you, call us."),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某支付】您的登录密码已修改成功，如非本人操作请致电客服。"),
			 SMSR_CLASS_NOTICE);
}

static void test_classify_bare_code_with_brand_is_otp(void **state)
{
	(void)state;
	assert_int_equal(cls("402913 - Acme"), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Acme: 402913"), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("【某平台】402913"), SMSR_CLASS_VERIFICATION);
	/* A longer message needs a code word. */
	assert_int_equal(cls("Acme: your parcel arrives today, order 19302"), SMSR_CLASS_NOTICE);
}

static void test_classify_code_words_in_three_languages(void **state)
{
	(void)state;
	assert_int_equal(cls("【某公司】您的账户代码为：402913。请勿与他人共享。"),
			 SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("【某公司】您的帳戶代碼為 402913，請勿分享。"),
			 SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("【某支付】您的安全码为 402913，请勿泄露。"), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Acme: 402913 is your security code."), SMSR_CLASS_VERIFICATION);
	assert_int_equal(cls("Your Acme login code: 402913"), SMSR_CLASS_VERIFICATION);
}

static void test_classify_collection_and_booking_codes_are_notice(void **state)
{
	(void)state;
	assert_int_equal(
	    cls("Acme: Your parcel is ready to collect from the shop. Collection code 402913."),
	    SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Your Acme order is ready. Collect from the lockers with PIN 4021."),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Your table at Acme is confirmed. Booking reference 402913."),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某柜】您的快件已存入丰巢柜，取件码 402913，请及时取件。"),
			 SMSR_CLASS_NOTICE);
}

static void test_classify_account_facts_with_amounts_are_notice(void **state)
{
	(void)state;
	assert_int_equal(
	    cls("【某税务局】您的个税汇算已办理完毕，应退税额512.00元，将退至您的银行账户。"),
	    SMSR_CLASS_NOTICE);
	assert_int_equal(
	    cls("【某人社局】您申请的补贴已审核通过，金额1,200元将于5个工作日内发放。"),
	    SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某运营商】您已成功办理套餐变更，新套餐99元/月，次月1日生效。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("【某平台】您的账号已绑定新手机号，如非本人操作请立即联系客服。"),
			 SMSR_CLASS_NOTICE);
	assert_int_equal(cls("Acme Pharmacy: Your flu vaccination is booked for 3 Dec at 10:20. "
			     "To cancel, call the store."),
			 SMSR_CLASS_NOTICE);
}

static void test_classify_offers_without_sale_words_are_marketing(void **state)
{
	(void)state;
	assert_int_equal(cls("【某贷】您的额度已提升至50,000元，立即申请 a.cn/x，回TD退订。"),
			 SMSR_CLASS_MARKETING);
	assert_int_equal(cls("【某商城】新款手机下周一开售，预约享12期免息。"),
			 SMSR_CLASS_MARKETING);
	assert_int_equal(cls("【某建設】捷運旁新案開賣，總價1,680萬起，預約賞屋 02-1234-5678。"),
			 SMSR_CLASS_MARKETING);
	assert_int_equal(cls("Acme Eats: Free delivery on all orders this weekend. Open the app."),
			 SMSR_CLASS_MARKETING);
}

static void test_classify_unknown_text_is_notice(void **state)
{
	(void)state;
	assert_int_equal(cls(""), SMSR_CLASS_NOTICE);
	assert_int_equal(cls("hello"), SMSR_CLASS_NOTICE);
	assert_int_equal(cls("1234"), SMSR_CLASS_NOTICE);
	assert_int_equal(smsr_classify(NULL, 0), SMSR_CLASS_NOTICE);
}

static void assert_valid(enum smsr_class c)
{
	assert_true(c >= SMSR_CLASS_VERIFICATION && c <= SMSR_CLASS_MARKETING);
}

static void test_classify_invalid_utf8_and_nul_never_crash(void **state)
{
	static const char bad[] =
	    "\xff\xfe\xe9\x80\x80\xe9\xc0 \xe3\x80\x90\xf0\x9f code \x00 123456"
	    "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe3\x80\x90\xe9";
	unsigned char all[256];

	(void)state;
	assert_valid(smsr_classify(bad, sizeof(bad) - 1));
	for (size_t n = 0; n < sizeof(bad); n++) /* every truncation */
		assert_valid(smsr_classify(bad, n));
	for (unsigned i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	assert_valid(smsr_classify((const char *)all, sizeof(all)));
	assert_valid(smsr_classify("\0\0\0\0", 4));
	/* A NUL inside @len is just a separator, not the end. */
	assert_int_equal(smsr_classify("x\0Your code is 402913.", 22), SMSR_CLASS_VERIFICATION);
}

static void test_classify_very_long_text(void **state)
{
	static const char unit[] = "验证码 123456 Reply STOP 满100减20 取件码 ";
	size_t ulen = sizeof(unit) - 1, n = 1 << 20;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = unit[i % ulen];
	assert_valid(smsr_classify(big, n));
	memset(big, '7', n);
	assert_valid(smsr_classify(big, n));
	memset(big, '\xe3', n);
	assert_valid(smsr_classify(big, n));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify_keyword_table_is_sound),
	    cmocka_unit_test(test_classify_dev_corpus_accuracy),
	    cmocka_unit_test(test_classify_train_corpus_accuracy),
	    cmocka_unit_test(test_classify_holdout_corpus_accuracy),
	    cmocka_unit_test(test_classify_train2_and_eval_corpora_accuracy),
	    cmocka_unit_test(test_classify_independent_eval3_accuracy),
	    cmocka_unit_test(test_classify_model_features),
	    cmocka_unit_test(test_classify_otp_in_three_languages),
	    cmocka_unit_test(test_classify_dashed_and_spaced_codes_are_otp),
	    cmocka_unit_test(test_classify_otp_with_opt_out_line_is_otp),
	    cmocka_unit_test(test_classify_pickup_code_is_notice),
	    cmocka_unit_test(test_classify_order_numbers_and_amounts_are_not_otp),
	    cmocka_unit_test(test_classify_coupon_code_is_marketing),
	    cmocka_unit_test(test_classify_marketing_without_opt_out),
	    cmocka_unit_test(test_classify_security_alert_without_code_is_notice),
	    cmocka_unit_test(test_classify_bare_code_with_brand_is_otp),
	    cmocka_unit_test(test_classify_code_words_in_three_languages),
	    cmocka_unit_test(test_classify_collection_and_booking_codes_are_notice),
	    cmocka_unit_test(test_classify_account_facts_with_amounts_are_notice),
	    cmocka_unit_test(test_classify_offers_without_sale_words_are_marketing),
	    cmocka_unit_test(test_classify_unknown_text_is_notice),
	    cmocka_unit_test(test_classify_invalid_utf8_and_nul_never_crash),
	    cmocka_unit_test(test_classify_very_long_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
