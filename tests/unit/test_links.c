/*
 * Signed download links (issue 13, item 1): a signature checks for the
 * job, token and expiry it was made for and for nothing else; an expired
 * link is told apart; a rotated key refuses the links of the old one; a
 * store without a key signs nothing.
 */
#include "testutil.h"

#include "quarry/model.h"
#include "quarry/seams.h"

static time_t	fake_now;

static time_t
fixed_clock(void)
{
	return fake_now;
}

static void
test_sign_and_check(void **state)
{
	struct tu	*t = *state;
	const char	*job = "AAAAAAAAAAAAAAAAAAAAAA", *tok = "BBBBBBBBBBBBBBBBBBBBBB";
	char		 sig[LINK_SIG_LEN + 1], bad[LINK_SIG_LEN + 1];
	char		 again[LINK_SIG_LEN + 1];
	long long	 exp;

	q_seams.now = fixed_clock;
	fake_now = 1800000000;
	exp = fake_now + 600;
	/* no key yet: nothing is signed, nothing checks */
	assert_int_equal(link_sign(&t->conf, job, tok, exp, sig), Q_NOTFOUND);
	assert_int_equal(link_key_ensure(&t->conf), Q_OK);
	assert_int_equal(link_sign(&t->conf, job, tok, exp, sig), Q_OK);
	assert_int_equal(strlen(sig), LINK_SIG_LEN);
	assert_int_equal(link_check(&t->conf, job, tok, exp, sig), Q_OK);
	/* the same inputs sign the same; ensure keeps the key */
	assert_int_equal(link_key_ensure(&t->conf), Q_OK);
	assert_int_equal(link_sign(&t->conf, job, tok, exp, again), Q_OK);
	assert_string_equal(sig, again);
	/* anything else changed: refused */
	assert_int_equal(link_check(&t->conf, "CCCCCCCCCCCCCCCCCCCCCC", tok,
	    exp, sig), Q_FORBIDDEN);
	assert_int_equal(link_check(&t->conf, job, "CCCCCCCCCCCCCCCCCCCCCC",
	    exp, sig), Q_FORBIDDEN);
	assert_int_equal(link_check(&t->conf, job, tok, exp + 1, sig),
	    Q_FORBIDDEN);
	memcpy(bad, sig, sizeof(bad));
	bad[LINK_SIG_LEN - 1] = bad[LINK_SIG_LEN - 1] == '0' ? '1' : '0';
	assert_int_equal(link_check(&t->conf, job, tok, exp, bad),
	    Q_FORBIDDEN);
	assert_int_equal(link_check(&t->conf, job, tok, exp, "abc"),
	    Q_FORBIDDEN);
	/* fields cannot borrow each other's bytes */
	assert_int_equal(link_check(&t->conf, "AAAAAAAAAAAAAAAAAAAAAAB",
	    "BBBBBBBBBBBBBBBBBBBBB", exp, sig), Q_FORBIDDEN);
	/* expired */
	fake_now = exp;
	assert_int_equal(link_check(&t->conf, job, tok, exp, sig), Q_TIMEOUT);
	fake_now = exp - 1;
	assert_int_equal(link_check(&t->conf, job, tok, exp, sig), Q_OK);
	/* a new key: the old links stop working */
	assert_int_equal(link_key_create(&t->conf), Q_OK);
	assert_int_equal(link_check(&t->conf, job, tok, exp, sig),
	    Q_FORBIDDEN);
	assert_int_equal(link_sign(&t->conf, job, tok, exp, again), Q_OK);
	assert_string_not_equal(sig, again);
	assert_int_equal(link_check(&t->conf, job, tok, exp, again), Q_OK);
	seams_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_sign_and_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
