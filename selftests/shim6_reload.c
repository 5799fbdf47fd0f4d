// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading and reloading shim6 while sockets hold shim state.
 *
 * Needs root and SHIM6_KO=<path of shim6.ko>; skipped otherwise.  The
 * module is loaded with finit_module(2) and unloaded with
 * delete_module(2) (O_NONBLOCK).  Whatever happens, the module is loaded
 * again when a test ends: the teardown runs in the parent of the test
 * process, so it runs even if the test crashes.
 */

#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "shim6_lib.h"

#define CYCLES		3
/* delete_module() retries on EAGAIN, 100 ms apart */
#define UNLOAD_TRIES	50
#define ARRIVAL_MS	1000
#define SILENCE_MS	50

/* One socket of each kind. */
struct sockset {
	int fd[SHIM6_NR_KINDS];
};

/* Receivers for the datagram kinds (rx == -1 for TCP). */
struct peers {
	int rx[SHIM6_NR_KINDS];
	struct sockaddr_storage dst[SHIM6_NR_KINDS];
	socklen_t dstlen[SHIM6_NR_KINDS];
};

static void open_set(struct __test_metadata *_metadata, struct sockset *s)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		s->fd[i] = shim6_socket(shim6_kind(i));
		ASSERT_LE(0, s->fd[i])
			TH_LOG("socket %s: %s", shim6_kind(i)->name,
			       strerror(errno));
	}
}

static void close_set(struct sockset *s)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}

static void open_peers(struct __test_metadata *_metadata, struct peers *p)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		p->rx[i] = -1;
		if (shim6_kind(i)->type == SOCK_STREAM)
			continue;
		p->rx[i] = shim6_receiver(shim6_kind(i), &p->dst[i],
					  &p->dstlen[i]);
		ASSERT_LE(0, p->rx[i])
			TH_LOG("receiver %s on loopback: %s",
			       shim6_kind(i)->name, strerror(errno));
	}
}

static void close_peers(struct peers *p)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++)
		if (p->rx[i] >= 0)
			close(p->rx[i]);
}

/* Set SHIM_DONTSHIM and SHIM_DEFERRED_CONTEXT_SETUP and read them back. */
static void configure(struct __test_metadata *_metadata,
		      const struct sockset *s, int dontshim, int deferred,
		      const char *what)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		const char *name = shim6_kind(i)->name;

		ASSERT_EQ(0, shim_set_int(s->fd[i], SHIM_DONTSHIM, dontshim))
			TH_LOG("%s %s: set SHIM_DONTSHIM", what, name);
		ASSERT_EQ(0, shim_set_int(s->fd[i],
					  SHIM_DEFERRED_CONTEXT_SETUP,
					  deferred))
			TH_LOG("%s %s: set SHIM_DEFERRED_CONTEXT_SETUP",
			       what, name);
		EXPECT_EQ(dontshim, shim_get_int(s->fd[i], SHIM_DONTSHIM))
			TH_LOG("%s %s: SHIM_DONTSHIM", what, name);
		EXPECT_EQ(deferred, shim_get_int(s->fd[i],
						 SHIM_DEFERRED_CONTEXT_SETUP))
			TH_LOG("%s %s: SHIM_DEFERRED_CONTEXT_SETUP",
			       what, name);
	}
}

static void expect_values(struct __test_metadata *_metadata,
			  const struct sockset *s, int dontshim, int deferred,
			  const char *what)
{
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		const char *name = shim6_kind(i)->name;

		EXPECT_EQ(dontshim, shim_get_int(s->fd[i], SHIM_DONTSHIM))
			TH_LOG("%s %s: SHIM_DONTSHIM", what, name);
		EXPECT_EQ(deferred, shim_get_int(s->fd[i],
						 SHIM_DEFERRED_CONTEXT_SETUP))
			TH_LOG("%s %s: SHIM_DEFERRED_CONTEXT_SETUP",
			       what, name);
		EXPECT_EQ(0, shim_get_int(s->fd[i], SHIM_ASSOCIATED))
			TH_LOG("%s %s: SHIM_ASSOCIATED", what, name);
	}
}

/* With no shim module, level SOL_SHIM answers ENOPROTOOPT. */
static void expect_no_shim(struct __test_metadata *_metadata,
			   const struct sockset *s, const char *what)
{
	socklen_t len;
	int i, val;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		const char *name = shim6_kind(i)->name;
		int fd = s->fd[i];

		EXPECT_EQ(-ENOPROTOOPT, shim_get_int(fd, SHIM_DONTSHIM))
			TH_LOG("%s %s: get SHIM_DONTSHIM", what, name);
		EXPECT_EQ(-ENOPROTOOPT,
			  shim_get_int(fd, SHIM_DEFERRED_CONTEXT_SETUP))
			TH_LOG("%s %s: get SHIM_DEFERRED_CONTEXT_SETUP",
			       what, name);
		EXPECT_EQ(-ENOPROTOOPT, shim_get_int(fd, SHIM_ASSOCIATED))
			TH_LOG("%s %s: get SHIM_ASSOCIATED", what, name);
		len = sizeof(val);
		EXPECT_EQ(ENOPROTOOPT, shim_get(fd, SHIM_HOT_STANDBY, &val,
						&len))
			TH_LOG("%s %s: get SHIM_HOT_STANDBY", what, name);
		EXPECT_EQ(ENOPROTOOPT, shim_set_int(fd, SHIM_DONTSHIM, 0))
			TH_LOG("%s %s: set SHIM_DONTSHIM", what, name);
		EXPECT_EQ(ENOPROTOOPT,
			  shim_set_int(fd, SHIM_DEFERRED_CONTEXT_SETUP, 1))
			TH_LOG("%s %s: set SHIM_DEFERRED_CONTEXT_SETUP",
			       what, name);
		EXPECT_EQ(ENOPROTOOPT, shim_set_int(fd, SHIM_DONTSHIM, 2))
			TH_LOG("%s %s: set SHIM_DONTSHIM 2", what, name);
	}
}

/*
 * On each datagram socket of @s, sendmsg with a SHIM_LOC_PEER_SEND cmsg
 * fails with @err (@err6 on IPv6: with the module loaded, an unconnected
 * IPv6 socket that does not bypass the shim has its locator checked only
 * as the datagram leaves, and loopback has no context: EINVALIDLOCATOR)
 * and sends nothing, and a plain sendmsg arrives.
 */
static void check_cmsg(struct __test_metadata *_metadata,
		       const struct sockset *s, const struct peers *p,
		       int err, int err6, const char *what)
{
	union {
		char buf[CMSG_SPACE(256)];
		struct cmsghdr align;
	} control;
	struct msghdr msg;
	int i;

	for (i = 0; i < SHIM6_NR_KINDS; i++) {
		const struct shim6_kind *k = shim6_kind(i);
		struct sockaddr_storage loc;
		socklen_t loclen;
		int expected;

		if (p->rx[i] < 0)
			continue;
		loclen = shim6_loopback(k->family, 0, &loc);
		expected = k->family == AF_INET6 ? err6 : err;
		EXPECT_EQ(expected, shim6_send(s->fd[i], k, &p->dst[i],
					       p->dstlen[i], SHIM_LOC_PEER_SEND,
					       &loc, loclen))
			TH_LOG("%s %s: sendmsg with SHIM_LOC_PEER_SEND",
			       what, k->name);
		EXPECT_TRUE(shim6_rx_empty(p->rx[i], SILENCE_MS))
			TH_LOG("%s %s: failed sendmsg sent a datagram",
			       what, k->name);

		EXPECT_EQ(0, shim6_send(s->fd[i], k, &p->dst[i],
					p->dstlen[i], 0, NULL, 0))
			TH_LOG("%s %s: plain sendmsg", what, k->name);
		memset(&msg, 0, sizeof(msg));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		EXPECT_EQ(0, shim6_recv(p->rx[i], &msg, ARRIVAL_MS))
			TH_LOG("%s %s: plain datagram did not arrive",
			       what, k->name);
	}
}

static int unload_shim6(struct __test_metadata *_metadata, int cycle)
{
	int err = shim6_unload(UNLOAD_TRIES);

	EXPECT_EQ(0, err)
		TH_LOG("cycle %d: delete_module(%s): %s", cycle,
		       SHIM6_MODNAME, strerror(err));
	EXPECT_FALSE(shim6_loaded())
		TH_LOG("cycle %d: %s still present after unload", cycle,
		       SHIM6_SYSFS);
	return err;
}

FIXTURE(reload) {
	const char *ko;
};

FIXTURE_SETUP(reload)
{
	int err;

	self->ko = getenv("SHIM6_KO");
	if (!self->ko || !*self->ko)
		SKIP(return, "SHIM6_KO not set (path of shim6.ko)");
	if (geteuid())
		SKIP(return, "needs root to load and unload modules");
	if (!shim6_loaded()) {
		err = shim6_load(self->ko);
		ASSERT_EQ(0, err)
			TH_LOG("finit_module(%s): %s", self->ko,
			       strerror(err));
	}
}

/* In the parent of the test process: runs even if the test crashed. */
FIXTURE_TEARDOWN_PARENT(reload)
{
	int err;

	if (shim6_loaded())
		return;
	err = shim6_load(self->ko);
	EXPECT_EQ(0, err)
		TH_LOG("teardown: reloading %s: %s", self->ko, strerror(err));
	EXPECT_TRUE(shim6_loaded());
}

TEST_F_TIMEOUT(reload, unload_with_state, 180)
{
	struct sockset kept, fresh, late;
	struct peers peers;
	int cycle, err;

	/* "kept" stays open through every cycle, "fresh" through one. */
	open_set(_metadata, &kept);
	open_peers(_metadata, &peers);
	configure(_metadata, &kept, 1, 0, "kept");

	for (cycle = 1; cycle <= CYCLES; cycle++) {
		open_set(_metadata, &fresh);
		configure(_metadata, &fresh, 1, 0, "fresh");
		expect_values(_metadata, &kept, 1, 0, "kept before unload");

		ASSERT_EQ(0, unload_shim6(_metadata, cycle));

		expect_no_shim(_metadata, &kept, "kept, unloaded:");
		expect_no_shim(_metadata, &fresh, "fresh, unloaded:");
		open_set(_metadata, &late);
		expect_no_shim(_metadata, &late, "new, unloaded:");
		check_cmsg(_metadata, &kept, &peers, ENOPROTOOPT, ENOPROTOOPT,
			   "kept, unloaded:");
		check_cmsg(_metadata, &late, &peers, ENOPROTOOPT, ENOPROTOOPT,
			   "new, unloaded:");
		close_set(&late);

		err = shim6_load(self->ko);
		ASSERT_EQ(0, err)
			TH_LOG("cycle %d: finit_module(%s): %s", cycle,
			       self->ko, strerror(err));
		ASSERT_TRUE(shim6_loaded());

		/* The state of the unloaded instance is discarded. */
		expect_values(_metadata, &kept, 0, 1, "kept, reloaded:");
		expect_values(_metadata, &fresh, 0, 1, "fresh, reloaded:");
		check_cmsg(_metadata, &kept, &peers, ENOENT, EINVALIDLOCATOR,
			   "kept, reloaded:");
		configure(_metadata, &kept, 1, 0, "kept, reloaded:");
		configure(_metadata, &fresh, 1, 0, "fresh, reloaded:");
		configure(_metadata, &fresh, 0, 1, "fresh, reloaded:");

		open_set(_metadata, &late);
		expect_values(_metadata, &late, 0, 1, "new, reloaded:");
		configure(_metadata, &late, 1, 0, "new, reloaded:");
		/* SHIM_DONTSHIM: no context ever, nothing checked later. */
		check_cmsg(_metadata, &late, &peers, ENOENT, ENOENT,
			   "new, reloaded:");
		close_set(&late);
		close_set(&fresh);
		TH_LOG("cycle %d done", cycle);
	}

	expect_values(_metadata, &kept, 1, 0, "kept at the end");
	close_set(&kept);
	close_peers(&peers);
}

TEST_F(reload, load_twice)
{
	int err, fd;

	ASSERT_TRUE(shim6_loaded());
	err = shim6_load(self->ko);
	EXPECT_EQ(EEXIST, err)
		TH_LOG("second finit_module(%s): %s", self->ko, strerror(err));
	EXPECT_TRUE(shim6_loaded());

	/* the loaded instance still answers */
	fd = shim6_socket(shim6_kind(1));
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, shim_get_int(fd, SHIM_DONTSHIM));
	EXPECT_EQ(0, shim_set_int(fd, SHIM_DONTSHIM, 1));
	EXPECT_EQ(1, shim_get_int(fd, SHIM_DONTSHIM));
	close(fd);
}

TEST_HARNESS_MAIN
