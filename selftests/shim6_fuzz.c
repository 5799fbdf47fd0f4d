// SPDX-License-Identifier: GPL-2.0
/*
 * The SHIM6 input path of a live host under random and mutated packets.
 *
 * Two network namespaces, A and B, joined by a veth pair, each with an
 * HBA set over the prefixes 2001:db8:f1::/64 and 2001:db8:f2::/64 (A1,
 * A2 and B1, B2).  A UDP flow A1 -> B1 (B echoes) sets up a context, and
 * is then moved to the locators A2 -> B2, so that its packets carry the
 * payload extension header with B's context tag.
 *
 * Raw sockets for next header 140 in both namespaces copy the real SHIM6
 * packets of that exchange (I1 and I2 at B; R1 and R2 at A), and of two
 * probes: a payload header with an unknown tag (B answers R1bis) and an
 * Update Request built here (B answers Update Acknowledgement, which shows
 * that what is built here is what B parses).  With more built from the
 * formats (I1 with ULID Pair and FII, R1bis and I2bis with the live tags,
 * Update Request/Ack, Keepalive, Probe, Error), they are the templates.
 *
 * Then SHIM6_FUZZ_COUNT packets (default FUZZ_COUNT) are written whole
 * into B from A's side through an IPPROTO_RAW socket (SHIM_DONTSHIM, so
 * that A's own shim leaves them alone), from A's addresses and from
 * spoofed ones: random bytes; templates mutated (bit flips, byte sets,
 * truncation, extension, option TLVs of random type and length, ULID Pair
 * and FII options, live and random tags, a lying Hdr Ext Len), their
 * checksum recomputed for most; payload headers with live and random tags
 * followed by random, nested or well-formed transport data; ICMPv6 errors
 * quoting SHIM6 packets; some behind a Destination Options header, some
 * with a short IPv6 Payload Length, some split in two IPv6 fragments
 * (reassembled into a nonlinear skb), some sent twice.  Meanwhile a
 * second thread on the other CPU sends the flow's own traffic into B
 * (payload headers with the live tag, datagrams of the ULID pair), so
 * that B reads its context's routes while the injected messages change
 * them.
 *
 * After that the flow must still work: B's context for it is established
 * again (a forged R1bis or Update Request with the live tag is something
 * the protocol lets an on-path sender do, so B may have to recover), A's
 * socket still SHIM_ASSOCIATED, and echoes on a locator pair B accepts
 * for A come back, shimmed (B counts them in).  Kernel reports are the VM
 * runner's business: it fails the run on any in dmesg.
 *
 * The packet sequence comes from one PRNG: its seed is printed, and
 * SHIM6_FUZZ_SEED replays it (the live tags and nonces differ from run to
 * run, the choices made do not).  /dev/kmsg gets a line every KMSG_EVERY
 * packets, so that a kernel report can be placed in the sequence, and
 * SHIM6_FUZZ_DUMP=FROM-TO prints the datagrams of that range in hex.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <net/if.h>
#include <netinet/ip6.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "kselftest_harness.h"
#include "shim6_lib.h"

/*
 * shimctl hba modifier 0123456789abcdef0123456789abcdef extended-modifier
 * 0...05 2001:db8:f1::/64 2001:db8:f2::/64 (A), and with modifier
 * fedcba9876543210fedcba9876543210 (B).
 */
#define A1 "2001:db8:f1:0:4d6:5462:62c5:95a2"
#define A2 "2001:db8:f2:0:cac:2dd0:a2c:bf5e"
#define B1 "2001:db8:f1:0:14c2:fee6:39ff:52dc"
#define B2 "2001:db8:f2:0:19:1dc2:8c96:bdb5"
static const char pds_a[] =
	"0123456789abcdef0123456789abcdef20010db800f1000000301c300d06092a864886f70d0101010500030b0030080201050203010001001200140000000020010db800f1000020010db800f20000";
static const char pds_b[] =
	"fedcba9876543210fedcba987654321020010db800f1000000301c300d06092a864886f70d0101010500030b0030080201050203010001001200140000000020010db800f1000020010db800f20000";

#define PORT		7014
/*
 * 100000 packets take 5 to 8 minutes under TCG here with kmemleak off
 * (3 to 5 ms each, most of it the IPv6 path itself, depending on what
 * else runs), and 2.5 times that with kmemleak on, as in make check:
 * too long for make check, where this many take about a minute.
 * SHIM6_FUZZ_COUNT=100000 runs the full count.
 */
#define FUZZ_COUNT	5000
#define FUZZ_SEED	0x5348494d3646555aULL	/* "SHIM6FUZ" */
#define KMSG_EVERY	1000
#define PROGRESS_EVERY	20000
/*
 * The test's time but for the injection, and an injected packet's at
 * most, under TCG on a loaded machine: they scale the harness's timeout.
 */
#define FIXED_S		120
#define TCG_MS_PER_PACKET 15
/*
 * How long B may take to have its context for the flow established
 * again: a forged R1bis leaves it in I2BIS-SENT (the flow still goes)
 * for up to three I2bis timeouts, 6 + 12 + 24 s, before it starts over
 * with an I1 that A answers at once.
 */
#define RECOVER_MS	60000

#define NEXTHDR_SHIM	140
#define NEXTHDR_NONE	59
#define NEXTHDR_FRAG	44
#define NEXTHDR_DEST	60
#define NEXTHDR_HOP	0
#define TAG_MASK	((1ULL << 47) - 1)

#define T_I1		1
#define T_R1		2
#define T_I2		3
#define T_R2		4
#define T_R1BIS		5
#define T_I2BIS		6
#define T_UPDATE_REQ	64
#define T_UPDATE_ACK	65
#define T_KEEPALIVE	66
#define T_PROBE		67
#define T_ERROR		68

#define O_VALIDATOR	1
#define O_LOCLIST	2
#define O_LOCPREF	3
#define O_PDS		4
#define O_ULID_PAIR	6
#define O_FII		7
#define O_KEEPALIVE	10

/* Longest SHIM6 header (Hdr Ext Len 255) and room around it. */
#define MAX_SHIM	2048
#define BODY_CAP	3000
/* What fits the veth MTU unfragmented, after the IPv6 header. */
#define MAX_BODY	(1500 - 40)
#define MAX_TMPL	48

struct tmpl {
	unsigned char b[MAX_SHIM];
	size_t len;
	const char *what;
};

struct world {
	int ns_a, ns_b;
	int client;		/* A: A1 -> B1:PORT, the live flow */
	int server;		/* B: B1:PORT, echoes */
	int inject;		/* A: IPPROTO_RAW, SHIM_DONTSHIM */
	int kmsg;
	struct sockaddr_in6 to;	/* where the raw socket routes: B1 */
	struct in6_addr a1, a2, b1, b2;
	unsigned short client_port;
	uint64_t ct_b;		/* B's ct_local: payload to B carries it */
	uint64_t ct_a;		/* B's ct_peer, A's tag */
	struct tmpl t[MAX_TMPL];
	int nt;
	/* Options of A's I2, for the messages built here. */
	unsigned char validator[256], loclist[512], pds[512];
	size_t validator_len, loclist_len, pds_len;
	unsigned long seq;
	/* Counters of the injection. */
	unsigned long index, datagrams, fragmented, repeated, errors;
	int last_errno;
	unsigned long dump_from, dump_to;
	uint64_t seed;
};

/* xorshift64*: small, fast, and the same sequence everywhere. */
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(unsigned int n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static void rnd_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = rnd() >> 32;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static struct in6_addr addr6(const char *text)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, text, &a) != 1)
		abort();
	return a;
}

/* One's complement sum of @len octets as big-endian words, added to @sum. */
static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* UDP, TCP or ICMPv6 checksum of @data, stored big-endian at @at. */
static void l4_csum(const struct in6_addr *src, const struct in6_addr *dst,
		    uint8_t proto, unsigned char *data, size_t len, size_t at)
{
	uint32_t sum = sum16(src, 16, 0);
	uint16_t c;

	sum = sum16(dst, 16, sum);
	sum += len >> 16;
	sum += len & 0xffff;
	sum += proto;
	data[at] = 0;
	data[at + 1] = 0;
	c = fold(sum16(data, len, sum));
	if (!c && proto == IPPROTO_UDP)
		c = 0xffff;
	data[at] = c >> 8;
	data[at + 1] = c;
}

/* The SHIM6 checksum over @len octets of the header at @h. */
static void shim_csum(unsigned char *h, size_t len)
{
	uint16_t c;

	if (len < 6)
		return;
	h[4] = 0;
	h[5] = 0;
	c = fold(sum16(h, len, 0));
	h[4] = c >> 8;
	h[5] = c;
}

static void put_tag(unsigned char *p, uint64_t tag)
{
	for (int i = 0; i < 6; i++)
		p[i] = tag >> (40 - 8 * i);
	p[0] &= 0x7f;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Length of the TLV of @len octets of contents, padding included. */
static size_t opt_total(size_t len)
{
	return 11 + len - (len + 3) % 8;
}

/* Writes a TLV at @at of @h; returns where the next one goes. */
static size_t opt_put(unsigned char *h, size_t at, unsigned int type,
		      bool critical, const void *val, size_t len)
{
	size_t total = opt_total(len);

	h[at] = type >> 7;
	h[at + 1] = (type << 1 | critical) & 0xff;
	h[at + 2] = len >> 8;
	h[at + 3] = len;
	if (val)
		memcpy(h + at + 4, val, len);
	else
		rnd_bytes(h + at + 4, len);
	memset(h + at + 4 + len, 0, total - 4 - len);
	return at + total;
}

/* The fixed part of a control message of @type, @fixed octets. */
static size_t msg_begin(unsigned char *h, int type, size_t fixed)
{
	memset(h, 0, fixed);
	h[0] = NEXTHDR_NONE;
	h[2] = type & 0x7f;
	return fixed;
}

/* Hdr Ext Len and checksum of the message of @len octets at @h. */
static void msg_end(unsigned char *h, size_t len)
{
	h[1] = len / 8 - 1;
	shim_csum(h, len);
}

/* Where the options of the control message at @h start. */
static size_t opt_offset(const unsigned char *h, size_t len)
{
	if (len < 3)
		return len;
	switch (h[2] & 0x7f) {
	case T_I2:
		return 24;
	case T_I2BIS:
		return 32;
	case T_PROBE:
		if (len < 13)
			return 16;
		return 16 + 40 * ((h[12] >> 4) + (h[12] & 15));
	case T_ERROR:
		return len;
	default:
		return 16;
	}
}

/* The TLV of @type in the options of @h (offset or 0), its total length in @total. */
static size_t opt_find(const unsigned char *h, size_t len, unsigned int type,
		       size_t *total)
{
	size_t at = opt_offset(h, len);

	while (at + 4 <= len) {
		unsigned int t = (h[at] << 8 | h[at + 1]) >> 1;
		size_t l = h[at + 2] << 8 | h[at + 3];
		size_t n = opt_total(l);

		if (at + n > len)
			return 0;
		if (t == type) {
			*total = n;
			return at;
		}
		at += n;
	}
	return 0;
}

static struct tmpl *tmpl_add(struct world *w, const char *what)
{
	struct tmpl *t;

	if (w->nt >= MAX_TMPL)
		abort();
	t = &w->t[w->nt++];
	t->what = what;
	return t;
}

/* A template made from bytes, if there is room. */
static void tmpl_copy(struct world *w, const char *what, const void *b, size_t len)
{
	struct tmpl *t;

	if (w->nt >= MAX_TMPL || len > MAX_SHIM)
		return;
	t = tmpl_add(w, what);
	memcpy(t->b, b, len);
	t->len = len;
}

static const struct tmpl *tmpl_find(const struct world *w, const char *what)
{
	for (int i = 0; i < w->nt; i++)
		if (!strcmp(w->t[i].what, what))
			return &w->t[i];
	return NULL;
}

/* Options the messages built here carry: A's, from its I2. */
static size_t put_locators(const struct world *w, unsigned char *h, size_t at,
			   bool fresh_generation)
{
	if (w->loclist_len) {
		memcpy(h + at, w->loclist, w->loclist_len);
		if (fresh_generation)
			put32(h + at + 4, rnd());
		at += w->loclist_len;
	}
	if (w->pds_len) {
		memcpy(h + at, w->pds, w->pds_len);
		at += w->pds_len;
	}
	return at;
}

static size_t put_validator(const struct world *w, unsigned char *h, size_t at)
{
	if (w->validator_len) {
		memcpy(h + at, w->validator, w->validator_len);
		return at + w->validator_len;
	}
	return opt_put(h, at, O_VALIDATOR, false, NULL, 32);
}

static size_t put_ulids(unsigned char *h, size_t at, const struct in6_addr *s,
			const struct in6_addr *r)
{
	unsigned char v[36] = {};

	memcpy(v + 4, s, 16);
	memcpy(v + 20, r, 16);
	return opt_put(h, at, O_ULID_PAIR, false, v, sizeof(v));
}

static size_t put_fii(unsigned char *h, size_t at, uint32_t fii)
{
	unsigned char v[4];

	put32(v, fii);
	return opt_put(h, at, O_FII, false, v, sizeof(v));
}

/* A Probe from A2 to B2 with @sent and @recvd reports. */
static size_t build_probe(const struct world *w, unsigned char *h, int sent, int recvd)
{
	size_t at = msg_begin(h, T_PROBE, 16);

	put_tag(h + 6, w->ct_b);
	h[12] = recvd << 4 | sent;
	h[13] = below(4) << 6;
	for (int i = 0; i < sent + recvd; i++) {
		memcpy(h + at, i < sent ? &w->a2 : &w->b2, 16);
		memcpy(h + at + 16, i < sent ? &w->b2 : &w->a2, 16);
		rnd_bytes(h + at + 32, 8);
		at += 40;
	}
	return at;
}

/* The messages built from the formats, with the live tags. */
static void build_templates(struct world *w)
{
	const struct tmpl *i1 = tmpl_find(w, "I1");
	unsigned char *h;
	size_t at;

	h = tmpl_add(w, "I1+ULID+FII")->b;
	at = msg_begin(h, T_I1, 16);
	put_tag(h + 6, w->ct_a);
	rnd_bytes(h + 12, 4);
	at = put_ulids(h, at, &w->a1, &w->b1);
	at = put_fii(h, at, 1);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "R1+validator")->b;
	at = msg_begin(h, T_R1, 16);
	rnd_bytes(h + 8, 8);
	at = put_validator(w, h, at);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "I2+ULID")->b;
	at = msg_begin(h, T_I2, 24);
	put_tag(h + 6, w->ct_a);
	rnd_bytes(h + 12, 8);
	at = put_validator(w, h, at);
	at = put_locators(w, h, at, false);
	at = put_ulids(h, at, &w->a1, &w->b1);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "R2+locators")->b;
	at = msg_begin(h, T_R2, 16);
	put_tag(h + 6, rnd());
	rnd_bytes(h + 12, 4);
	at = put_locators(w, h, at, false);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	/* R1bis naming B's peer tag: B goes to I2BIS-SENT. */
	h = tmpl_add(w, "R1bis")->b;
	at = msg_begin(h, T_R1BIS, 16);
	put_tag(h + 6, w->ct_a);
	rnd_bytes(h + 12, 4);
	at = opt_put(h, at, O_VALIDATOR, false, NULL, 32);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "I2bis")->b;
	at = msg_begin(h, T_I2BIS, 32);
	put_tag(h + 6, w->ct_a);
	rnd_bytes(h + 12, 8);
	put_tag(h + 26, w->ct_b);
	at = put_validator(w, h, at);
	at = put_locators(w, h, at, false);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "UpdateRequest")->b;
	at = msg_begin(h, T_UPDATE_REQ, 16);
	put_tag(h + 6, w->ct_b);
	rnd_bytes(h + 12, 4);
	at = put_locators(w, h, at, true);
	{
		/* Locator Preferences for that generation: flags, priority, weight. */
		unsigned char v[5 + 3 * 2] = {};

		if (w->loclist_len)
			memcpy(v, h + 16 + 4, 4);
		v[4] = 3;
		rnd_bytes(v + 5, 6);
		at = opt_put(h, at, O_LOCPREF, false, v, sizeof(v));
	}
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "UpdateAck")->b;
	at = msg_begin(h, T_UPDATE_ACK, 16);
	put_tag(h + 6, w->ct_b);
	rnd_bytes(h + 12, 4);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "Keepalive")->b;
	at = msg_begin(h, T_KEEPALIVE, 16);
	put_tag(h + 6, w->ct_b);
	{
		unsigned char v[4] = { 0, 0, 0, 10 };

		at = opt_put(h, at, O_KEEPALIVE, false, v, sizeof(v));
	}
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "Probe")->b;
	at = build_probe(w, h, 1, 0);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	h = tmpl_add(w, "Probe+reports")->b;
	at = build_probe(w, h, 3, 2);
	msg_end(h, at);
	w->t[w->nt - 1].len = at;

	/* Error: code 0, pointing at the type octet of a quoted I1. */
	h = tmpl_add(w, "Error")->b;
	at = msg_begin(h, T_ERROR, 8);
	h[7] = 40 + 2;
	{
		struct ip6_hdr ip = {
			.ip6_vfc = 0x60,
			.ip6_nxt = NEXTHDR_SHIM,
			.ip6_hlim = 64,
			.ip6_src = w->b2,
			.ip6_dst = w->a2,
		};
		size_t n = i1 ? i1->len : 16;

		ip.ip6_plen = htons(n);
		memcpy(h + at, &ip, sizeof(ip));
		at += sizeof(ip);
		if (i1)
			memcpy(h + at, i1->b, n);
		else
			memset(h + at, 0, n);
		at += n;
	}
	msg_end(h, at);
	w->t[w->nt - 1].len = at;
}

/* Inserts @n octets of @src (random if NULL) at @at; false if no room. */
static bool insert(unsigned char *h, size_t *len, size_t cap, size_t at,
		   const void *src, size_t n)
{
	if (at > *len || *len + n > cap)
		return false;
	memmove(h + at + n, h + at, *len - at);
	if (src)
		memcpy(h + at, src, n);
	else
		rnd_bytes(h + at, n);
	*len += n;
	return true;
}

static void pick_addr(const struct world *w, struct in6_addr *a);

/* An option TLV of random type, C bit, length and contents. */
static size_t random_tlv(const struct world *w, unsigned char *o, size_t cap)
{
	static const unsigned short types[] = {
		O_VALIDATOR, O_LOCLIST, O_LOCPREF, O_PDS, 5, O_ULID_PAIR, O_FII,
		O_KEEPALIVE, 0, 8, 9, 11, 0x4000, 0x7fff,
	};
	unsigned int type = chance(70) ? types[below(ARRAY_SIZE(types))] : below(0x8000);
	size_t len = chance(80) ? below(64) : below(600);
	size_t total;

	if (opt_total(len) > cap)
		len = cap >= 8 ? cap - 8 : 0;
	total = opt_put(o, 0, type, chance(30), NULL, len);
	if (type == O_ULID_PAIR && len >= 36) {
		struct in6_addr a;

		pick_addr(w, &a);
		memcpy(o + 8, &a, 16);
		pick_addr(w, &a);
		memcpy(o + 24, &a, 16);
	}
	/* Length lying about the contents. */
	if (chance(20)) {
		unsigned int lie = chance(50) ? below(0x10000) : len + 1 + below(16);

		o[2] = lie >> 8;
		o[3] = lie;
	}
	if (chance(10))
		total -= below(total);
	return total;
}

/* A tag for a packet to B: mostly a live one. */
static uint64_t pick_tag(const struct world *w)
{
	switch (below(10)) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
		return w->ct_b;
	case 5:
		return w->ct_a;
	case 6:
		return w->ct_b ^ 1ULL << below(47);
	case 7:
		return chance(50) ? 0 : TAG_MASK;
	default:
		return rnd() & TAG_MASK;
	}
}

/* Any address: ours, B's, spoofed, special. */
static void pick_addr(const struct world *w, struct in6_addr *a)
{
	switch (below(12)) {
	case 0:
		*a = w->a1;
		break;
	case 1:
		*a = w->a2;
		break;
	case 2:
		*a = w->b1;
		break;
	case 3:
		*a = w->b2;
		break;
	case 4:
		/* A neighbour on the link that does not exist: B tries ND. */
		*a = chance(50) ? w->a1 : w->a2;
		a->s6_addr[15] = 0xf0 | below(8);
		break;
	case 5:
		*a = addr6("2001:db8:99::");
		rnd_bytes(a->s6_addr + 6, 10);
		break;
	case 6:
		*a = in6addr_any;
		break;
	case 7:
		*a = addr6("fe80::");
		rnd_bytes(a->s6_addr + 8, 8);
		break;
	case 8:
		*a = addr6(chance(50) ? "ff02::1" : "ff0e::1");
		break;
	case 9:
		*a = addr6("::ffff:192.0.2.1");
		break;
	case 10:
		*a = chance(50) ? w->a1 : w->a2;
		a->s6_addr[8 + below(8)] ^= 1 << below(8);
		break;
	default:
		rnd_bytes(a, 16);
		break;
	}
}

/* The source of a packet to B: mostly A's locators, sometimes spoofed. */
static void pick_src(const struct world *w, struct in6_addr *a)
{
	unsigned int r = below(100);

	if (r < 45)
		*a = w->a2;
	else if (r < 72)
		*a = w->a1;
	else
		pick_addr(w, a);
}

static void pick_dst(const struct world *w, struct in6_addr *a)
{
	unsigned int r = below(100);

	if (r < 50)
		*a = w->b2;
	else if (r < 92)
		*a = w->b1;
	else if (r < 96)
		*a = addr6("ff02::1");
	else
		pick_addr(w, a);
}

/*
 * Mutates the control message of *@len octets at @h (room for @cap):
 * up to six changes, then most of the time a Hdr Ext Len that says the
 * truth and a checksum that holds.
 */
static void mutate(const struct world *w, unsigned char *h, size_t *len, size_t cap)
{
	static const unsigned char interesting[] = {
		0, 1, 2, 7, 8, 0x0f, 0x10, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xfe, 0xff,
	};
	int n = chance(15) ? 0 : 1 + below(6);
	size_t l = *len, at, total;
	unsigned char o[700];

	while (n--) {
		switch (below(14)) {
		case 0:
		case 1:
			if (!l)
				break;
			at = chance(50) ? below(l < 16 ? l : 16) : below(l);
			h[at] ^= 1 << below(8);
			break;
		case 2:
			if (!l)
				break;
			at = below(l);
			h[at] = chance(70) ? interesting[below(sizeof(interesting))] : rnd();
			break;
		case 3:
			l = chance(50) ? below(l + 1) : l - (l ? below(l < 16 ? l : 16) : 0);
			break;
		case 4:
			insert(h, &l, cap, l, NULL, 1 + below(chance(80) ? 32 : 300));
			break;
		case 5:
		case 6:
			total = random_tlv(w, o, sizeof(o));
			at = chance(70) ? l : opt_offset(h, l);
			insert(h, &l, cap, at < l ? at : l, o, total);
			break;
		case 7: {
			struct in6_addr s, r;

			pick_addr(w, &s);
			pick_addr(w, &r);
			if (chance(60))
				s = chance(50) ? w->a1 : w->a2;
			if (chance(60))
				r = chance(50) ? w->b1 : w->b2;
			total = put_ulids(o, 0, &s, &r);
			if (chance(15)) {
				o[3] = below(64);
				total = 8 + below(40);
			}
			at = chance(60) ? l : opt_offset(h, l);
			insert(h, &l, cap, at < l ? at : l, o, total);
			break;
		}
		case 8:
			total = put_fii(o, 0, chance(50) ? rnd() : below(3));
			if (chance(15))
				o[3] = below(16);
			at = chance(60) ? l : opt_offset(h, l);
			insert(h, &l, cap, at < l ? at : l, o, total);
			break;
		case 9:
			/* A tag field: live or random. */
			at = chance(80) ? 6 : (chance(50) ? 26 : below(l > 6 ? l - 6 : 1));
			if (at + 6 <= l)
				put_tag(h + at, pick_tag(w));
			break;
		case 10:
			if (l > 1)
				h[1] += chance(50) ? below(256) : chance(50) ? 1 : 255;
			break;
		case 11:
			if (l > 2) {
				static const unsigned char types[] = {
					0, T_I1, T_R1, T_I2, T_R2, T_R1BIS, T_I2BIS, 7, 63,
					T_UPDATE_REQ, T_UPDATE_ACK, T_KEEPALIVE, T_PROBE,
					T_ERROR, 69, 127,
				};

				h[2] = (h[2] & 0x80) | types[below(sizeof(types))];
			}
			break;
		case 12:
			/* An option's Length field lies. */
			at = opt_offset(h, l);
			if (at + 4 <= l) {
				h[at + 2] = chance(50) ? rnd() : 0;
				h[at + 3] = rnd();
			}
			break;
		default:
			/* The Locator List: its count or a method lies. */
			at = opt_find(h, l, O_LOCLIST, &total);
			if (at && total > 9) {
				if (chance(50))
					h[at + 8] += chance(50) ? below(256) : 1;
				else
					h[at + 9 + below(total - 9)] = rnd();
			}
			break;
		}
	}
	if (l > MAX_SHIM)
		l = MAX_SHIM;
	if (chance(80) && l >= 1) {
		/* The truth in Hdr Ext Len: padded to 8 octets. */
		while (l % 8 && l < cap)
			h[l++] = 0;
		if (l >= 8)
			h[1] = l / 8 - 1;
	}
	if (chance(90) && l >= 6) {
		total = (h[1] + 1) * 8;
		shim_csum(h, total < l ? total : l);
	}
	*len = l;
}

/* A control message from a template or random bytes, P bit clear. */
static size_t gen_control(const struct world *w, unsigned char *b, size_t cap)
{
	const struct tmpl *t;
	size_t len;

	if (chance(12)) {
		len = chance(80) ? below(200) : below(MAX_SHIM + 16);
		if (len > cap)
			len = cap;
		rnd_bytes(b, len);
		if (chance(70) && len >= 8) {
			len &= ~7UL;
			b[1] = len / 8 - 1;
			b[2] &= 0x7f;
			b[3] &= 0xfe;
			if (chance(50))
				b[2] = (b[2] & 0x80) | (chance(50) ? below(7) : 64 + below(5));
			shim_csum(b, len);
		}
		return len;
	}
	t = &w->t[below(w->nt)];
	len = t->len < cap ? t->len : cap;
	memcpy(b, t->b, len);
	mutate(w, b, &len, cap < MAX_SHIM + 64 ? cap : MAX_SHIM + 64);
	if (chance(5))
		insert(b, &len, cap, len, NULL, 1 + below(64));
	return len;
}

/*
 * A payload extension header with a (mostly live) tag and what follows:
 * random transport data, a well-formed UDP datagram for the echo server
 * or ICMPv6 echo, another SHIM6 header, a fragment or option header.
 */
static size_t gen_payload(const struct world *w, unsigned char *b, size_t cap, int depth)
{
	size_t len = 8, n;
	unsigned int r = below(100);

	b[1] = chance(95) ? 0 : rnd();
	put_tag(b + 2, pick_tag(w));
	b[2] |= 0x80;
	if (r < 20) {
		/* UDP to the echo server, checksummed over the ULIDs. */
		n = 8 + below(200);
		b[0] = IPPROTO_UDP;
		rnd_bytes(b + len, n);
		b[len] = w->client_port >> 8;
		b[len + 1] = w->client_port;
		b[len + 2] = PORT >> 8;
		b[len + 3] = PORT & 0xff;
		b[len + 4] = n >> 8;
		b[len + 5] = n;
		l4_csum(&w->a1, &w->b1, IPPROTO_UDP, b + len, n, 6);
		len += n;
	} else if (r < 28) {
		/* ICMPv6 echo request to B's ULID. */
		n = 8 + below(64);
		b[0] = IPPROTO_ICMPV6;
		rnd_bytes(b + len, n);
		b[len] = 128;
		b[len + 1] = 0;
		l4_csum(&w->a1, &w->b1, IPPROTO_ICMPV6, b + len, n, 2);
		len += n;
	} else if (r < 38 && depth < 2) {
		/* Another SHIM6 header: payload or control. */
		b[0] = NEXTHDR_SHIM;
		if (chance(50))
			len += gen_payload(w, b + len, cap - len, depth + 1);
		else
			len += gen_control(w, b + len, cap - len);
	} else if (r < 44) {
		/* A fragment behind the shim header. */
		b[0] = NEXTHDR_FRAG;
		n = 8 + below(300);
		rnd_bytes(b + len, n);
		b[len] = chance(70) ? IPPROTO_UDP : rnd();
		b[len + 1] = 0;
		b[len + 3] &= chance(50) ? 1 : 0xff;
		len += n;
	} else if (r < 50) {
		/* An option header behind it: Destination Options or Hop-by-Hop. */
		b[0] = chance(70) ? NEXTHDR_DEST : NEXTHDR_HOP;
		n = 8 * (1 + below(4));
		rnd_bytes(b + len, n + below(64));
		b[len] = chance(50) ? IPPROTO_UDP : NEXTHDR_NONE;
		b[len + 1] = chance(80) ? n / 8 - 1 : rnd();
		if (chance(50))
			memset(b + len + 2, 0, n - 2);
		len += n;
	} else {
		static const unsigned char next[] = {
			IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMPV6, NEXTHDR_NONE,
			NEXTHDR_SHIM, 43, 50, 51, 135, 139, 253,
		};

		b[0] = chance(70) ? next[below(sizeof(next))] : rnd();
		n = chance(80) ? below(128) : below(1200);
		rnd_bytes(b + len, n);
		len += n;
	}
	if (len > cap)
		len = cap;
	return len;
}

/*
 * An ICMPv6 error quoting a packet B sent to A: a payload header with
 * A's tag and a UDP header of the flow, or a control message.
 */
static size_t gen_icmp(const struct world *w, const struct in6_addr *src,
		       const struct in6_addr *dst, unsigned char *b, size_t cap)
{
	static const unsigned char types[] = { 1, 2, 3, 4 };
	struct ip6_hdr ip = {
		.ip6_vfc = 0x60,
		.ip6_nxt = NEXTHDR_SHIM,
		.ip6_hlim = 64,
	};
	size_t len = 8 + sizeof(ip), q, n;

	b[0] = types[below(sizeof(types))];
	b[1] = below(b[0] == 4 ? 4 : 8);
	if (b[0] == 2)
		put32(b + 4, chance(50) ? 1280 + below(300) : rnd());
	else if (b[0] == 4)
		put32(b + 4, chance(60) ? 6 : (chance(50) ? 40 + below(16) : rnd()));
	else
		put32(b + 4, 0);
	ip.ip6_src = chance(70) ? w->b2 : w->b1;
	ip.ip6_dst = chance(70) ? w->a2 : w->a1;
	if (chance(15))
		pick_addr(w, chance(50) ? &ip.ip6_src : &ip.ip6_dst);
	q = len;
	if (chance(60)) {
		/* Shimmed UDP of the flow, B's echo back to A. */
		put_tag(b + q + 2, chance(70) ? w->ct_a : pick_tag(w));
		b[q] = IPPROTO_UDP;
		b[q + 1] = 0;
		b[q + 2] |= 0x80;
		b[q + 8] = PORT >> 8;
		b[q + 9] = PORT & 0xff;
		b[q + 10] = w->client_port >> 8;
		b[q + 11] = w->client_port;
		b[q + 12] = 0;
		b[q + 13] = 72;
		n = below(64);
		rnd_bytes(b + q + 14, 2 + n);
		len = q + 16 + n;
	} else {
		len = q + gen_control(w, b + q, cap - q - 64 > MAX_SHIM ? MAX_SHIM : cap - q - 64);
	}
	if (chance(30) && len > q)
		len = q + below(len - q + 1);
	if (len > MAX_BODY - 8)
		len = MAX_BODY - 8;
	ip.ip6_plen = htons(chance(80) ? len - q : rnd());
	memcpy(b + 8, &ip, sizeof(ip));
	l4_csum(src, dst, IPPROTO_ICMPV6, b, len, 2);
	if (chance(5))
		b[2] ^= 1;
	return len;
}

static void dump(const struct world *w, const unsigned char *p, size_t len)
{
	char line[3 * 32 + 1];

	ksft_print_msg("packet %lu datagram %lu, %zu octets\n", w->index, w->datagrams, len);
	for (size_t i = 0; i < len; i += 32) {
		size_t n = len - i < 32 ? len - i : 32;

		for (size_t j = 0; j < n; j++)
			sprintf(line + 3 * j, "%02x ", p[i + j]);
		ksft_print_msg("  %04zx: %s\n", i, line);
	}
}

/* One datagram: IPv6 header and @len octets of @body. */
static void xmit(struct world *w, const struct in6_addr *src, const struct in6_addr *dst,
		 uint8_t nh, const unsigned char *body, size_t len, size_t plen)
{
	unsigned char pkt[40 + MAX_BODY];
	struct ip6_hdr *ip = (struct ip6_hdr *)pkt;

	if (len > MAX_BODY)
		len = MAX_BODY;
	memset(ip, 0, sizeof(*ip));
	ip->ip6_flow = htonl(6 << 28 | (chance(20) ? below(1 << 20) : 0));
	ip->ip6_plen = htons(plen);
	ip->ip6_nxt = nh;
	ip->ip6_hlim = chance(90) ? 64 : below(256);
	ip->ip6_src = *src;
	ip->ip6_dst = *dst;
	memcpy(pkt + 40, body, len);
	if (w->index >= w->dump_from && w->index <= w->dump_to)
		dump(w, pkt, 40 + len);
	w->datagrams++;
	if (sendto(w->inject, pkt, 40 + len, 0, (struct sockaddr *)&w->to, sizeof(w->to)) < 0) {
		w->errors++;
		w->last_errno = errno;
	}
}

/* @body in two IPv6 fragments (or one atomic fragment), in either order. */
static void xmit_fragments(struct world *w, const struct in6_addr *src,
			   const struct in6_addr *dst, uint8_t nh,
			   const unsigned char *body, size_t len)
{
	unsigned char f[8 + MAX_BODY];
	uint32_t id = rnd();
	size_t cut, max = MAX_BODY - 8;
	bool reverse = chance(30), again = chance(10);

	w->fragmented++;
	max &= ~7UL;
	if (len > 2 * max)
		len = 2 * max;
	if (len <= 8 || chance(5)) {
		/* An atomic fragment: offset 0, no more. */
		f[0] = nh;
		f[1] = 0;
		f[2] = 0;
		f[3] = 0;
		put32(f + 4, id);
		memcpy(f + 8, body, len < max ? len : max);
		xmit(w, src, dst, NEXTHDR_FRAG, f, 8 + (len < max ? len : max),
		     8 + (len < max ? len : max));
		return;
	}
	/* The first piece: 8 octets at least, a multiple of 8, both fit. */
	cut = chance(20) ? 8 : 8 * (1 + below((len - 1) / 8));
	if (cut > max)
		cut = max;
	if (len - cut > max)
		cut = (len - max + 7) & ~7UL;
	for (int i = 0; i < 2 + again; i++) {
		bool first = (i == 0) != reverse || i == 2;
		size_t off = first ? 0 : cut, n = first ? cut : len - cut;

		f[0] = nh;
		f[1] = 0;
		/* Offset in 8-octet units above the M bit: the octets themselves. */
		f[2] = off >> 8;
		f[3] = (off & 0xf8) | first;
		put32(f + 4, id);
		memcpy(f + 8, body + off, n);
		xmit(w, src, dst, NEXTHDR_FRAG, f, 8 + n, 8 + n);
	}
}

/* One fuzz case: a packet built, sent once or twice, maybe fragmented. */
static void fuzz_one(struct world *w)
{
	static unsigned char body[BODY_CAP];
	struct in6_addr src, dst;
	uint8_t nh = NEXTHDR_SHIM;
	size_t len, pre = 0, plen;
	unsigned int r = below(100);

	pick_src(w, &src);
	pick_dst(w, &dst);
	/* Sometimes behind a Destination Options header (PadN). */
	if (chance(5)) {
		pre = 8 * (1 + below(2));
		memset(body, 0, pre);
		body[0] = NEXTHDR_SHIM;
		body[1] = pre / 8 - 1;
		body[2] = 1;
		body[3] = pre - 4;
		nh = NEXTHDR_DEST;
	}
	if (r < 62) {
		len = gen_control(w, body + pre, BODY_CAP - pre);
	} else if (r < 92) {
		if (chance(70))
			src = w->a2;
		if (chance(70))
			dst = w->b2;
		len = gen_payload(w, body + pre, BODY_CAP - pre, 0);
	} else {
		len = gen_icmp(w, &src, &dst, body + pre, MAX_BODY - pre);
		if (pre)
			body[0] = IPPROTO_ICMPV6;
		else
			nh = IPPROTO_ICMPV6;
	}
	len += pre;
	if (len > MAX_BODY || chance(6)) {
		xmit_fragments(w, &src, &dst, nh, body, len);
		return;
	}
	plen = len;
	if (chance(3) && len)
		plen = below(len);
	xmit(w, &src, &dst, nh, body, len, plen);
	if (chance(4)) {
		w->repeated++;
		xmit(w, &src, &dst, nh, body, len, plen);
	}
}

/*
 * Meanwhile, on the other CPU, the flow's own traffic into B: payload
 * headers with B's live tag (UDP it drops after restoring the ULIDs) and
 * datagrams of a second socket of the flow's ULID pair, which A's shim
 * rewrites.  B reads its routes for them while the injected messages
 * change its context (R1bis, Update Requests) and publish new ones.
 */
struct racer {
	const struct world *w;
	int raw;		/* A: IPPROTO_RAW, SHIM_DONTSHIM */
	int sock;		/* A: UDP A1 -> B1:PORT, shares the context */
	int cpu;
	atomic_bool stop;
	unsigned long payloads, datagrams;
};

static bool pin(int cpu)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	return !pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	const struct world *w = r->w;
	/* Its own xorshift: the injected sequence stays the seed's. */
	uint64_t x = w->seed ^ 0x9e3779b97f4a7c15ULL;
	unsigned char pkt[40 + 8 + 8 + 256] = {};
	struct ip6_hdr *ip = (struct ip6_hdr *)pkt;

	pin(r->cpu);
	while (!atomic_load(&r->stop)) {
		uint64_t v;
		size_t n;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		v = x * 0x2545f4914f6cdd1dULL;
		if (!(v & 7)) {
			if (send(r->sock, pkt + 48, 8 + (v >> 8) % 200, 0) > 0)
				r->datagrams++;
			continue;
		}
		n = 8 + (v >> 8) % 256;
		ip->ip6_flow = htonl(6 << 28);
		ip->ip6_plen = htons(8 + n);
		ip->ip6_nxt = NEXTHDR_SHIM;
		ip->ip6_hlim = 64;
		ip->ip6_src = v & 8 ? w->a2 : w->a1;
		ip->ip6_dst = v & 16 ? w->b2 : w->b1;
		pkt[40] = IPPROTO_UDP;
		put_tag(pkt + 42, w->ct_b);
		pkt[42] |= 0x80;
		pkt[48 + 2] = PORT >> 8;
		pkt[48 + 3] = PORT & 0xff;
		pkt[48 + 8] = v >> 32;
		if (sendto(r->raw, pkt, 48 + n, 0, (const struct sockaddr *)&w->to,
			   sizeof(w->to)) > 0)
			r->payloads++;
	}
	return NULL;
}

/* /dev/kmsg: where the sequence is, for whoever reads a kernel report. */
static void kmsg(const struct world *w, const char *what)
{
	char line[160];
	int n;

	if (w->kmsg < 0)
		return;
	n = snprintf(line, sizeof(line), "shim6_fuzz: seed %#" PRIx64 " packet %lu %s\n",
		     w->seed, w->index, what);
	if (write(w->kmsg, line, n) < 0)
		return;
}

static int ns_new(void)
{
	if (unshare(CLONE_NEWNET))
		return -1;
	/* Not close-on-exec: ip finds it as /proc/self/fd/N. */
	return open("/proc/self/ns/net", O_RDONLY);
}

static bool ns_enter(int fd)
{
	return !setns(fd, CLONE_NEWNET);
}

/* @batch through "ip -batch -" in the current namespace. */
static bool ip_batch(const char *batch)
{
	FILE *ip = popen("ip -batch -", "w");

	if (!ip)
		return false;
	if (fputs(batch, ip) < 0) {
		pclose(ip);
		return false;
	}
	return pclose(ip) == 0;
}

static bool hba_set(const char *pds)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "shimctl hba set %s", pds);
	return system(cmd) == 0;
}

/* A and B, the veth between them, the addresses and the HBA sets. */
static bool topology(struct world *w)
{
	char batch[1024];

	w->ns_a = ns_new();
	if (w->ns_a < 0)
		return false;
	w->ns_b = ns_new();
	if (w->ns_b < 0)
		return false;
	snprintf(batch, sizeof(batch),
		 "link set lo up\n"
		 "link add veth-b type veth peer name veth-a netns /proc/self/fd/%d\n"
		 "addr add " B1 "/64 dev veth-b nodad\n"
		 "addr add " B2 "/64 dev veth-b nodad\n"
		 "link set veth-b up\n", w->ns_a);
	if (!ip_batch(batch) || !hba_set(pds_b))
		return false;
	if (!ns_enter(w->ns_a))
		return false;
	return ip_batch("link set lo up\n"
			"addr add " A1 "/64 dev veth-a nodad\n"
			"addr add " A2 "/64 dev veth-a nodad\n"
			"link set veth-a up\n") &&
	       hba_set(pds_a);
}

static struct sockaddr_in6 sa(const struct in6_addr *a, int port)
{
	struct sockaddr_in6 s = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
		.sin6_addr = *a,
	};

	return s;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * One echo: A sends a numbered datagram, B echoes what carries the marker
 * (and drops anything else the fuzzing left in its queue), A reads until
 * its datagram is back.
 */
static bool round_trip(struct world *w, int ms)
{
	char out[64] = {}, in[2048];
	long long end = now_ms() + ms;
	bool echoed = false;

	snprintf(out, sizeof(out), "%s %lu", SHIM6_MARKER, ++w->seq);
	/* A pending ICMP error of the flow fails one send. */
	if (send(w->client, out, sizeof(out), 0) != sizeof(out) &&
	    send(w->client, out, sizeof(out), 0) != sizeof(out))
		return false;
	while (!echoed) {
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		int left = end - now_ms();

		if (left <= 0 || !readable(w->server, left))
			return false;
		n = recvfrom(w->server, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n != sizeof(out) || memcmp(in, out, sizeof(out)))
			continue;
		if (sendto(w->server, in, n, 0, (struct sockaddr *)&from, fl) != n)
			return false;
		echoed = true;
	}
	for (;;) {
		int left = end - now_ms();
		ssize_t n;

		if (left <= 0 || !readable(w->client, left))
			return false;
		n = recv(w->client, in, sizeof(in), MSG_DONTWAIT);
		if (n == sizeof(out) && !memcmp(in, out, sizeof(out)))
			return true;
	}
}

/* Every SHIM6 header a capture socket holds, as templates. */
static void collect(struct world *w, int cap, const char *side)
{
	unsigned char b[MAX_SHIM];
	ssize_t n;

	while ((n = recv(cap, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		static const char * const names[] = {
			[T_I1] = "I1", [T_R1] = "R1", [T_I2] = "I2", [T_R2] = "R2",
			[T_R1BIS] = "R1bis(B)", [T_I2BIS] = "I2bis",
		};
		const char *what;
		int type = b[2] & 0x7f;

		if (n < 8)
			continue;
		if (b[2] & 0x80)
			what = "payload";
		else if (type < (int)ARRAY_SIZE(names) && names[type])
			what = names[type];
		else if (type == T_UPDATE_ACK)
			what = "UpdateAck(B)";
		else if (type == T_UPDATE_REQ)
			what = "UpdateRequest(A)";
		else
			what = "other";
		/* Two of a kind are enough. */
		{
			int same = 0;

			for (int i = 0; i < w->nt; i++)
				same += !strcmp(w->t[i].what, what);
			if (same >= 2)
				continue;
		}
		ksft_print_msg("captured at %s: %s, %zd octets\n", side, what, n);
		tmpl_copy(w, what, b, n);
	}
}

/* The options of A's I2 that the messages built here reuse. */
static void take_options(struct world *w)
{
	const struct tmpl *i2 = tmpl_find(w, "I2");
	size_t at, total;

	if (!i2)
		return;
	at = opt_find(i2->b, i2->len, O_VALIDATOR, &total);
	if (at && total <= sizeof(w->validator)) {
		memcpy(w->validator, i2->b + at, total);
		w->validator_len = total;
	}
	at = opt_find(i2->b, i2->len, O_LOCLIST, &total);
	if (at && total <= sizeof(w->loclist)) {
		memcpy(w->loclist, i2->b + at, total);
		w->loclist_len = total;
	}
	at = opt_find(i2->b, i2->len, O_PDS, &total);
	if (at && total <= sizeof(w->pds)) {
		memcpy(w->pds, i2->b + at, total);
		w->pds_len = total;
	}
}

/* What "shimctl -j context show" prints in B, NUL-terminated. */
static bool b_contexts(struct world *w, char *buf, size_t size)
{
	size_t len = 0, n;
	FILE *f;

	if (!ns_enter(w->ns_b))
		return false;
	f = popen("shimctl -j context show", "r");
	if (!f)
		return false;
	while (len + 1 < size && (n = fread(buf + len, 1, size - len - 1, f)) > 0)
		len += n;
	buf[len] = '\0';
	return pclose(f) == 0;
}

/* The JSON object of B's context for the flow (ULIDs B1, A1), cut out of @buf. */
static char *flow_context(char *buf)
{
	char *p = strstr(buf, "\"ulid_local\":\"" B1 "\",\"ulid_peer\":\"" A1 "\"");
	char *end;

	if (!p)
		return NULL;
	end = strchr(p, '}');
	if (end)
		end[1] = '\0';
	return p;
}

static bool json_u64(const char *obj, const char *key, uint64_t *v)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(obj, k);
	if (!p || !(p[strlen(k)] >= '0' && p[strlen(k)] <= '9'))
		return false;
	*v = strtoull(p + strlen(k), NULL, 10);
	return true;
}

/* Whether the list @key of @obj holds @addr. */
static bool json_lists(const char *obj, const char *key, const char *addr)
{
	char k[64], a[64];
	const char *p, *end;

	snprintf(k, sizeof(k), "\"%s\":[", key);
	snprintf(a, sizeof(a), "\"%s\"", addr);
	p = strstr(obj, k);
	if (!p)
		return false;
	end = strchr(p, ']');
	p = strstr(p, a);
	return p && end && p < end;
}

static unsigned long fuzz_count(void)
{
	const char *env = getenv("SHIM6_FUZZ_COUNT");

	return env && *env ? strtoul(env, NULL, 0) : FUZZ_COUNT;
}

FIXTURE(fuzz) {
	struct world w;
};

FIXTURE_SETUP(fuzz)
{
	struct world *w = &self->w;
	struct sockaddr_in6 a1, b1;
	struct shim_locator loc = { .lc_family = AF_INET6 };
	unsigned char probe[128];
	socklen_t len;
	int cap_a, cap_b, big = 1 << 20, i;
	char json[8192], *ctx;
	const struct tmpl *pl;
	long long start = now_ms();
	const char *env;
	size_t at;

	w->ns_a = w->ns_b = w->client = w->server = w->inject = w->kmsg = -1;
	w->seed = FUZZ_SEED;
	env = getenv("SHIM6_FUZZ_SEED");
	if (env && *env)
		w->seed = strtoull(env, NULL, 0);
	/* xorshift stays at 0 from 0. */
	rng = w->seed ? w->seed : 1;
	/* Nothing dumped unless SHIM6_FUZZ_DUMP says so. */
	w->dump_from = 1;
	w->dump_to = 0;
	/* The VM runner loads the module first: without it, fail. */
	ASSERT_TRUE(shim6_loaded());
	w->a1 = addr6(A1);
	w->a2 = addr6(A2);
	w->b1 = addr6(B1);
	w->b2 = addr6(B2);
	ASSERT_TRUE(topology(w));

	/* B: the echo server and a copy of the SHIM6 packets it receives. */
	ASSERT_TRUE(ns_enter(w->ns_b));
	cap_b = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, NEXTHDR_SHIM);
	ASSERT_LE(0, cap_b);
	ASSERT_EQ(0, setsockopt(cap_b, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)));
	w->server = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, w->server);
	b1 = sa(&w->b1, PORT);
	ASSERT_EQ(0, bind(w->server, (struct sockaddr *)&b1, sizeof(b1)));

	/* A: the flow's client, the injector and a copy of what A receives. */
	ASSERT_TRUE(ns_enter(w->ns_a));
	cap_a = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, NEXTHDR_SHIM);
	ASSERT_LE(0, cap_a);
	w->inject = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	ASSERT_LE(0, w->inject);
	/* A's own shim must not rewrite or answer for what is injected. */
	ASSERT_EQ(0, shim_set_int(w->inject, SHIM_DONTSHIM, 1));
	ASSERT_EQ(0, setsockopt(w->inject, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)));
	w->to = sa(&w->b1, 0);
	w->client = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, w->client);
	a1 = sa(&w->a1, 0);
	ASSERT_EQ(0, bind(w->client, (struct sockaddr *)&a1, sizeof(a1)));
	ASSERT_EQ(0, connect(w->client, (struct sockaddr *)&b1, sizeof(b1)));
	len = sizeof(a1);
	ASSERT_EQ(0, getsockname(w->client, (struct sockaddr *)&a1, &len));
	w->client_port = ntohs(a1.sin6_port);

	/* Deferred setup: the flow goes at once, the context forms beside it. */
	for (i = 0; i < 100; i++) {
		ASSERT_TRUE(round_trip(w, 3000));
		if (shim_get_int(w->client, SHIM_ASSOCIATED) == 1)
			break;
		usleep(50000);
	}
	ASSERT_EQ(1, shim_get_int(w->client, SHIM_ASSOCIATED));
	/* The flow moves to A2 -> B2: its packets carry B's tag. */
	memcpy(loc.lc_addr, &w->a2, 16);
	ASSERT_EQ(0, shim_set(w->client, SHIM_LOC_LOCAL_PREF, &loc, sizeof(loc)));
	memcpy(loc.lc_addr, &w->b2, 16);
	ASSERT_EQ(0, shim_set(w->client, SHIM_LOC_PEER_PREF, &loc, sizeof(loc)));
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(round_trip(w, 3000));

	ASSERT_TRUE(b_contexts(w, json, sizeof(json)));
	ctx = flow_context(json);
	ASSERT_NE(NULL, ctx) TH_LOG("B's contexts: %s", json);
	ASSERT_TRUE(json_u64(ctx, "ct_local", &w->ct_b));
	ASSERT_TRUE(json_u64(ctx, "ct_peer", &w->ct_a));
	ksft_print_msg("context: B's ct_local %#" PRIx64 ", ct_peer %#" PRIx64 "\n",
		       w->ct_b, w->ct_a);

	collect(w, cap_b, "B");
	collect(w, cap_a, "A");
	ASSERT_NE(NULL, tmpl_find(w, "I1"));
	ASSERT_NE(NULL, tmpl_find(w, "I2"));
	ASSERT_NE(NULL, tmpl_find(w, "R1"));
	ASSERT_NE(NULL, tmpl_find(w, "R2"));
	pl = tmpl_find(w, "payload");
	ASSERT_NE(NULL, pl);
	/* The moved flow's payload header names B's tag. */
	{
		uint64_t tag = 0;

		for (i = 2; i < 8; i++)
			tag = tag << 8 | pl->b[i];
		ASSERT_EQ(w->ct_b, tag & TAG_MASK);
	}
	take_options(w);
	ASSERT_NE(0, w->loclist_len);
	ASSERT_NE(0, w->pds_len);

	/*
	 * Two probes from A2 to B2: a payload header with a tag B does not
	 * know draws an R1bis, an Update Request built here (A's list, a new
	 * generation) an Update Acknowledgement.
	 */
	ASSERT_TRUE(ns_enter(w->ns_a));
	memset(probe, 0, 16);
	probe[0] = NEXTHDR_NONE;
	put_tag(probe + 2, w->ct_b ^ 0x5a5a);
	probe[2] |= 0x80;
	xmit(w, &w->a2, &w->b2, NEXTHDR_SHIM, probe, 16, 16);
	{
		unsigned char h[MAX_SHIM];

		at = msg_begin(h, T_UPDATE_REQ, 16);
		put_tag(h + 6, w->ct_b);
		rnd_bytes(h + 12, 4);
		at = put_locators(w, h, at, true);
		msg_end(h, at);
		xmit(w, &w->a2, &w->b2, NEXTHDR_SHIM, h, at, at);
	}
	ASSERT_EQ(0, w->errors) TH_LOG("sendto: %s", strerror(w->last_errno));
	for (i = 0; i < 20 && !(tmpl_find(w, "R1bis(B)") && tmpl_find(w, "UpdateAck(B)")); i++) {
		usleep(100000);
		collect(w, cap_a, "A");
	}
	ASSERT_NE(NULL, tmpl_find(w, "R1bis(B)"));
	ASSERT_NE(NULL, tmpl_find(w, "UpdateAck(B)"));
	w->datagrams = 0;
	close(cap_a);
	close(cap_b);

	build_templates(w);
	ksft_print_msg("%d templates; namespaces, context and templates took %.1f s\n",
		       w->nt, (now_ms() - start) / 1000.0);
	w->kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

FIXTURE_TEARDOWN(fuzz)
{
	struct world *w = &self->w;
	int fds[] = { w->client, w->server, w->inject, w->kmsg, w->ns_a, w->ns_b };

	/* The namespaces go with the last reference to them: ours. */
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

TEST_F_TIMEOUT(fuzz, context_survives_random_and_mutated_packets, 290)
{
	struct world *w = &self->w;
	const char *env;
	unsigned long count;
	struct shim_locator loc = { .lc_family = AF_INET6 };
	uint64_t in_before = 0, in_after = 0;
	long long start, elapsed, recovered;
	char json[8192], *ctx = NULL;
	const char *local = A2;
	struct racer racer = { .w = w, .raw = -1, .sock = -1 };
	bool ok = false, racing = false;
	int i, tries = 0, lost = 0;
	pthread_t thread;

	count = fuzz_count();
	env = getenv("SHIM6_FUZZ_DUMP");
	if (env && sscanf(env, "%lu-%lu", &w->dump_from, &w->dump_to) == 1)
		w->dump_to = w->dump_from;
	/* The same sequence whatever the setup drew. */
	rng = w->seed ? w->seed : 1;
	ksft_print_msg("seed %#" PRIx64 " (SHIM6_FUZZ_SEED replays it), count %lu (SHIM6_FUZZ_COUNT)\n",
		       w->seed, count);

	ASSERT_TRUE(ns_enter(w->ns_a));
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		struct sockaddr_in6 a1 = sa(&w->a1, 0), b1 = sa(&w->b1, PORT);

		racer.raw = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		ASSERT_LE(0, racer.raw);
		ASSERT_EQ(0, shim_set_int(racer.raw, SHIM_DONTSHIM, 1));
		racer.sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, racer.sock);
		ASSERT_EQ(0, bind(racer.sock, (struct sockaddr *)&a1, sizeof(a1)));
		ASSERT_EQ(0, connect(racer.sock, (struct sockaddr *)&b1, sizeof(b1)));
		ASSERT_TRUE(pin(0));
		racer.cpu = 1;
		ASSERT_EQ(0, pthread_create(&thread, NULL, race, &racer));
		racing = true;
	}
	kmsg(w, "start");
	start = now_ms();
	for (w->index = 0; w->index < count; w->index++) {
		if (w->index % KMSG_EVERY == 0)
			kmsg(w, "");
		if (w->index && w->index % PROGRESS_EVERY == 0)
			ksft_print_msg("%lu packets, %.1f s\n", w->index,
				       (now_ms() - start) / 1000.0);
		fuzz_one(w);
	}
	elapsed = now_ms() - start;
	kmsg(w, "end");
	if (racing) {
		atomic_store(&racer.stop, true);
		pthread_join(thread, NULL);
		close(racer.sock);
		close(racer.raw);
	}
	/* What B's server holds now is not the flow's. */
	while (recv(w->server, json, sizeof(json), MSG_DONTWAIT) >= 0)
		;
	ksft_print_msg("injected %lu packets in %.1f s: %lu datagrams, %lu fragmented, %lu sent twice, %lu refused by sendto (last: %s)\n",
		       count, elapsed / 1000.0, w->datagrams, w->fragmented, w->repeated,
		       w->errors, w->errors ? strerror(w->last_errno) : "none");
	if (racing)
		ksft_print_msg("meanwhile on CPU 1: %lu payload headers with B's tag, %lu datagrams of the flow's ULIDs\n",
			       racer.payloads, racer.datagrams);
	/* Every datagram fits the link: sendto refuses none. */
	EXPECT_EQ(0, w->errors);

	/*
	 * B's context for the flow, established: a forged R1bis or Update
	 * Request with the live tag may have sent B through I2bis or I1
	 * again, which the flow's own traffic completes.
	 */
	start = now_ms();
	while (now_ms() - start < RECOVER_MS) {
		tries++;
		lost += !round_trip(w, 1000);
		if (b_contexts(w, json, sizeof(json))) {
			ctx = flow_context(json);
			if (ctx && strstr(ctx, "\"state\":\"established\"") &&
			    shim_get_int(w->client, SHIM_ASSOCIATED) == 1)
				break;
		}
		ctx = NULL;
	}
	recovered = now_ms() - start;
	ASSERT_NE(NULL, ctx) TH_LOG("B's contexts after %lld ms: %s", recovered, json);
	ksft_print_msg("B's context for the flow established %lld ms after the injection (%d of %d echoes lost meanwhile): %s\n",
		       recovered, lost, tries, ctx);
	ASSERT_EQ(1, shim_get_int(w->client, SHIM_ASSOCIATED));

	/*
	 * The flow, shimmed, on a locator of A's that B still takes for A's:
	 * an Update Request with the live tag and a locator less, which an
	 * on-path sender may forge, makes B drop A2.
	 */
	if (!json_lists(ctx, "peer_locators", A2)) {
		local = A1;
		ksft_print_msg("B no longer lists A2 among A's locators: the flow goes A1 -> B2\n");
	}
	ASSERT_TRUE(json_u64(ctx, "packets_in", &in_before));
	inet_pton(AF_INET6, local, loc.lc_addr);
	ASSERT_EQ(0, shim_set(w->client, SHIM_LOC_LOCAL_PREF, &loc, sizeof(loc)));
	memcpy(loc.lc_addr, &w->b2, 16);
	ASSERT_EQ(0, shim_set(w->client, SHIM_LOC_PEER_PREF, &loc, sizeof(loc)));
	for (i = 0; i < 10; i++) {
		ok = round_trip(w, 3000);
		if (!ok)
			break;
	}
	EXPECT_TRUE(ok) TH_LOG("echo %d of 10 on %s -> " B2 " did not come back", i + 1, local);
	ASSERT_EQ(1, shim_get_int(w->client, SHIM_ASSOCIATED));
	ASSERT_TRUE(b_contexts(w, json, sizeof(json)));
	ctx = flow_context(json);
	ASSERT_NE(NULL, ctx) TH_LOG("B's contexts: %s", json);
	ASSERT_TRUE(json_u64(ctx, "packets_in", &in_after));
	/* B took them in through its context: with the payload header. */
	EXPECT_LE(in_before + 10, in_after) TH_LOG("B: %s", ctx);
	ksft_print_msg("10 echoes on %s -> " B2 ", shimmed: B's context counted %" PRIu64 " in\n",
		       local, in_after - in_before);
}

/*
 * The harness's timeout for the test, scaled to SHIM6_FUZZ_COUNT: under
 * TCG a packet takes up to TCG_MS_PER_PACKET.
 */
static void __attribute__((constructor(KSELFTEST_PRIO_XFAIL + 1))) fuzz_timeout(void)
{
	struct __test_metadata *t = _fuzz_context_survives_random_and_mutated_packets_object;
	unsigned long s = FIXED_S + fuzz_count() * TCG_MS_PER_PACKET / 1000;

	if (t && s > (unsigned long)t->timeout)
		t->timeout = s;
}

TEST_HARNESS_MAIN
