/*
 * The wake FIFO (wake.h): nudging never blocks, with or without a reader;
 * the listener sees a nudge, drains it, and never sees end-of-file.
 */
#include <poll.h>

#include "testutil.h"
#include "quarry/wake.h"

static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* With no scheduler (no FIFO, or no reader), a nudge is a no-op. */
static void
test_no_reader(void **state)
{
	struct tu	*t = *state;
	char		 path[PATH_MAX];
	struct stat	 st;

	wake_scheduler(&t->conf);
	tu_path(path, t->conf.db_dir, "quarryd.wake");
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	wake_scheduler(&t->conf);	/* ENXIO: must return at once */
}

/* The listener creates the FIFO, sees nudges, drains them. */
static void
test_listen(void **state)
{
	struct tu	*t = *state;
	char		 path[PATH_MAX];
	struct stat	 st;
	int		 fd, i;

	fd = wake_listen(&t->conf);
	assert_true(fd >= 0);
	tu_path(path, t->conf.db_dir, "quarryd.wake");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_false(readable(fd));
	wake_scheduler(&t->conf);
	assert_true(readable(fd));
	wake_drain(fd);
	assert_false(readable(fd));	/* no EOF once the writer went */
	for (i = 0; i < 70000; i++)	/* fills the 64 KiB FIFO: never blocks */
		wake_scheduler(&t->conf);
	assert_true(readable(fd));
	wake_drain(fd);
	assert_false(readable(fd));
	close(fd);
	fd = wake_listen(&t->conf);	/* the FIFO exists already */
	assert_true(fd >= 0);
	close(fd);
}

/* The FIFO is the group's to write, whatever the umask. */
static void
test_fifo_is_the_groups(void **state)
{
	struct tu	*t = *state;
	char		 path[PATH_MAX];
	struct stat	 st;
	mode_t		 old;
	int		 fd;

	old = umask(077);
	fd = wake_listen(&t->conf);
	umask(old);
	assert_true(fd >= 0);
	close(fd);
	tu_path(path, t->conf.db_dir, "quarryd.wake");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
}

/* A name taken by something else is refused. */
static void
test_not_a_fifo(void **state)
{
	struct tu	*t = *state;
	char		 path[PATH_MAX];

	tu_path(path, t->conf.db_dir, "quarryd.wake");
	assert_int_equal(tu_write_file(path, "x"), 0);
	assert_int_equal(wake_listen(&t->conf), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_reader, tu_setup_dir,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_listen, tu_setup_dir,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_fifo, tu_setup_dir,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_fifo_is_the_groups,
		    tu_setup_dir, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
