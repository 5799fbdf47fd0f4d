// SPDX-License-Identifier: GPL-2.0
/*
 * sendmsg(2) with SOL_SHIM ancillary data on UDP and raw sockets of both
 * inet families, over loopback to a local receiver.  No socket here has
 * a shim context, so well-formed objects fail with ENOENT and malformed
 * ones with EINVAL (include/uapi/linux/shim6.h); a failed sendmsg sends
 * nothing.
 */

#define _GNU_SOURCE
#include <net/if.h>

#include "kselftest_harness.h"
#include "shim6_lib.h"

/* How long a datagram may take to cross loopback, in milliseconds. */
#define ARRIVAL_MS	1000
/* How long to wait before concluding nothing was sent. */
#define SILENCE_MS	50

/* A sender and a receiver of one kind over loopback. */
struct link {
	const struct shim6_kind *kind;
	int tx;
	int rx;
	struct sockaddr_storage dst;
	socklen_t dstlen;
};

FIXTURE(cmsg) {
	struct link l;
};

FIXTURE_VARIANT(cmsg) {
	struct shim6_kind kind;
};

FIXTURE_VARIANT_ADD(cmsg, ipv4_udp) {
	.kind = { "ipv4_udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP },
};

FIXTURE_VARIANT_ADD(cmsg, ipv4_raw) {
	.kind = { "ipv4_raw", AF_INET, SOCK_RAW, IPPROTO_ICMP },
};

FIXTURE_VARIANT_ADD(cmsg, ipv6_udp) {
	.kind = { "ipv6_udp", AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
};

FIXTURE_VARIANT_ADD(cmsg, ipv6_raw) {
	.kind = { "ipv6_raw", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
};

FIXTURE_SETUP(cmsg)
{
	struct link *l = &self->l;

	l->kind = &variant->kind;
	l->tx = -1;
	l->rx = -1;
	if (!shim6_loaded())
		SKIP(return, SHIM6_NOT_LOADED);

	l->tx = shim6_socket(l->kind);
	if (l->tx < 0 && shim6_socket_unsupported(errno))
		SKIP(return, "%s socket: %s", l->kind->name, strerror(errno));
	ASSERT_LE(0, l->tx) TH_LOG("socket: %s", strerror(errno));
	l->rx = shim6_receiver(l->kind, &l->dst, &l->dstlen);
	ASSERT_LE(0, l->rx)
		TH_LOG("receiver on loopback: %s (is lo up?)", strerror(errno));
}

FIXTURE_TEARDOWN(cmsg)
{
	if (self->l.rx >= 0)
		close(self->l.rx);
	if (self->l.tx >= 0)
		close(self->l.tx);
}

/* sendmsg with one SOL_SHIM cmsg (none if @data is NULL); 0 or errno. */
static int send_shim(const struct link *l, int type, const void *data,
		     size_t len)
{
	return shim6_send(l->tx, l->kind, &l->dst, l->dstlen, type, data, len);
}

/* sendmsg with SOL_SHIM cmsg @type fails with @err and sends nothing. */
#define EXPECT_SEND_FAILS(err, type, data, len, what) do { \
	EXPECT_EQ(err, send_shim(&self->l, type, data, len)) \
		TH_LOG("sendmsg with %s", what); \
	EXPECT_TRUE(shim6_rx_empty(self->l.rx, SILENCE_MS)) \
		TH_LOG("failed sendmsg with %s sent a datagram", what); \
} while (0)

/* A locator for the cmsg: this socket family's loopback address. */
static socklen_t own_locator(const struct link *l, struct sockaddr_storage *ss)
{
	return shim6_loopback(l->kind->family, 0, ss);
}

/*
 * The errno of a locator cmsg of a socket without a context: an IPv4
 * socket never has one (ENOENT); an unconnected IPv6 one has its
 * datagram's locators checked against the destination's context as the
 * datagram leaves, and loopback has none (EINVALIDLOCATOR, or EAFNOSUPPORT
 * first for an IPv4 locator).
 */
static int no_context(const struct shim6_kind *k, int v6_err)
{
	return k->family == AF_INET6 ? v6_err : ENOENT;
}

TEST_F(cmsg, locator_send_needs_context)
{
	struct sockaddr_storage loc;
	socklen_t len = own_locator(&self->l, &loc);
	int err = no_context(self->l.kind, EINVALIDLOCATOR);

	EXPECT_SEND_FAILS(err, SHIM_LOC_PEER_SEND, &loc, len,
			  "SHIM_LOC_PEER_SEND");
	EXPECT_SEND_FAILS(err, SHIM_LOC_LOCAL_SEND, &loc, len,
			  "SHIM_LOC_LOCAL_SEND");
}

/*
 * Either locator object (struct sockaddr_in6 with a v4-mapped address,
 * or struct sockaddr_in) is well-formed on either family; with no
 * context both fail, before any EINVALIDLOCATOR: ENOENT, or on an
 * unconnected IPv6 socket EAFNOSUPPORT (an IPv4 locator has no use in
 * SHIM6, whatever the context).
 */
TEST_F(cmsg, locator_forms)
{
	int v4 = no_context(self->l.kind, EAFNOSUPPORT);

	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
	};
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	ASSERT_EQ(1, inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr));
	EXPECT_SEND_FAILS(v4, SHIM_LOC_PEER_SEND, &sin6, sizeof(sin6),
			  "SHIM_LOC_PEER_SEND sockaddr_in6 ::ffff:127.0.0.1");
	EXPECT_SEND_FAILS(v4, SHIM_LOC_LOCAL_SEND, &sin, sizeof(sin),
			  "SHIM_LOC_LOCAL_SEND sockaddr_in 127.0.0.1");
	sin6.sin6_addr = in6addr_loopback;
	EXPECT_SEND_FAILS(no_context(self->l.kind, EINVALIDLOCATOR),
			  SHIM_LOC_PEER_SEND, &sin6, sizeof(sin6),
			  "SHIM_LOC_PEER_SEND sockaddr_in6 ::1");
}

TEST_F(cmsg, feedback_needs_context)
{
	struct shim_feedback fb = {
		.fb_direction = SHIM_FB_DIR_OUTBOUND,
		.fb_indicator = SHIM_FB_UNSATISFACTORY,
	};

	EXPECT_SEND_FAILS(ENOENT, SHIM_FEEDBACK, &fb, sizeof(fb),
			  "SHIM_FEEDBACK");
	fb.fb_direction = SHIM_FB_DIR_INBOUND;
	fb.fb_indicator = SHIM_FB_SATISFACTORY;
	EXPECT_SEND_FAILS(ENOENT, SHIM_FEEDBACK, &fb, sizeof(fb),
			  "SHIM_FEEDBACK inbound satisfactory");
}

TEST_F(cmsg, if_send)
{
	int lo = if_nametoindex("lo");
	char name[IF_NAMESIZE];
	int none = 9999;

	ASSERT_LT(0, lo) TH_LOG("if_nametoindex(lo): %s", strerror(errno));
	EXPECT_SEND_FAILS(ENOENT, SHIM_IF_SEND, &lo, sizeof(lo),
			  "SHIM_IF_SEND lo");

	/* an interface index nobody has */
	while (if_indextoname(none, name))
		none++;
	EXPECT_SEND_FAILS(ENODEV, SHIM_IF_SEND, &none, sizeof(none),
			  "SHIM_IF_SEND of a missing interface");
	if (none != 9999)
		TH_LOG("interface 9999 exists; used %d", none);
}

TEST_F(cmsg, unknown_type)
{
	struct sockaddr_storage loc;
	socklen_t len = own_locator(&self->l, &loc);
	int one = 1;

	EXPECT_SEND_FAILS(EINVAL, 99, &one, sizeof(one), "cmsg_type 99");
	EXPECT_SEND_FAILS(EINVAL, 99, &loc, len, "cmsg_type 99, sockaddr");
	EXPECT_SEND_FAILS(EINVAL, 0, &one, sizeof(one), "cmsg_type 0");
	EXPECT_SEND_FAILS(EINVAL, 1000, &one, sizeof(one), "cmsg_type 1000");
}

TEST_F(cmsg, bad_length)
{
	struct sockaddr_storage loc;
	struct shim_feedback fb = { 0 };
	int lo = if_nametoindex("lo");

	own_locator(&self->l, &loc);
	/* CMSG_LEN(4): family and port, no address */
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_PEER_SEND, &loc, 4,
			  "SHIM_LOC_PEER_SEND cmsg_len CMSG_LEN(4)");
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_LOCAL_SEND, &loc, 4,
			  "SHIM_LOC_LOCAL_SEND cmsg_len CMSG_LEN(4)");
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_PEER_SEND, &loc, 0,
			  "SHIM_LOC_PEER_SEND cmsg_len CMSG_LEN(0)");
	EXPECT_SEND_FAILS(EINVAL, SHIM_FEEDBACK, &fb, sizeof(fb) - 2,
			  "SHIM_FEEDBACK cmsg_len CMSG_LEN(2)");
	EXPECT_SEND_FAILS(EINVAL, SHIM_IF_SEND, &lo, 2,
			  "SHIM_IF_SEND cmsg_len CMSG_LEN(2)");
}

TEST_F(cmsg, bad_family)
{
	struct sockaddr_storage loc;
	socklen_t len = own_locator(&self->l, &loc);

	loc.ss_family = AF_UNIX;
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_PEER_SEND, &loc, len,
			  "SHIM_LOC_PEER_SEND sa_family AF_UNIX");
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_LOCAL_SEND, &loc, len,
			  "SHIM_LOC_LOCAL_SEND sa_family AF_UNIX");
	loc.ss_family = AF_UNSPEC;
	EXPECT_SEND_FAILS(EINVAL, SHIM_LOC_PEER_SEND, &loc, len,
			  "SHIM_LOC_PEER_SEND sa_family AF_UNSPEC");
}

/* Receive the test datagram and check it carries no SOL_SHIM cmsg. */
static void expect_plain_datagram(struct __test_metadata *_metadata,
				  const struct link *l, bool want_pktinfo)
{
	union {
		char buf[CMSG_SPACE(1024)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	bool pktinfo = false;

	ASSERT_EQ(0, send_shim(l, 0, NULL, 0))
		TH_LOG("sendmsg without SOL_SHIM cmsg");
	ASSERT_EQ(0, shim6_recv(l->rx, &msg, ARRIVAL_MS))
		TH_LOG("datagram did not arrive");
	EXPECT_EQ(0, msg.msg_flags & MSG_CTRUNC);
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		EXPECT_NE(SOL_SHIM, cmsg->cmsg_level)
			TH_LOG("SOL_SHIM cmsg type %d len %zu received",
			       cmsg->cmsg_type, (size_t)cmsg->cmsg_len);
		if ((cmsg->cmsg_level == SOL_IP &&
		     cmsg->cmsg_type == IP_PKTINFO) ||
		    (cmsg->cmsg_level == SOL_IPV6 &&
		     cmsg->cmsg_type == IPV6_PKTINFO))
			pktinfo = true;
	}
	if (want_pktinfo)
		EXPECT_TRUE(pktinfo) TH_LOG("no PKTINFO cmsg (sanity check)");
}

TEST_F(cmsg, plain_send_arrives)
{
	int one = 1, ret;

	/* a socket with no shim state */
	expect_plain_datagram(_metadata, &self->l, false);

	/* the receiver with shim state, and other cmsgs to parse past */
	ASSERT_EQ(0, shim_set_int(self->l.rx, SHIM_DONTSHIM, 0));
	EXPECT_EQ(0, shim_get_int(self->l.rx, SHIM_DONTSHIM));
	if (self->l.kind->family == AF_INET)
		ret = setsockopt(self->l.rx, SOL_IP, IP_PKTINFO, &one,
				 sizeof(one));
	else
		ret = setsockopt(self->l.rx, SOL_IPV6, IPV6_RECVPKTINFO, &one,
				 sizeof(one));
	ASSERT_EQ(0, ret) TH_LOG("PKTINFO: %s", strerror(errno));
	expect_plain_datagram(_metadata, &self->l, true);

	/* and a sender with shim state too */
	ASSERT_EQ(0, shim_set_int(self->l.tx, SHIM_DEFERRED_CONTEXT_SETUP, 0));
	expect_plain_datagram(_metadata, &self->l, true);
	ASSERT_EQ(0, shim_set_int(self->l.rx, SHIM_DONTSHIM, 1));
	expect_plain_datagram(_metadata, &self->l, true);

	EXPECT_TRUE(shim6_rx_empty(self->l.rx, SILENCE_MS));
}

/* A failed sendmsg does not disturb the next one. */
TEST_F(cmsg, send_after_failure)
{
	struct sockaddr_storage loc;
	socklen_t len = own_locator(&self->l, &loc);

	EXPECT_SEND_FAILS(no_context(self->l.kind, EINVALIDLOCATOR),
			  SHIM_LOC_PEER_SEND, &loc, len, "SHIM_LOC_PEER_SEND");
	expect_plain_datagram(_metadata, &self->l, false);
	EXPECT_SEND_FAILS(EINVAL, 99, &loc, len, "cmsg_type 99");
	expect_plain_datagram(_metadata, &self->l, false);
}

TEST_HARNESS_MAIN
