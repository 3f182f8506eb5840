/* SPDX-License-Identifier: MIT */
/*
 * Recipient numbers to E.164: smsr_e164_normalize().
 *
 * Invariant: whatever this returns >= 0 is '+' followed by 8 to 15 digits
 * whose first digit is not 0, and a +86 result is a mainland mobile number
 * (1[3-9] and 11 digits) or a landline whose area code and length check out.
 * Every later stage (carrier lookup, per-recipient shards, dedup keys) relies
 * on one number having exactly one spelling, so anything ambiguous is
 * rejected rather than guessed.
 *
 * Accepted forms: an international prefix ('+' or "00") before the country
 * code; "86" followed by a mainland mobile number; a bare mainland mobile
 * number. Spaces, tabs, '-', '.', '(' and ')' may appear anywhere as visual
 * grouping. Domestic trunk forms ("010 ...", "+86 0138 ...") and bare
 * numbers of other countries are rejected: without an international prefix
 * they cannot be told apart from a mistyped number.
 *
 * Landlines (+86): accepted when the national number is a 2-digit area code
 * (10, 20-25, 27-29) plus 8 subscriber digits, or a 3-digit area code
 * ([3-9]xx) plus 7 or 8 subscriber digits, the subscriber number starting
 * with 2-9 (the MIIT numbering plan). They pass normalization so that the
 * caller gets a precise carrier (UNKNOWN) rather than "invalid number".
 */
#include <stdbool.h>
#include <string.h>

#include "smsr/msg.h"

/* Longest digit run worth collecting: "00" + 15 digits. */
#define DIGITS_MAX 17
#define E164_MIN   8
#define E164_MAX   15

static bool is_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t';
}

/*
 * Collect the digits of @in into @d and say whether a '+' preceded them.
 * Returns the digit count, or -1 for anything that is not a digit or a
 * separator, a second '+', a '+' after a digit, or too many digits.
 */
static int collect_digits(const char *in, char *d, bool *plus)
{
	int n = 0;

	*plus = false;
	for (const char *p = in; *p; p++) {
		char c = *p;

		if (c >= '0' && c <= '9') {
			if (n == DIGITS_MAX)
				return -1;
			d[n++] = c;
		} else if (c == '+') {
			if (*plus || n > 0)
				return -1;
			*plus = true;
		} else if (!is_separator(c)) {
			return -1;
		}
	}
	return n;
}

static bool is_mainland_mobile(const char *nsn, int n)
{
	return n == 11 && nsn[0] == '1' && nsn[1] >= '3' && nsn[1] <= '9';
}

/* Area codes 10, 20-25 and 27-29 have two digits; 26 is unassigned. */
static bool is_two_digit_area(const char *nsn)
{
	if (nsn[0] == '1')
		return nsn[1] == '0';
	return nsn[0] == '2' && nsn[1] != '6';
}

static bool is_mainland_landline(const char *nsn, int n)
{
	if (is_two_digit_area(nsn))
		return n == 10 && nsn[2] >= '2';
	if (nsn[0] < '3')
		return false;
	return (n == 10 || n == 11) && nsn[3] >= '2';
}

/* Check @d (@n digits, country code first) as an international number. */
static bool valid_international(const char *d, int n)
{
	if (n < E164_MIN || n > E164_MAX || d[0] == '0')
		return false;
	if (d[0] == '8' && d[1] == '6')
		return is_mainland_mobile(d + 2, n - 2) || is_mainland_landline(d + 2, n - 2);
	return true;
}

int smsr_e164_normalize(const char *in, char *out)
{
	char d[DIGITS_MAX];
	const char *cc = d; /* where the country code starts */
	bool plus;
	int n;

	if (!in || !out)
		return -SMSR_EBADNUMBER;
	n = collect_digits(in, d, &plus);
	if (n < 2)
		return -SMSR_EBADNUMBER;
	if (!plus) {
		if (is_mainland_mobile(d, n)) {
			out[0] = '+';
			out[1] = '8';
			out[2] = '6';
			memcpy(out + 3, d, 11);
			out[14] = '\0';
			return 14;
		}
		if (d[0] == '0' && d[1] == '0') {
			cc += 2;
			n -= 2;
		} else if (!(d[0] == '8' && d[1] == '6' && is_mainland_mobile(d + 2, n - 2))) {
			return -SMSR_EBADNUMBER;
		}
	}
	if (!valid_international(cc, n))
		return -SMSR_EBADNUMBER;
	out[0] = '+';
	memcpy(out + 1, cc, (size_t)n);
	out[n + 1] = '\0';
	return n + 1;
}
