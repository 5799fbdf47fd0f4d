// SPDX-License-Identifier: GPL-2.0
/*
 * The SOL_SHIM API as RFC 6316 gives it: a program that defines
 * SHIM_API_RFC6316 before including linux/shim6.h gets the RFC's numbers
 * (the draft's plus 16) and layouts under the usual names, and the RFC's
 * errors and rules (see the header).  These tests need no context; the
 * RFC numbers on a context are in shim6_ctxopt
 * (ctx.rfc6316_numbers_share_the_sockets_and_contexts_state).
 */
#define _GNU_SOURCE
#define SHIM_API_RFC6316
#include <sched.h>

#include "kselftest_harness.h"
#include "shim6_lib.h"

_Static_assert(SHIM_ASSOCIATED == 17, "RFC numbers are the draft's plus 16");
_Static_assert(SHIM_CONTEXT_DEFERRED_SETUP == 30, "the last option");
_Static_assert(SHIM_FEEDBACK == 31, "the feedback control message");
_Static_assert(sizeof(struct shim_locator) == 32, "RFC 6316 section 8.1");
_Static_assert(sizeof(struct shim_pathexplore) == 12, "RFC 6316 section 8.2");
_Static_assert(sizeof(struct shim6_pathexplore) == 12, "the RFC's other name");

static struct sockaddr_in6 v6(const char *addr, int port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, addr, &s.sin6_addr);
	return s;
}

FIXTURE(rfc) {
	int unconnected;	/* UDP, no peer */
	int connected;		/* UDP to loopback: no context there */
};

FIXTURE_SETUP(rfc)
{
	struct sockaddr_in6 lo = v6("::1", 9);

	if (!shim6_loaded())
		SKIP(return, SHIM6_NOT_LOADED);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo up"));
	self->unconnected = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	self->connected = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->unconnected);
	ASSERT_LE(0, self->connected);
	ASSERT_EQ(0, connect(self->connected, (struct sockaddr *)&lo, sizeof(lo)));
}

FIXTURE_TEARDOWN(rfc)
{
	close(self->unconnected);
	close(self->connected);
}

/* Every option but SHIM_DONTSHIM needs a connected socket (section 6.15). */
TEST_F(rfc, unconnected_sockets_get_eopnotsupp)
{
	static const int opts[] = {
		SHIM_ASSOCIATED, SHIM_HOT_STANDBY, SHIM_LOC_LOCAL_PREF,
		SHIM_LOC_PEER_PREF, SHIM_LOC_LOCAL_RECV, SHIM_LOC_PEER_RECV,
		SHIM_LOC_LOCAL_SEND, SHIM_LOC_PEER_SEND, SHIM_LOCLIST_LOCAL,
		SHIM_LOCLIST_PEER, SHIM_APP_TIMEOUT, SHIM_PATHEXPLORE,
	};
	char buf[sizeof(struct shim_locator)] = {};
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		len = sizeof(buf);
		EXPECT_EQ(EOPNOTSUPP, shim_get(self->unconnected, opts[i], buf, &len));
	}
	EXPECT_EQ(EOPNOTSUPP, shim_set_int(self->unconnected, SHIM_LOC_LOCAL_RECV, 1));
	EXPECT_EQ(EOPNOTSUPP, shim_set_int(self->unconnected, SHIM_APP_TIMEOUT, 10));
	/* A connected socket without a context: ENOENT, as the draft's. */
	len = sizeof(buf);
	EXPECT_EQ(ENOENT, shim_get(self->connected, SHIM_LOC_PEER_PREF, buf, &len));
	EXPECT_EQ(0, shim_get_int(self->connected, SHIM_ASSOCIATED));
	/* SHIM_DONTSHIM is for sockets before they connect. */
	EXPECT_EQ(0, shim_set_int(self->unconnected, SHIM_DONTSHIM, 1));
	EXPECT_EQ(1, shim_get_int(self->unconnected, SHIM_DONTSHIM));
}

/* Section 6.2: SHIM_DONTSHIM cannot change once the socket is connected. */
TEST_F(rfc, dontshim_is_chosen_before_connect)
{
	EXPECT_EQ(EOPNOTSUPP, shim_set_int(self->connected, SHIM_DONTSHIM, 1));
	EXPECT_EQ(0, shim_set_int(self->connected, SHIM_DONTSHIM, 0));
	EXPECT_EQ(0, shim_get_int(self->connected, SHIM_DONTSHIM));
}

/* Section 6.14: the shim says whether it can defer; nothing to set. */
TEST_F(rfc, deferred_setup_is_a_capability)
{
	EXPECT_EQ(1, shim_get_int(self->connected, SHIM_CONTEXT_DEFERRED_SETUP));
	EXPECT_EQ(ENOPROTOOPT, shim_set_int(self->connected, SHIM_CONTEXT_DEFERRED_SETUP, 0));
	/* The draft's per-socket choice is still there, under its number. */
	EXPECT_EQ(0, shim_set_int(self->connected, SHIM_CONTEXT_DEFERRED_SETUP_RFC6316 - 16, 0));
	EXPECT_EQ(1, shim_get_int(self->connected, SHIM_CONTEXT_DEFERRED_SETUP));
	ASSERT_EQ(0, system("shimctl set enabled off"));
	EXPECT_EQ(0, shim_get_int(self->connected, SHIM_CONTEXT_DEFERRED_SETUP));
	EXPECT_EQ(EOPNOTSUPP, shim_set_int(self->connected, SHIM_APP_TIMEOUT, 10));
	ASSERT_EQ(0, system("shimctl set enabled on"));
}

/*
 * The RFC's structures take their exact size; lists a multiple of it, at
 * most SHIM_MAX_LOCATORS (ETOOMANYLOCATORS); lc_proto must be 0.  The
 * form is checked before the context (ENOENT).
 */
TEST_F(rfc, structures_are_checked_before_the_context)
{
	struct shim_locator list[SHIM_MAX_LOCATORS + 1] = {};
	struct shim_pathexplore pe = {};
	struct shim_locator l = { .lc_family = AF_INET6 };
	char big[sizeof(l) + 4] = {};
	int i;

	inet_pton(AF_INET6, "2001:db8::1", &l.lc_addr);
	EXPECT_EQ(ENOENT, shim_set(self->connected, SHIM_LOC_PEER_PREF, &l, sizeof(l)));
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_LOC_PEER_PREF, &l, sizeof(l) - 1));
	memcpy(big, &l, sizeof(l));
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_LOC_PEER_PREF, big, sizeof(big)));
	l.lc_proto = IPPROTO_UDP;
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_LOC_PEER_PREF, &l, sizeof(l)));
	l.lc_proto = 0;
	for (i = 0; i <= SHIM_MAX_LOCATORS; i++)
		list[i] = l;
	EXPECT_EQ(ETOOMANYLOCATORS, shim_set(self->connected, SHIM_LOCLIST_PEER, list, sizeof(list)));
	EXPECT_EQ(ENOENT, shim_set(self->connected, SHIM_LOCLIST_PEER, list, sizeof(list) - sizeof(l)));
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_LOCLIST_PEER, list, sizeof(l) + 4));
	EXPECT_EQ(ENOENT, shim_set(self->connected, SHIM_PATHEXPLORE, &pe, sizeof(pe)));
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_PATHEXPLORE, &pe, sizeof(pe) - 4));
	pe.pe_reserved = 1;
	EXPECT_EQ(EINVAL, shim_set(self->connected, SHIM_PATHEXPLORE, &pe, sizeof(pe)));
}

/* Control messages need a connected socket too (section 7.4). */
TEST_F(rfc, control_messages_need_a_connected_socket)
{
	struct sockaddr_in6 to = v6("::1", 9), peer = v6("2001:db8::1", 0);
	char buf[CMSG_SPACE(sizeof(peer))] = {};
	char data[] = SHIM6_MARKER;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = {
		.msg_name = &to, .msg_namelen = sizeof(to),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SHIM;
	c->cmsg_type = SHIM_LOC_PEER_SEND;
	c->cmsg_len = CMSG_LEN(sizeof(peer));
	memcpy(CMSG_DATA(c), &peer, sizeof(peer));
	EXPECT_EQ(-1, sendmsg(self->unconnected, &m, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	m.msg_name = NULL;
	m.msg_namelen = 0;
	EXPECT_EQ(-1, sendmsg(self->connected, &m, 0));
	EXPECT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
