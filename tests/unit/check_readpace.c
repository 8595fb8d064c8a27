/*
 * check_readpace.c - when the NATS reader pauses (readpace.h).
 */
#include <stdlib.h>

#include <check.h>

#include "readpace.h"

/* A trickle: once a window has measured it, every read that brought
   messages and emptied the socket pauses; not one that left bytes, nor
   the pass in which a pause ended. */
START_TEST(test_trickle_pauses)
{
	struct lt_readpace	p;
	uint64_t		n = 0;
	int64_t			t = 1000;
	int			i;

	lt_readpace_init(&p, t);
	/* 333 messages a second, 3 per 10 ms pause, for 2 s */
	for (i = 0; i < 200; i++) {
		n += 3;
		t += 10;
		/* the first window is not measured yet: no pause */
		ck_assert_int_eq(lt_readpace_after(&p, n, 0, 0, t), i >= 9);
	}
	n += 3;
	t += 10;
	ck_assert_int_eq(lt_readpace_after(&p, n, 4096, 0, t), 0);
	n += 3;
	t += 10;
	ck_assert_int_eq(lt_readpace_after(&p, n, 0, 1, t), 0);
	n += 3;
	t += 10;
	ck_assert_int_eq(lt_readpace_after(&p, n, 0, 0, t), 1);
}
END_TEST

/* Nothing new since the last call (a pause ended, a write, a timer):
   no pause, so an idle reader waits for the next message; nor for a
   lone message after an idle spell. */
START_TEST(test_idle_never_pauses)
{
	struct lt_readpace	p;

	lt_readpace_init(&p, 0);
	ck_assert_int_eq(lt_readpace_after(&p, 0, 0, 0, 5), 0);
	ck_assert_int_eq(lt_readpace_after(&p, 30, 0, 0, 100), 1);
	ck_assert_int_eq(lt_readpace_after(&p, 30, 0, 0, 110), 0);
	ck_assert_int_eq(lt_readpace_after(&p, 30, 0, 0, 5000), 0);
	ck_assert_int_eq(lt_readpace_after(&p, 31, 0, 0, 5010), 0);
}
END_TEST

/* Below LT_READPACE_MIN a window (100 messages a second here), a pause
   would bring nothing together: never. */
START_TEST(test_slow_never_pauses)
{
	struct lt_readpace	p;
	uint64_t		n = 0;
	int64_t			t = 0;
	int			i;

	lt_readpace_init(&p, t);
	for (i = 0; i < 300; i++) {
		n++;
		t += 10;
		ck_assert_int_eq(lt_readpace_after(&p, n, 0, 0, t), 0);
	}
}
END_TEST

/* A stream: once LT_READPACE_STREAM messages came in the current window,
   no more pauses, and none in the next window either. */
START_TEST(test_stream_reads_on)
{
	struct lt_readpace	p;
	uint64_t		n = 0;
	int64_t			t = 0;
	int			i, paused = 0;

	lt_readpace_init(&p, t);
	/* a trickle of 30 per window first */
	ck_assert_int_eq(lt_readpace_after(&p, 30, 0, 0, 100), 1);
	n = 30;
	t = 100;
	/* then 1,000 messages a second: 10 per 10 ms */
	for (i = 0; i < 9; i++) {
		n += 10;
		t += 10;
		paused += lt_readpace_after(&p, n, 0, 0, t);
	}
	/* 90 so far in this window (100..200 ms): the first 7 paused */
	ck_assert_int_eq(paused, 7);
	for (i = 0; i < 100; i++) {
		n += 10;
		t += 10;
		ck_assert_int_eq(lt_readpace_after(&p, n, 0, 0, t), 0);
	}
}
END_TEST

/* The window's rate, not its count: a gap longer than a window counts
   per window. */
START_TEST(test_rate_per_window)
{
	struct lt_readpace	p;

	lt_readpace_init(&p, 0);
	/* 79 in one window: a trickle */
	ck_assert_int_eq(lt_readpace_after(&p, 79, 0, 0, 100), 1);
	ck_assert_int_eq(lt_readpace_after(&p, 80, 0, 0, 110), 1);
	/* 161 in the next 200 ms: 80 per window, a stream */
	ck_assert_int_eq(lt_readpace_after(&p, 240, 0, 0, 300), 0);
	ck_assert_int_eq(lt_readpace_after(&p, 241, 0, 0, 310), 0);
	/* then 101 over 400 ms: 25 per window, a trickle again */
	ck_assert_int_eq(lt_readpace_after(&p, 341, 0, 0, 700), 1);
	ck_assert_int_eq(lt_readpace_after(&p, 342, 0, 0, 710), 1);
	/* then 10 over 200 ms: 5 per window, too few to pause */
	ck_assert_int_eq(lt_readpace_after(&p, 351, 0, 0, 900), 0);
}
END_TEST

/* The pause: a tenth of batch_linger, at most LT_READPACE_MAX_MS; none
   below 10 ms. */
START_TEST(test_pause_ms)
{
	ck_assert_int_eq(lt_readpace_pause_ms(100), 10);
	ck_assert_int_eq(lt_readpace_pause_ms(1500), LT_READPACE_MAX_MS);
	ck_assert_int_eq(lt_readpace_pause_ms(50), 5);
	ck_assert_int_eq(lt_readpace_pause_ms(9), 0);
	ck_assert_int_eq(lt_readpace_pause_ms(0), 0);
}
END_TEST

static Suite *
readpace_suite(void)
{
	Suite	*s = suite_create("readpace");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, test_trickle_pauses);
	tcase_add_test(tc, test_idle_never_pauses);
	tcase_add_test(tc, test_slow_never_pauses);
	tcase_add_test(tc, test_stream_reads_on);
	tcase_add_test(tc, test_rate_per_window);
	tcase_add_test(tc, test_pause_ms);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(readpace_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
