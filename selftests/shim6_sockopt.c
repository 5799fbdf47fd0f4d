// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(2)/setsockopt(2) at level SOL_SHIM with the shim6 module
 * loaded, on TCP, UDP and raw sockets of both inet families.  The
 * expected errors are the contract of include/uapi/linux/shim6.h.
 */

#define _GNU_SOURCE
#include <limits.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "shim6_lib.h"

/* Buffer big enough for any SOL_SHIM option value. */
union shim_optbuf {
	int i[2];
	struct shim_pathexplore pe;
	struct shim_locator lc;
	struct shim_locator list[SHIM_MAX_LOCATORS + 1];
};

/* Options that need a context, with a well-formed value for each. */
struct ctx_opt {
	const char *name;
	int opt;
	socklen_t size;		/* size of a well-formed value */
};

#define CTX_OPT(o, s)	{ #o, o, s }

static const struct ctx_opt ctx_int_opts[] = {
	CTX_OPT(SHIM_HOT_STANDBY, sizeof(int)),
	CTX_OPT(SHIM_LOC_LOCAL_RECV, sizeof(int)),
	CTX_OPT(SHIM_LOC_PEER_RECV, sizeof(int)),
	CTX_OPT(SHIM_APP_TIMEOUT, sizeof(int)),
};

static const struct ctx_opt ctx_loc_opts[] = {
	CTX_OPT(SHIM_LOC_LOCAL_PREF, sizeof(struct shim_locator)),
	CTX_OPT(SHIM_LOC_PEER_PREF, sizeof(struct shim_locator)),
	CTX_OPT(SHIM_LOC_LOCAL_SEND, sizeof(struct shim_locator)),
	CTX_OPT(SHIM_LOC_PEER_SEND, sizeof(struct shim_locator)),
};

static const struct ctx_opt ctx_list_opts[] = {
	CTX_OPT(SHIM_LOCLIST_LOCAL, 2 * sizeof(struct shim_locator)),
	CTX_OPT(SHIM_LOCLIST_PEER, 2 * sizeof(struct shim_locator)),
};

static const struct shim_pathexplore good_pe = {
	.pe_probenum = 4,
	.pe_keepaliveto = 10,
	.pe_initprobeto = 500,
	.pe_reserved = 0,
};

/* @n valid IPv6 locators 2001:db8::1, 2001:db8::2, ... */
static void fill_loclist(struct shim_locator *list, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		shim_loc_init(&list[i], AF_INET6, "2001:db8::");
		list[i].lc_addr[15] = i + 1;
	}
}

/* Map a readable page followed by an unmapped one; return the first. */
static char *map_page_then_hole(size_t *pagesz)
{
	char *p;

	*pagesz = sysconf(_SC_PAGESIZE);
	p = mmap(NULL, 2 * *pagesz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (munmap(p + *pagesz, *pagesz))
		return NULL;
	return p;
}

FIXTURE(sockopt) {
	int fd;
};

FIXTURE_VARIANT(sockopt) {
	struct shim6_kind kind;
};

FIXTURE_VARIANT_ADD(sockopt, ipv4_tcp) {
	.kind = { "ipv4_tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP },
};

FIXTURE_VARIANT_ADD(sockopt, ipv4_udp) {
	.kind = { "ipv4_udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP },
};

FIXTURE_VARIANT_ADD(sockopt, ipv4_raw) {
	.kind = { "ipv4_raw", AF_INET, SOCK_RAW, IPPROTO_ICMP },
};

FIXTURE_VARIANT_ADD(sockopt, ipv6_tcp) {
	.kind = { "ipv6_tcp", AF_INET6, SOCK_STREAM, IPPROTO_TCP },
};

FIXTURE_VARIANT_ADD(sockopt, ipv6_udp) {
	.kind = { "ipv6_udp", AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
};

FIXTURE_VARIANT_ADD(sockopt, ipv6_raw) {
	.kind = { "ipv6_raw", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
};

FIXTURE_SETUP(sockopt)
{
	self->fd = -1;
	if (!shim6_loaded())
		SKIP(return, SHIM6_NOT_LOADED);
	self->fd = shim6_socket(&variant->kind);
	if (self->fd < 0 && shim6_socket_unsupported(errno))
		SKIP(return, "%s socket: %s", variant->kind.name,
		     strerror(errno));
	ASSERT_LE(0, self->fd) TH_LOG("socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sockopt)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * A boolean option: reads @def at first, takes 0 and 1, and refuses
 * every value in @bad with EINVAL without changing its value.
 */
static void check_bool(struct __test_metadata *_metadata, int fd,
		       const char *name, int opt, int def,
		       const int *bad, int nbad)
{
	const int seq[] = { !def, !def, def, def };
	int v, i, val;

	EXPECT_EQ(def, shim_get_int(fd, opt))
		TH_LOG("%s: default", name);
	for (v = 0; v < (int)ARRAY_SIZE(seq); v++) {
		val = seq[v];
		ASSERT_EQ(0, shim_set_int(fd, opt, val))
			TH_LOG("%s: set %d", name, val);
		EXPECT_EQ(val, shim_get_int(fd, opt))
			TH_LOG("%s: after set %d", name, val);
		for (i = 0; i < nbad; i++) {
			EXPECT_EQ(EINVAL, shim_set_int(fd, opt, bad[i]))
				TH_LOG("%s: set %d", name, bad[i]);
			EXPECT_EQ(val, shim_get_int(fd, opt))
				TH_LOG("%s: value changed by refused set %d",
				       name, bad[i]);
		}
	}
	ASSERT_EQ(0, shim_set_int(fd, opt, def));
}

TEST_F(sockopt, associated)
{
	socklen_t len = sizeof(int);
	int val = -1;

	ASSERT_EQ(0, shim_get(self->fd, SHIM_ASSOCIATED, &val, &len));
	EXPECT_EQ(0, val);
	EXPECT_EQ(sizeof(int), len);

	/* Read-only. */
	EXPECT_EQ(ENOPROTOOPT, shim_set_int(self->fd, SHIM_ASSOCIATED, 0));
	EXPECT_EQ(ENOPROTOOPT, shim_set_int(self->fd, SHIM_ASSOCIATED, 1));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_ASSOCIATED));
}

TEST_F(sockopt, dontshim)
{
	static const int bad[] = { 2, -1 };

	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DONTSHIM));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DONTSHIM, 1));
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_DONTSHIM));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DONTSHIM, 0));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DONTSHIM));

	check_bool(_metadata, self->fd, "SHIM_DONTSHIM", SHIM_DONTSHIM, 0,
		   bad, ARRAY_SIZE(bad));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_ASSOCIATED));
}

TEST_F(sockopt, deferred_context_setup)
{
	static const int bad[] = { 2, -1, 0x100 };

	/* Both spellings name one option. */
	EXPECT_EQ(SHIM_CONTEXT_DEFERRED_SETUP, SHIM_DEFERRED_CONTEXT_SETUP);

	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP));
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_CONTEXT_DEFERRED_SETUP));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP, 0));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_CONTEXT_DEFERRED_SETUP));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_CONTEXT_DEFERRED_SETUP, 1));
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP));
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_CONTEXT_DEFERRED_SETUP));

	check_bool(_metadata, self->fd, "SHIM_DEFERRED_CONTEXT_SETUP",
		   SHIM_DEFERRED_CONTEXT_SETUP, 1, bad, ARRAY_SIZE(bad));

	/* The two writable options are independent. */
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP, 0));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DONTSHIM));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DONTSHIM, 1));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP));
}

TEST_F(sockopt, set_optlen)
{
	static const int opts[] = { SHIM_DONTSHIM, SHIM_DEFERRED_CONTEXT_SETUP };
	int buf[2];
	socklen_t len;
	int i, def;

	for (i = 0; i < (int)ARRAY_SIZE(opts); i++) {
		def = opts[i] == SHIM_DONTSHIM ? 0 : 1;
		for (len = 0; len < sizeof(int); len++) {
			buf[0] = !def;
			EXPECT_EQ(EINVAL, shim_set(self->fd, opts[i], buf, len))
				TH_LOG("option %d optlen %u", opts[i], len);
			EXPECT_EQ(def, shim_get_int(self->fd, opts[i]))
				TH_LOG("option %d changed by optlen %u",
				       opts[i], len);
		}

		/* Longer than an int: the first int is used. */
		buf[0] = !def;
		buf[1] = 0x5a5a5a5a;
		EXPECT_EQ(0, shim_set(self->fd, opts[i], buf, sizeof(buf)))
			TH_LOG("option %d optlen %zu", opts[i], sizeof(buf));
		EXPECT_EQ(!def, shim_get_int(self->fd, opts[i]));
		buf[0] = def;
		buf[1] = -1;
		EXPECT_EQ(0, shim_set(self->fd, opts[i], buf, sizeof(buf)));
		EXPECT_EQ(def, shim_get_int(self->fd, opts[i]));
	}
}

TEST_F(sockopt, get_optlen)
{
	static const int opts[] = {
		SHIM_ASSOCIATED, SHIM_DONTSHIM, SHIM_DEFERRED_CONTEXT_SETUP,
	};
	static const int negative[] = { -1, -4, INT_MIN };
	int buf[2], ilen;
	socklen_t len;
	int i, j;

	for (i = 0; i < (int)ARRAY_SIZE(opts); i++) {
		for (j = 0; j < (int)sizeof(int); j++) {
			len = j;
			EXPECT_EQ(EINVAL, shim_get(self->fd, opts[i], buf, &len))
				TH_LOG("option %d *optlen %d", opts[i], j);
		}

		buf[0] = -1;
		buf[1] = -1;
		len = sizeof(buf);
		EXPECT_EQ(0, shim_get(self->fd, opts[i], buf, &len))
			TH_LOG("option %d *optlen %zu", opts[i], sizeof(buf));
		EXPECT_EQ(sizeof(int), len)
			TH_LOG("option %d: optlen written back", opts[i]);
		EXPECT_EQ(opts[i] == SHIM_DEFERRED_CONTEXT_SETUP, buf[0]);

		for (j = 0; j < (int)ARRAY_SIZE(negative); j++) {
			ilen = negative[j];
			EXPECT_EQ(EINVAL, shim_get(self->fd, opts[i], buf,
						   (socklen_t *)&ilen))
				TH_LOG("option %d *optlen %d", opts[i], ilen);
		}
	}
}

TEST_F(sockopt, faults)
{
	static const int opts[] = { SHIM_DONTSHIM, SHIM_DEFERRED_CONTEXT_SETUP };
	char *page, *none;
	size_t pagesz;
	socklen_t len;
	int i, def, val;

	page = map_page_then_hole(&pagesz);
	ASSERT_NE(NULL, page) TH_LOG("mmap: %s", strerror(errno));
	none = mmap(NULL, pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, none) TH_LOG("mmap: %s", strerror(errno));

	for (i = 0; i < (int)ARRAY_SIZE(opts); i++) {
		def = opts[i] == SHIM_DONTSHIM ? 0 : 1;

		/* setsockopt: optval not readable */
		EXPECT_EQ(EFAULT, shim_set(self->fd, opts[i], NULL,
					   sizeof(int)));
		EXPECT_EQ(EFAULT, shim_set(self->fd, opts[i], none,
					   sizeof(int)));
		EXPECT_EQ(EFAULT, shim_set(self->fd, opts[i], page + pagesz,
					   sizeof(int)))
			TH_LOG("optval in a munmapped page");
		/* The int straddles the end of the mapping. */
		EXPECT_EQ(EFAULT, shim_set(self->fd, opts[i],
					   page + pagesz - 2, sizeof(int)))
			TH_LOG("optval straddling into a munmapped page");
		EXPECT_EQ(def, shim_get_int(self->fd, opts[i]))
			TH_LOG("value changed by a faulting set");

		/* getsockopt: optlen not readable */
		EXPECT_EQ(EFAULT, shim_get(self->fd, opts[i], &val, NULL));
		EXPECT_EQ(EFAULT, shim_get(self->fd, opts[i], &val,
					   (socklen_t *)none));
		/* getsockopt: optval not writable */
		len = sizeof(int);
		EXPECT_EQ(EFAULT, shim_get(self->fd, opts[i], NULL, &len));
		len = sizeof(int);
		EXPECT_EQ(EFAULT, shim_get(self->fd, opts[i], none, &len));
		len = sizeof(int);
		EXPECT_EQ(EFAULT, shim_get(self->fd, opts[i], page + pagesz,
					   &len));
		len = sizeof(int);
		EXPECT_EQ(EFAULT, shim_get(self->fd, SHIM_ASSOCIATED,
					   page + pagesz, &len));

		EXPECT_EQ(def, shim_get_int(self->fd, opts[i]));
	}

	munmap(none, pagesz);
	munmap(page, pagesz);
}

TEST_F(sockopt, unknown_names)
{
	static const int names[] = { 0, 15, 16, 99, 1000, -1, INT_MAX };
	union shim_optbuf buf;
	socklen_t len;
	int i;

	memset(&buf, 0, sizeof(buf));
	for (i = 0; i < (int)ARRAY_SIZE(names); i++) {
		EXPECT_EQ(ENOPROTOOPT, shim_set_int(self->fd, names[i], 1))
			TH_LOG("setsockopt name %d", names[i]);
		EXPECT_EQ(ENOPROTOOPT, shim_set_int(self->fd, names[i], 0))
			TH_LOG("setsockopt name %d", names[i]);
		EXPECT_EQ(ENOPROTOOPT, shim_set(self->fd, names[i], &buf,
						sizeof(buf)))
			TH_LOG("setsockopt name %d, %zu bytes", names[i],
			       sizeof(buf));
		len = sizeof(int);
		EXPECT_EQ(ENOPROTOOPT, shim_get(self->fd, names[i], &buf, &len))
			TH_LOG("getsockopt name %d", names[i]);
		len = sizeof(buf);
		EXPECT_EQ(ENOPROTOOPT, shim_get(self->fd, names[i], &buf, &len))
			TH_LOG("getsockopt name %d, %zu bytes", names[i],
			       sizeof(buf));
	}
}

/*
 * The errno of option @opt without a context: SHIM_LOC_*_RECV need none on
 * an unconnected IPv6 datagram socket (draft section 6), which reports
 * the locators of each datagram.
 */
static int without_context(const struct shim6_kind *k, int opt)
{
	bool recv = opt == SHIM_LOC_LOCAL_RECV || opt == SHIM_LOC_PEER_RECV;

	return recv && k->family == AF_INET6 && k->type != SOCK_STREAM ? 0 : ENOENT;
}

TEST_F(sockopt, needs_context)
{
	union shim_optbuf buf;
	socklen_t len;
	int i;

	/* setsockopt with well-formed values */
	for (i = 0; i < (int)ARRAY_SIZE(ctx_int_opts); i++) {
		int val = ctx_int_opts[i].opt == SHIM_APP_TIMEOUT ? 15 : 1;

		EXPECT_EQ(without_context(&variant->kind, ctx_int_opts[i].opt),
			  shim_set_int(self->fd, ctx_int_opts[i].opt, val))
			TH_LOG("set %s = %d", ctx_int_opts[i].name, val);
	}
	EXPECT_EQ(ENOENT, shim_set_int(self->fd, SHIM_HOT_STANDBY, 0));
	EXPECT_EQ(ENOENT, shim_set_int(self->fd, SHIM_APP_TIMEOUT, 0))
		TH_LOG("SHIM_APP_TIMEOUT 0 (REAP default)");

	buf.pe = good_pe;
	EXPECT_EQ(ENOENT, shim_set(self->fd, SHIM_PATHEXPLORE, &buf.pe,
				   sizeof(buf.pe)));

	for (i = 0; i < (int)ARRAY_SIZE(ctx_loc_opts); i++) {
		shim_loc_init(&buf.lc, AF_INET6, "2001:db8::1");
		EXPECT_EQ(ENOENT, shim_set(self->fd, ctx_loc_opts[i].opt,
					   &buf.lc, sizeof(buf.lc)))
			TH_LOG("set %s 2001:db8::1", ctx_loc_opts[i].name);
		shim_loc_init(&buf.lc, AF_INET, "::ffff:192.0.2.1");
		EXPECT_EQ(ENOENT, shim_set(self->fd, ctx_loc_opts[i].opt,
					   &buf.lc, sizeof(buf.lc)))
			TH_LOG("set %s AF_INET ::ffff:192.0.2.1",
			       ctx_loc_opts[i].name);
	}

	for (i = 0; i < (int)ARRAY_SIZE(ctx_list_opts); i++) {
		fill_loclist(buf.list, 2);
		EXPECT_EQ(ENOENT, shim_set(self->fd, ctx_list_opts[i].opt,
					   buf.list, 2 * sizeof(buf.list[0])))
			TH_LOG("set %s, 2 locators", ctx_list_opts[i].name);
		fill_loclist(buf.list, SHIM_MAX_LOCATORS);
		EXPECT_EQ(ENOENT, shim_set(self->fd, ctx_list_opts[i].opt,
					   buf.list,
					   SHIM_MAX_LOCATORS * sizeof(buf.list[0])))
			TH_LOG("set %s, SHIM_MAX_LOCATORS locators",
			       ctx_list_opts[i].name);
	}

	/* getsockopt with a buffer large enough */
	for (i = 0; i < (int)ARRAY_SIZE(ctx_int_opts); i++) {
		len = sizeof(int);
		EXPECT_EQ(without_context(&variant->kind, ctx_int_opts[i].opt),
			  shim_get(self->fd, ctx_int_opts[i].opt, &buf, &len))
			TH_LOG("get %s", ctx_int_opts[i].name);
	}
	len = sizeof(buf.pe);
	EXPECT_EQ(ENOENT, shim_get(self->fd, SHIM_PATHEXPLORE, &buf, &len));
	for (i = 0; i < (int)ARRAY_SIZE(ctx_loc_opts); i++) {
		len = sizeof(buf.lc);
		EXPECT_EQ(ENOENT, shim_get(self->fd, ctx_loc_opts[i].opt,
					   &buf, &len))
			TH_LOG("get %s", ctx_loc_opts[i].name);
	}
	for (i = 0; i < (int)ARRAY_SIZE(ctx_list_opts); i++) {
		len = SHIM_MAX_LOCATORS * sizeof(buf.list[0]);
		EXPECT_EQ(ENOENT, shim_get(self->fd, ctx_list_opts[i].opt,
					   &buf, &len))
			TH_LOG("get %s, %u bytes", ctx_list_opts[i].name, len);
	}

	/* Nothing of that made a context. */
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_ASSOCIATED));
}

TEST_F(sockopt, malformed_values)
{
	union shim_optbuf buf;
	socklen_t len;
	int i;

	/* Booleans other than 0 and 1. */
	EXPECT_EQ(EINVAL, shim_set_int(self->fd, SHIM_HOT_STANDBY, 2));
	EXPECT_EQ(EINVAL, shim_set_int(self->fd, SHIM_HOT_STANDBY, -1));
	EXPECT_EQ(EINVAL, shim_set_int(self->fd, SHIM_LOC_LOCAL_RECV, 2));
	EXPECT_EQ(EINVAL, shim_set_int(self->fd, SHIM_LOC_PEER_RECV, 2));

	/* pe_reserved must be zero. */
	buf.pe = good_pe;
	buf.pe.pe_reserved = 1;
	EXPECT_EQ(EINVAL, shim_set(self->fd, SHIM_PATHEXPLORE, &buf.pe,
				   sizeof(buf.pe)));
	buf.pe.pe_reserved = 0x80000000u;
	EXPECT_EQ(EINVAL, shim_set(self->fd, SHIM_PATHEXPLORE, &buf.pe,
				   sizeof(buf.pe)));

	for (i = 0; i < (int)ARRAY_SIZE(ctx_loc_opts); i++) {
		const char *name = ctx_loc_opts[i].name;
		int opt = ctx_loc_opts[i].opt;

		/* lc_family neither AF_INET6 nor AF_INET */
		shim_loc_init(&buf.lc, 0, "2001:db8::1");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc)))
			TH_LOG("%s lc_family 0", name);
		shim_loc_init(&buf.lc, 99, "2001:db8::1");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc)))
			TH_LOG("%s lc_family 99", name);
		shim_loc_init(&buf.lc, AF_UNIX, "2001:db8::1");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc)))
			TH_LOG("%s lc_family AF_UNIX", name);

		/* AF_INET needs a v4-mapped lc_addr */
		shim_loc_init(&buf.lc, AF_INET, "2001:db8::1");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc)))
			TH_LOG("%s AF_INET 2001:db8::1", name);
		/* 192.0.2.1 in the first four bytes, not v4-mapped */
		shim_loc_init(&buf.lc, AF_INET, "c000:201::");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc)))
			TH_LOG("%s AF_INET, IPv4 address not v4-mapped", name);

		/* too short for the structure */
		shim_loc_init(&buf.lc, AF_INET6, "2001:db8::1");
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc,
					   sizeof(buf.lc) - 1))
			TH_LOG("%s optlen %zu", name, sizeof(buf.lc) - 1);
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, &buf.lc, sizeof(int)))
			TH_LOG("%s optlen %zu", name, sizeof(int));
	}

	for (i = 0; i < (int)ARRAY_SIZE(ctx_list_opts); i++) {
		const char *name = ctx_list_opts[i].name;
		int opt = ctx_list_opts[i].opt;

		fill_loclist(buf.list, SHIM_MAX_LOCATORS + 1);
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, buf.list, 0))
			TH_LOG("%s optlen 0", name);
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, buf.list, 30))
			TH_LOG("%s optlen 30", name);
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, buf.list,
					   sizeof(buf.list[0]) - 1))
			TH_LOG("%s optlen %zu", name, sizeof(buf.list[0]) - 1);
		EXPECT_EQ(E2BIG, shim_set(self->fd, opt, buf.list,
					  (SHIM_MAX_LOCATORS + 1) *
					  sizeof(buf.list[0])))
			TH_LOG("%s SHIM_MAX_LOCATORS + 1 locators", name);

		/* one bad locator spoils the list */
		fill_loclist(buf.list, 2);
		buf.list[1].lc_family = 99;
		EXPECT_EQ(EINVAL, shim_set(self->fd, opt, buf.list,
					   2 * sizeof(buf.list[0])))
			TH_LOG("%s second locator lc_family 99", name);
	}

	/* Too short for the structure. */
	buf.pe = good_pe;
	EXPECT_EQ(EINVAL, shim_set(self->fd, SHIM_PATHEXPLORE, &buf.pe,
				   sizeof(buf.pe) - 1));

	/* Too short for an int, on options that need a context. */
	for (i = 0; i < (int)ARRAY_SIZE(ctx_int_opts); i++) {
		buf.i[0] = 1;
		EXPECT_EQ(EINVAL, shim_set(self->fd, ctx_int_opts[i].opt,
					   &buf, sizeof(int) - 1))
			TH_LOG("set %s optlen 3", ctx_int_opts[i].name);
		len = sizeof(int) - 1;
		EXPECT_EQ(EINVAL, shim_get(self->fd, ctx_int_opts[i].opt,
					   &buf, &len))
			TH_LOG("get %s optlen 3", ctx_int_opts[i].name);
	}
	/* getsockopt buffers too short for the structure */
	len = sizeof(buf.pe) - 1;
	EXPECT_EQ(EINVAL, shim_get(self->fd, SHIM_PATHEXPLORE, &buf, &len));
	for (i = 0; i < (int)ARRAY_SIZE(ctx_loc_opts); i++) {
		len = sizeof(buf.lc) - 1;
		EXPECT_EQ(EINVAL, shim_get(self->fd, ctx_loc_opts[i].opt,
					   &buf, &len))
			TH_LOG("get %s optlen %u", ctx_loc_opts[i].name, len);
	}

	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_ASSOCIATED));
}

/* The header's check order, one step at a time. */
TEST_F(sockopt, check_order)
{
	struct shim_locator list[SHIM_MAX_LOCATORS + 1];
	socklen_t len;

	/* option name before anything else */
	EXPECT_EQ(ENOPROTOOPT, shim_set(self->fd, 99, NULL, 0));
	EXPECT_EQ(ENOPROTOOPT, shim_get(self->fd, 99, NULL, NULL));
	/* optlen before optval */
	EXPECT_EQ(EINVAL, shim_set(self->fd, SHIM_DONTSHIM, NULL, 2));
	len = 2;
	EXPECT_EQ(EINVAL, shim_get(self->fd, SHIM_DONTSHIM, NULL, &len));
	/* optval before the context */
	EXPECT_EQ(EFAULT, shim_set(self->fd, SHIM_HOT_STANDBY, NULL,
				   sizeof(int)));
	EXPECT_EQ(EFAULT, shim_set(self->fd, SHIM_PATHEXPLORE, NULL,
				   sizeof(struct shim_pathexplore)));
	EXPECT_EQ(EFAULT, shim_set(self->fd, SHIM_LOC_PEER_SEND, NULL,
				   sizeof(struct shim_locator)));
	/* the value's form before the context */
	fill_loclist(list, SHIM_MAX_LOCATORS + 1);
	EXPECT_EQ(E2BIG, shim_set(self->fd, SHIM_LOCLIST_PEER, list,
				  sizeof(list)));
	EXPECT_EQ(EINVAL, shim_set_int(self->fd, SHIM_HOT_STANDBY, 2));
}

TEST_F(sockopt, isolation)
{
	int other, third;

	other = shim6_socket(&variant->kind);
	ASSERT_LE(0, other) TH_LOG("socket: %s", strerror(errno));

	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DONTSHIM, 1));
	ASSERT_EQ(0, shim_set_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP, 0));
	EXPECT_EQ(0, shim_get_int(other, SHIM_DONTSHIM));
	EXPECT_EQ(1, shim_get_int(other, SHIM_DEFERRED_CONTEXT_SETUP));

	/* and the other way round */
	ASSERT_EQ(0, shim_set_int(other, SHIM_DONTSHIM, 0));
	ASSERT_EQ(0, shim_set_int(other, SHIM_DEFERRED_CONTEXT_SETUP, 1));
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_DONTSHIM));
	EXPECT_EQ(0, shim_get_int(self->fd, SHIM_DEFERRED_CONTEXT_SETUP));

	/* a socket created after the others starts with the defaults */
	third = shim6_socket(&variant->kind);
	ASSERT_LE(0, third) TH_LOG("socket: %s", strerror(errno));
	EXPECT_EQ(0, shim_get_int(third, SHIM_DONTSHIM));
	EXPECT_EQ(1, shim_get_int(third, SHIM_DEFERRED_CONTEXT_SETUP));

	/* closing a configured socket does not disturb the rest */
	close(other);
	EXPECT_EQ(1, shim_get_int(self->fd, SHIM_DONTSHIM));
	EXPECT_EQ(0, shim_get_int(third, SHIM_DONTSHIM));
	close(third);
}

/*
 * accept(2) gives the new socket the listener's SHIM_DONTSHIM (its policy for
 * its connections) and the defaults of everything else; each keeps its own
 * afterwards.
 */
FIXTURE(tcp_accept) {
	int listener;
	int client;
	int child;
};

FIXTURE_VARIANT(tcp_accept) {
	int family;
};

FIXTURE_VARIANT_ADD(tcp_accept, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(tcp_accept, ipv6) {
	.family = AF_INET6,
};

FIXTURE_SETUP(tcp_accept)
{
	self->listener = -1;
	self->client = -1;
	self->child = -1;
	if (!shim6_loaded())
		SKIP(return, SHIM6_NOT_LOADED);
	self->listener = socket(variant->family, SOCK_STREAM | SOCK_CLOEXEC,
				IPPROTO_TCP);
	if (self->listener < 0 && shim6_socket_unsupported(errno))
		SKIP(return, "socket(%d): %s", variant->family,
		     strerror(errno));
	ASSERT_LE(0, self->listener) TH_LOG("socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(tcp_accept)
{
	if (self->child >= 0)
		close(self->child);
	if (self->client >= 0)
		close(self->client);
	if (self->listener >= 0)
		close(self->listener);
}

TEST_F(tcp_accept, child_inherits_dontshim_only)
{
	struct sockaddr_storage addr;
	socklen_t len;

	/* one value set before listen(), one after */
	ASSERT_EQ(0, shim_set_int(self->listener, SHIM_DONTSHIM, 1));
	len = shim6_loopback(variant->family, 0, &addr);
	ASSERT_EQ(0, bind(self->listener, (struct sockaddr *)&addr, len))
		TH_LOG("bind to loopback: %s (is lo up?)", strerror(errno));
	ASSERT_EQ(0, listen(self->listener, 4));
	ASSERT_EQ(0, shim_set_int(self->listener,
				  SHIM_DEFERRED_CONTEXT_SETUP, 0));
	len = sizeof(addr);
	ASSERT_EQ(0, getsockname(self->listener, (struct sockaddr *)&addr,
				 &len));

	self->client = socket(variant->family, SOCK_STREAM | SOCK_CLOEXEC,
			      IPPROTO_TCP);
	ASSERT_LE(0, self->client);
	ASSERT_EQ(0, connect(self->client, (struct sockaddr *)&addr, len))
		TH_LOG("connect: %s", strerror(errno));
	self->child = accept4(self->listener, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, self->child) TH_LOG("accept: %s", strerror(errno));

	EXPECT_EQ(1, shim_get_int(self->child, SHIM_DONTSHIM))
		TH_LOG("accepted socket lost the listener's SHIM_DONTSHIM");
	EXPECT_EQ(1, shim_get_int(self->child, SHIM_DEFERRED_CONTEXT_SETUP))
		TH_LOG("accepted socket inherited SHIM_DEFERRED_CONTEXT_SETUP");
	EXPECT_EQ(0, shim_get_int(self->child, SHIM_ASSOCIATED));

	EXPECT_EQ(1, shim_get_int(self->listener, SHIM_DONTSHIM));
	EXPECT_EQ(0, shim_get_int(self->listener,
				  SHIM_DEFERRED_CONTEXT_SETUP));

	EXPECT_EQ(0, shim_get_int(self->client, SHIM_DONTSHIM));
	EXPECT_EQ(1, shim_get_int(self->client, SHIM_DEFERRED_CONTEXT_SETUP));

	/* the accepted socket is configurable on its own */
	ASSERT_EQ(0, shim_set_int(self->child, SHIM_DONTSHIM, 0));
	EXPECT_EQ(0, shim_get_int(self->child, SHIM_DONTSHIM));
	EXPECT_EQ(1, shim_get_int(self->listener, SHIM_DONTSHIM));
	ASSERT_EQ(0, shim_set_int(self->child, SHIM_DONTSHIM, 1));
	ASSERT_EQ(0, shim_set_int(self->listener, SHIM_DONTSHIM, 0));
	EXPECT_EQ(1, shim_get_int(self->child, SHIM_DONTSHIM));
}

/* SOL_SHIM belongs to inet sockets only. */
TEST(unix_socket_not_shimmed)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	socklen_t len;
	int i, fd, ret, val;

	for (i = 0; i < (int)ARRAY_SIZE(types); i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fd) TH_LOG("socket(AF_UNIX): %s", strerror(errno));

		val = -1;
		len = sizeof(val);
		errno = 0;
		ret = getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &val, &len);
		TH_LOG("AF_UNIX type %d: getsockopt(SOL_SHIM, SHIM_ASSOCIATED) = %d, errno %d (%s)",
		       types[i], ret, errno, strerror(errno));
		EXPECT_EQ(-1, ret);
		EXPECT_NE(0, errno);

		errno = 0;
		ret = setsockopt(fd, SOL_SHIM, SHIM_DONTSHIM, &(int){ 1 },
				 sizeof(int));
		TH_LOG("AF_UNIX type %d: setsockopt(SOL_SHIM, SHIM_DONTSHIM) = %d, errno %d (%s)",
		       types[i], ret, errno, strerror(errno));
		EXPECT_EQ(-1, ret);
		EXPECT_NE(0, errno);
		close(fd);
	}
}

TEST_HARNESS_MAIN
