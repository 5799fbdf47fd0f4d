// SPDX-License-Identifier: GPL-2.0
/*
 * A namespace's contexts under load.
 *
 * Each test gets its own network namespace holding one HBA set over two
 * prefixes (addresses X1 and X2) on a dummy link, as shim6_ctxopt does: a
 * flow X1 -> X2 sets up a context with the namespace itself, whose
 * locators are {X1, X2} on both sides.
 *
 * send_locators_race_traffic: two threads on different CPUs keep setting
 * and clearing a socket's sticky SHIM_LOC_LOCAL_SEND and SHIM_LOC_PEER_SEND
 * while a third sends datagrams on it: every option call succeeds and
 * every datagram arrives intact, on whichever locator pair it was sent.
 *
 * context_limit_is_a_setting: a namespace keeps SHIM6_MAX_CONTEXTS_DEFAULT
 * contexts unless "shimctl set max-contexts N" says otherwise; 0 and
 * values past SHIM6_MAX_CONTEXTS_LIMIT are out of range; "shimctl stats
 * show" reports the limit and the count.
 *
 * full_table_admits_a_legitimate_peer: with the limit set to 1024, a
 * socket sends to more peers than the namespace keeps contexts for.
 * The peers sit behind the dummy link and never answer, so their contexts
 * stay in I1-SENT, which a full table may evict (eviction_rank,
 * src/proto/context.rs).  The table stops at 1024, and a peer that
 * answers still gets an established context.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "kselftest_harness.h"
#include "shim6_lib.h"

#define X1 "2001:db8:11:0:882:6029:c1fc:8bef"
#define X2 "2001:db8:12:0:10ae:5f53:2cc0:8bd8"
/* shimctl hba modifier 00112233445566778899aabbccddeeff extended-modifier
 * 0...07 2001:db8:11::/64 2001:db8:12::/64
 */
static const char pds[] =
	"00112233445566778899aabbccddeeff20010db80011000000301c300d06092a864886f70d0101010500030b0030080201070203010001001200140000000020010db80011000020010db800120000";
#define PORT 7011

/* The table's size in the flood test ("shimctl set max-contexts"). */
#define MAX_CONTEXTS 1024
/* Peers of the flood: enough to overflow the table by 76. */
#define FLOOD 1100
/*
 * New contexts are limited to 50 per second after a burst of 50
 * (Limits::default() in src/proto/context.rs); a refused one just goes
 * unshimmed, and the table would never fill.  So the first FLOOD_BURST
 * peers go at once, then one per FLOOD_GAP_MS, measured from the previous
 * send so that a slow send is never caught up with a burst: 47.6 per
 * second, about 22 s for the 1100 peers.  That fits the test's minute
 * even under TCG, so the count is not reduced.
 */
#define FLOOD_BURST 40
#define FLOOD_GAP_MS 21

/* How long the threads race: RACE_MS, and on until RACE_DATAGRAMS went
 * (an emulated VM shared with other jobs may be slow), but no longer
 * than RACE_MAX_MS.
 */
#define RACE_MS 3000
#define RACE_DATAGRAMS 200
#define RACE_MAX_MS 20000

static struct shim_locator loc(const char *addr)
{
	struct shim_locator l = { .lc_family = AF_INET6 };

	inet_pton(AF_INET6, addr, l.lc_addr);
	return l;
}

static struct sockaddr_in6 sa(const char *addr, int port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, addr, &s.sin6_addr);
	return s;
}

static bool same_addr(const struct in6_addr *a, const char *addr)
{
	struct sockaddr_in6 s = sa(addr, 0);

	return !memcmp(a, &s.sin6_addr, sizeof(*a));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A network namespace of our own with X1 and X2 (the HBA set) on d0, a
 * dummy: whatever is routed there vanishes.  One "ip -batch": every exec
 * is slow in the emulated VM.
 */
static bool netns_setup(struct __test_metadata *_metadata)
{
	static const char setup[] =
		"link set lo up\n"
		"link add d0 type dummy\n"
		"link set d0 up\n"
		"addr add " X1 "/64 dev d0 nodad\n"
		"addr add " X2 "/64 dev d0 nodad\n";
	char cmd[256];
	FILE *ip;

	if (unshare(CLONE_NEWNET))
		return false;
	ip = popen("ip -batch -", "w");
	if (!ip)
		return false;
	if (fputs(setup, ip) < 0 || pclose(ip) != 0) {
		TH_LOG("ip -batch failed");
		return false;
	}
	snprintf(cmd, sizeof(cmd), "shimctl hba set %s", pds);
	return system(cmd) == 0;
}

/* What "shimctl -j context show" prints, NUL-terminated, or NULL. */
static char *contexts_json(void)
{
	size_t len = 0, size = 1 << 16;
	char *buf = malloc(size);
	FILE *f = popen("shimctl -j context show", "r");
	size_t n;

	if (!buf || !f) {
		free(buf);
		if (f)
			pclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, size - len - 1, f)) > 0) {
		len += n;
		if (size - len - 1 == 0) {
			char *more = realloc(buf, size * 2);

			if (!more)
				break;
			buf = more;
			size *= 2;
		}
	}
	buf[len] = '\0';
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The value of gauge or counter @name in "shimctl stats show", or -1. */
static long long stat_value(const char *name)
{
	FILE *f = popen("shimctl stats show", "r");
	char key[64];
	long long v, found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	pclose(f);
	return found;
}

/* Whether @json holds a context whose peer ULID is @addr. */
static bool has_peer(const char *json, const struct in6_addr *addr)
{
	char text[INET6_ADDRSTRLEN], key[128];

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(key, sizeof(key), "\"ulid_peer\":\"%s\"", text);
	return strstr(json, key);
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
	/* The VM runner loads the module first: without it, fail. */
	ASSERT_TRUE(shim6_loaded());
	ASSERT_TRUE(netns_setup(_metadata));
}

FIXTURE_TEARDOWN(stress)
{
}

/* Until SHIM_ASSOCIATED is 1 on @fd (connected to @server), one datagram
 * at a time: the context forms beside the flow (deferred setup).
 */
static bool associate(int fd, int server)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = server, .events = POLLIN };
		char buf[64];

		if (send(fd, "associate", 9, 0) != 9)
			return false;
		if (poll(&p, 1, 2000) != 1 || recv(server, buf, sizeof(buf), 0) != 9)
			return false;
		if (shim_get_int(fd, SHIM_ASSOCIATED) == 1)
			return true;
		usleep(50000);
	}
	return false;
}

struct race {
	int fd;			/* X1 -> X2, under test */
	int server;		/* X2, connected back to fd */
	atomic_bool stop;
	/* First failure of a thread, as text; set once. */
	_Atomic(const char *) failure;
	atomic_int failure_errno;
	/* Per setter: calls that succeeded. */
	atomic_ulong sets[2];
	/* Datagrams that arrived intact, by the locators they came on:
	 * [2 * src + dst], src and dst 0 for X1, 1 for X2, as the client
	 * sent them ([1] is the ULID pair).
	 */
	unsigned long paths[4];
	atomic_ulong sent;
};

static void fail(struct race *r, const char *what, int err)
{
	const char *none = NULL;

	if (atomic_compare_exchange_strong(&r->failure, &none, what))
		r->failure_errno = err;
	r->stop = true;
}

struct setter {
	struct race *race;
	int cpu;
	int opt;
	const char *addr;
	int index;
};

static void *setter(void *arg)
{
	struct setter *s = arg;
	struct race *r = s->race;
	struct shim_locator on = loc(s->addr), off = {};
	cpu_set_t cpus;
	int err;

	CPU_ZERO(&cpus);
	CPU_SET(s->cpu, &cpus);
	err = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (err) {
		fail(r, "pinning a thread to its CPU", err);
		return NULL;
	}
	while (!r->stop) {
		err = shim_set(r->fd, s->opt, &on, sizeof(on));
		if (err) {
			fail(r, "setting a locator", err);
			break;
		}
		err = shim_set(r->fd, s->opt, &off, sizeof(off));
		if (err) {
			fail(r, "clearing a locator", err);
			break;
		}
		r->sets[s->index] += 2;
	}
	return NULL;
}

/* The path a datagram's control messages say it came on (see struct
 * race), or -1 when they are missing or name locators that are not ours.
 * A datagram that travelled on the ULIDs reports them.
 */
static int path_of(struct msghdr *m)
{
	struct sockaddr_in6 *local = NULL, *peer = NULL;
	struct cmsghdr *c;
	int src, dst;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SHIM || c->cmsg_len != CMSG_LEN(sizeof(*local)))
			return -1;
		if (c->cmsg_type == SHIM_LOC_LOCAL_RECV)
			local = (struct sockaddr_in6 *)CMSG_DATA(c);
		else if (c->cmsg_type == SHIM_LOC_PEER_RECV)
			peer = (struct sockaddr_in6 *)CMSG_DATA(c);
	}
	if (!local || !peer)
		return -1;
	/* The server's peer locator is the client's source. */
	src = same_addr(&peer->sin6_addr, X1) ? 0 : same_addr(&peer->sin6_addr, X2) ? 1 : -1;
	dst = same_addr(&local->sin6_addr, X1) ? 0 : same_addr(&local->sin6_addr, X2) ? 1 : -1;
	if (src < 0 || dst < 0)
		return -1;
	return 2 * src + dst;
}

/* Datagram @seq: its number, then octets that depend on it. */
static void fill(unsigned char *buf, size_t len, unsigned int seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < len; i++)
		buf[i] = (unsigned char)(seq * 31 + i);
}

/* Sends datagram after datagram and reads each back at the server: none
 * may be lost (nothing else is in flight, so no buffer overflows) or
 * changed, whatever locators it went on.
 */
static void *sender(void *arg)
{
	struct race *r = arg;
	unsigned char out[200], in[256];
	char control[2 * CMSG_SPACE(sizeof(struct sockaddr_in6))];

	for (unsigned int seq = 0; !r->stop; seq++) {
		struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control, .msg_controllen = sizeof(control),
		};
		struct pollfd p = { .fd = r->server, .events = POLLIN };
		ssize_t n;
		int path;

		fill(out, sizeof(out), seq);
		n = send(r->fd, out, sizeof(out), 0);
		if (n != sizeof(out)) {
			fail(r, "send", n < 0 ? errno : EMSGSIZE);
			break;
		}
		r->sent++;
		if (poll(&p, 1, 2000) != 1) {
			fail(r, "a datagram did not arrive within 2 s", 0);
			break;
		}
		n = recvmsg(r->server, &m, MSG_DONTWAIT);
		if (n < 0) {
			fail(r, "recvmsg", errno);
			break;
		}
		if (n != sizeof(out) || memcmp(in, out, sizeof(out))) {
			fail(r, "a datagram arrived changed or out of order", 0);
			break;
		}
		path = path_of(&m);
		if (path < 0) {
			fail(r, "a datagram's SOL_SHIM cmsgs are missing or wrong", 0);
			break;
		}
		r->paths[path]++;
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, send_locators_race_traffic, 60)
{
	struct sockaddr_in6 x1 = sa(X1, 0), x2 = sa(X2, PORT), client;
	socklen_t cl = sizeof(client);
	struct race r = { .stop = false };
	struct setter local = {
		.race = &r, .cpu = 0, .opt = SHIM_LOC_LOCAL_SEND, .addr = X2, .index = 0,
	};
	struct setter peer = {
		.race = &r, .cpu = 1, .opt = SHIM_LOC_PEER_SEND, .addr = X1, .index = 1,
	};
	pthread_t threads[3];
	int seen = 0, big = 1 << 20;
	struct shim_locator zero = {};
	char buf[64] = "cleared", control[2 * CMSG_SPACE(sizeof(struct sockaddr_in6))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct pollfd p;
	const char *failure;

	/* Two CPUs, so that the setters really run at the same time. */
	ASSERT_LE(2, sysconf(_SC_NPROCESSORS_ONLN));
	r.server = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, r.server);
	ASSERT_EQ(0, setsockopt(r.server, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)));
	ASSERT_EQ(0, bind(r.server, (struct sockaddr *)&x2, sizeof(x2)));
	r.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, bind(r.fd, (struct sockaddr *)&x1, sizeof(x1)));
	ASSERT_EQ(0, connect(r.fd, (struct sockaddr *)&x2, sizeof(x2)));
	ASSERT_TRUE(associate(r.fd, r.server));
	/* The server reports the locators each datagram came on; the RECV
	 * options need its context, so it is connected too.
	 */
	ASSERT_EQ(0, getsockname(r.fd, (struct sockaddr *)&client, &cl));
	ASSERT_EQ(0, connect(r.server, (struct sockaddr *)&client, cl));
	ASSERT_EQ(0, shim_set_int(r.server, SHIM_LOC_LOCAL_RECV, 1));
	ASSERT_EQ(0, shim_set_int(r.server, SHIM_LOC_PEER_RECV, 1));
	p = (struct pollfd){ .fd = r.server, .events = POLLIN };

	ASSERT_EQ(0, pthread_create(&threads[0], NULL, setter, &local));
	ASSERT_EQ(0, pthread_create(&threads[1], NULL, setter, &peer));
	ASSERT_EQ(0, pthread_create(&threads[2], NULL, sender, &r));
	for (long long t0 = now_ms(), t = t0; !r.stop; t = now_ms()) {
		if (t - t0 >= RACE_MAX_MS || (t - t0 >= RACE_MS && r.sent >= RACE_DATAGRAMS))
			break;
		usleep(10000);
	}
	r.stop = true;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));

	TH_LOG("%lu datagrams, on X1>X1 %lu, X1>X2 (the ULIDs) %lu, X2>X1 %lu, X2>X2 %lu; %lu + %lu option calls",
	       (unsigned long)r.sent, r.paths[0], r.paths[1], r.paths[2], r.paths[3],
	       (unsigned long)r.sets[0], (unsigned long)r.sets[1]);
	failure = r.failure;
	if (failure)
		TH_LOG("failed: %s (%s)", failure, strerror(r.failure_errno));
	ASSERT_TRUE(failure == NULL);
	/* The race ran: many calls on both options, many datagrams ... */
	EXPECT_LT(100, r.sets[0]);
	EXPECT_LT(100, r.sets[1]);
	EXPECT_LE(RACE_DATAGRAMS, r.sent);
	/* ... and every choice of the two options took effect on some
	 * datagrams (each is about a quarter of them).
	 */
	for (int i = 0; i < 4; i++)
		seen += r.paths[i] > 0;
	EXPECT_EQ(4, seen);
	/* After the storm, both cleared: the context is intact and the flow
	 * is back on the ULIDs.
	 */
	ASSERT_EQ(0, shim_set(r.fd, SHIM_LOC_LOCAL_SEND, &zero, sizeof(zero)));
	ASSERT_EQ(0, shim_set(r.fd, SHIM_LOC_PEER_SEND, &zero, sizeof(zero)));
	EXPECT_EQ(1, shim_get_int(r.fd, SHIM_ASSOCIATED));
	ASSERT_EQ(sizeof(buf), send(r.fd, buf, sizeof(buf), 0));
	ASSERT_EQ(1, poll(&p, 1, 2000));
	ASSERT_EQ(sizeof(buf), recvmsg(r.server, &m, 0));
	EXPECT_EQ(1, path_of(&m));
	close(r.fd);
	close(r.server);
}

/* Flood peer @i: in X1's prefix, on the dummy link, never answering. */
static struct sockaddr_in6 flood_peer(int i)
{
	struct sockaddr_in6 s = sa("2001:db8:11::f:0", PORT);

	s.sin6_addr.s6_addr[14] = i >> 8;
	s.sin6_addr.s6_addr[15] = i & 0xff;
	return s;
}

/* Eleven shimctl runs, each an exec under TCG: past the harness's 30 s
 * once under kmemleak.
 */
TEST_F_TIMEOUT(stress, context_limit_is_a_setting, 120)
{
	char cmd[64];

	EXPECT_EQ(SHIM6_MAX_CONTEXTS_DEFAULT, stat_value("max_contexts"));
	EXPECT_EQ(0, stat_value("contexts"));
	EXPECT_NE(0, system("shimctl set max-contexts 0 2>/dev/null"));
	snprintf(cmd, sizeof(cmd), "shimctl set max-contexts %d 2>/dev/null",
		 SHIM6_MAX_CONTEXTS_LIMIT + 1);
	EXPECT_NE(0, system(cmd));
	EXPECT_EQ(SHIM6_MAX_CONTEXTS_DEFAULT, stat_value("max_contexts"));
	snprintf(cmd, sizeof(cmd), "shimctl set max-contexts %d",
		 SHIM6_MAX_CONTEXTS_LIMIT);
	EXPECT_EQ(0, system(cmd));
	EXPECT_EQ(SHIM6_MAX_CONTEXTS_LIMIT, stat_value("max_contexts"));
	EXPECT_EQ(0, system("shimctl set max-contexts 1024"));
	EXPECT_EQ(1024, stat_value("max_contexts"));
}

TEST_F_TIMEOUT(stress, full_table_admits_a_legitimate_peer, 120)
{
	struct sockaddr_in6 x1 = sa(X1, 0), x2 = sa(X2, PORT), p;
	long long start = now_ms(), last = 0, first100 = 0, last100 = 0;
	int fd, client, server, n, i, late = 0;
	char *json;

	ASSERT_EQ(0, system("shimctl set max-contexts 1024"));
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&x1, sizeof(x1)));
	for (i = 0; i < FLOOD; i++) {
		if (i >= FLOOD_BURST) {
			long long wait = last + FLOOD_GAP_MS - now_ms();

			if (wait > 0)
				usleep(wait * 1000);
		}
		last = now_ms();
		p = flood_peer(i);
		ASSERT_EQ(9, sendto(fd, "flood-udp", 9, 0, (struct sockaddr *)&p, sizeof(p)));
		/* What a new context costs, empty table against full. */
		if (i < 100)
			first100 += now_ms() - last;
		else if (i >= FLOOD - 100)
			last100 += now_ms() - last;
	}
	TH_LOG("%d peers in %lld ms; sendto() took %lld ms for the first 100, %lld ms for the last 100",
	       FLOOD, now_ms() - start, first100, last100);

	/* Every peer had its turn (the pacing keeps within the rate limit):
	 * 1100 contexts were started, 1024 are kept.
	 */
	json = contexts_json();
	ASSERT_NE(NULL, json);
	n = count(json, "\"state\":");
	EXPECT_EQ(MAX_CONTEXTS, n);
	EXPECT_EQ(MAX_CONTEXTS, stat_value("contexts"));
	EXPECT_EQ(n, count(json, "\"state\":\"i1-sent\""));
	/* A newcomer got in by evicting an unanswered one: the last peer. */
	p = flood_peer(FLOOD - 1);
	EXPECT_TRUE(has_peer(json, &p.sin6_addr));
	for (i = MAX_CONTEXTS; i < FLOOD; i++) {
		p = flood_peer(i);
		late += has_peer(json, &p.sin6_addr);
	}
	TH_LOG("%d contexts after the flood; %d of the %d peers past the limit have one",
	       n, late, FLOOD - MAX_CONTEXTS);
	free(json);

	/* A peer that answers (the namespace itself, X2) while the table is
	 * full: its setup needs two new contexts (ours, then the responder's
	 * on the I2), and so two tokens of the rate limit: a second is
	 * plenty to get them back.
	 */
	sleep(1);
	server = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, server);
	ASSERT_EQ(0, bind(server, (struct sockaddr *)&x2, sizeof(x2)));
	client = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, client);
	ASSERT_EQ(0, bind(client, (struct sockaddr *)&x1, sizeof(x1)));
	ASSERT_EQ(0, connect(client, (struct sockaddr *)&x2, sizeof(x2)));
	ASSERT_TRUE(associate(client, server));

	json = contexts_json();
	ASSERT_NE(NULL, json);
	n = count(json, "\"state\":");
	EXPECT_EQ(MAX_CONTEXTS, n);
	/* Both ends of the legitimate context, established. */
	EXPECT_EQ(2, count(json, "\"state\":\"established\""));
	EXPECT_TRUE(has_peer(json, &x2.sin6_addr));
	EXPECT_TRUE(has_peer(json, &x1.sin6_addr));
	TH_LOG("%d contexts with the legitimate one; %lld ms in all", n, now_ms() - start);
	free(json);
	close(client);
	close(server);
	close(fd);
}

TEST_HARNESS_MAIN
