// SPDX-License-Identifier: GPL-2.0
/*
 * shimsock: SOL_SHIM from the command line, for the shell selftests (as
 * the MPTCP selftests drive mptcp_connect).  Built against the UAPI header,
 * so the scripts never write option numbers or structure layouts by hand.
 *
 *   shimsock move LOCAL PEER LOCAL_PREF PEER_PREF
 *	Sets up the context of the ULID pair (LOCAL, PEER) with datagrams
 *	to PEER's discard port, waits for SHIM_ASSOCIATED, then moves it to
 *	the locator pair (LOCAL_PREF, PEER_PREF) with SHIM_LOC_LOCAL_PREF and
 *	SHIM_LOC_PEER_PREF.  Every socket of the pair, now and later, takes
 *	the new pair.  Prints "moved LOCAL_PREF PEER_PREF" as read back.
 *
 *   shimsock uapi
 *	Prints, as one JSON object, what include/uapi/linux/shim6.h says of
 *	the socket level, option numbers and struct shim_locator (size and
 *	field offsets), for the Python attacker of shim6_hostile.sh, which
 *	must not write them by hand.
 *
 *   shimsock server [-r] [-u PORT] [-t PORT] ADDR
 *	An echo server on ADDR until killed, in one process: every datagram
 *	to the UDP port goes back to its sender, every octet of a connection
 *	to the TCP port back on that connection.  Prints "listening" once
 *	bound.  -r: connections close by a reset (SO_LINGER 0), so that none
 *	outlives the process.
 *
 *   shimsock client [-dDnr] [-s SIZE] [-i SECONDS] [-w SECONDS] [-I SECONDS] LOCAL PEER STEP...
 *	Runs the steps in order on sockets bound to LOCAL and connected to
 *	PEER, an echo server (shimsock server) unless -n.  Options:
 *	  -d		SHIM_DONTSHIM 1 on every socket, before bind()
 *	  -D		SHIM_DEFERRED_CONTEXT_SETUP 0 on every socket
 *	  -n		nothing answers at PEER: datagrams go, no echo is
 *			awaited, and ECONNREFUSED (the ICMPv6 error of an
 *			earlier one) is ignored
 *	  -r		TCP sockets close by a reset (SO_LINGER 0)
 *	  -s SIZE	random octets in a datagram, after its number (64)
 *	  -i SECONDS	pause after each round of "echo" and "loop" (0)
 *	  -w SECONDS	wait for each echo (3)
 *	  -I SECONDS	"loop": a stream round fails after this long without
 *			progress (10)
 *	Steps (SOCK is udp or tcp):
 *	  udp PORT	opens the UDP socket (connected to PEER PORT)
 *	  tcp PORT	opens the TCP socket (connected to PEER PORT)
 *	  associated	prints "associated U [T]": SHIM_ASSOCIATED of each
 *	  associate N	datagram rounds 50 ms apart, N at most, until every
 *			socket reads SHIM_ASSOCIATED 1; prints
 *			"associate ROUNDS: ECHOED echoed"
 *	  echo N	N datagram rounds; prints "echo N: ECHOED echoed"
 *	  lost		prints "lost L": the rounds so far whose echo never came
 *	  stream N	N random octets out on the TCP socket, read back at
 *			the same time; prints "stream N: intact" when every
 *			octet came back in order (else what went wrong)
 *	  local-pref SOCK ADDR	SHIM_LOC_LOCAL_PREF on SOCK
 *	  peer-pref SOCK ADDR	SHIM_LOC_PEER_PREF on SOCK
 *	  preferred	prints "preferred SOCK LOCAL PEER" for each socket:
 *			its SHIM_LOC_LOCAL_PREF and SHIM_LOC_PEER_PREF
 *	  send-locators LOCAL PEER
 *			SHIM_LOC_LOCAL_SEND and SHIM_LOC_PEER_SEND on each
 *	  peername	prints "peername U [T]": getpeername() of each
 *	  sendto ADDR PORT
 *			a datagram to ADDR from an unconnected socket (one
 *			for every sendto, kept open)
 *	  hold DEV ADDR PORT N
 *			N datagrams to ADDR from a socket with
 *			SHIM_DEFERRED_CONTEXT_SETUP 0 (kept open); prints
 *			"held K": the packets DEV sent meanwhile and for
 *			0.5 s after
 *	  sleep SECONDS
 *	  run COMMAND	runs COMMAND with sh; fails if it does
 *	  loop FILE	last step: datagram rounds, and rounds of a
 *			4096-octet stream if a TCP socket is open, without
 *			end, on two threads; the counts that succeeded
 *			("U T") go to FILE every 0.2 s (written to FILE.tmp,
 *			then renamed).  A datagram round that fails is
 *			retried after 50 ms; the TCP rounds stop on the
 *			first failure ("tcp: WHY")
 *	A datagram round sends one datagram, its number and SIZE octets,
 *	and waits for its echo.  An echo that differs from every datagram
 *	sent, or that comes from elsewhere than PEER, is fatal; the late
 *	echo of an earlier datagram is passed over.  A stream fails when
 *	nothing moves for 60 s (10 s in "loop"), or when the last octet
 *	does not come back within 60 s of being sent.
 *
 * Exits 0 on success, 1 on a failure it names on stderr, 2 on bad usage.
 * Output lines are flushed as they are printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/shim6.h>

#define DISCARD_PORT	9
#define SETUP_TRIES	200	/* 10 s in 50 ms steps */
#define ASSOCIATE_GAP	50	/* ms between the rounds of "associate" */
#define MAX_SIZE	8192	/* random octets in a datagram */
#define DGRAM_MAX	(MAX_SIZE + 32)
#define STREAM_CHUNK	32768
#define STREAM_IDLE	60000	/* ms */
#define STREAM_DRAIN	60000	/* ms */
#define LOOP_CHUNK	4096
#define LOOP_IDLE	10000	/* ms */
#define LOOP_RETRY	50	/* ms */
#define PROGRESS_EVERY	200	/* ms */
#define HOLD_WAIT	500	/* ms */
#define MAX_CONNS	64
#define CONN_BUF	65536

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static void die(const char *what)
{
	fprintf(stderr, "shimsock: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: shimsock uapi\n"
		"       shimsock move LOCAL PEER LOCAL_PREF PEER_PREF\n"
		"       shimsock server [-r] [-u PORT] [-t PORT] ADDR\n"
		"       shimsock client [-dDnr] [-s SIZE] [-i SECONDS] [-w SECONDS] [-I SECONDS] LOCAL PEER STEP...\n"
		"(the steps are described at the top of shimsock.c)\n");
	exit(2);
}

static unsigned long parse_number(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > max) {
		fprintf(stderr, "shimsock: not a number up to %lu: %s\n", max, s);
		exit(2);
	}
	return v;
}

/* SECONDS, possibly fractional, as milliseconds (an hour at most). */
static int millis(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s < '0' || *s > '9' || *end || errno || v > 3600) {
		fprintf(stderr, "shimsock: not a number of seconds: %s\n", s);
		exit(2);
	}
	return (int)(v * 1000 + 0.5);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static struct sockaddr_in6 sockaddr(const char *addr, unsigned short port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	if (inet_pton(AF_INET6, addr, &sa.sin6_addr) != 1) {
		fprintf(stderr, "shimsock: not an IPv6 address: %s\n", addr);
		exit(2);
	}
	return sa;
}

static unsigned short port_arg(const char *s)
{
	return parse_number(s, USHRT_MAX);
}

static struct shim_locator locator(const char *addr)
{
	struct shim_locator lc = { .lc_family = AF_INET6 };
	struct sockaddr_in6 sa = sockaddr(addr, 0);

	memcpy(lc.lc_addr, &sa.sin6_addr, sizeof(lc.lc_addr));
	return lc;
}

static const char *locator_str(const struct shim_locator *lc, char *buf)
{
	return inet_ntop(AF_INET6, lc->lc_addr, buf, INET6_ADDRSTRLEN);
}

/* A UDP socket on the ULID pair whose context is established. */
static int associated_socket(const char *local, const char *peer)
{
	struct sockaddr_in6 src = sockaddr(local, 0), dst = sockaddr(peer, DISCARD_PORT);
	struct timespec step = { .tv_nsec = 50 * 1000 * 1000 };
	int fd, on = 0, i;
	socklen_t len;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)))
		die("bind");
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		die("connect");
	for (i = 0; i < SETUP_TRIES; i++) {
		/* Refused by the peer's port: the ICMPv6 error is not ours to see. */
		if (send(fd, "shimsock", 8, 0) < 0 && errno != ECONNREFUSED)
			die("send");
		len = sizeof(on);
		if (getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &on, &len))
			die("getsockopt SHIM_ASSOCIATED");
		if (on == 1)
			return fd;
		nanosleep(&step, NULL);
	}
	errno = ETIMEDOUT;
	die("no context for the ULID pair");
	return -1;
}

static int cmd_move(char **argv)
{
	struct shim_locator lp = locator(argv[2]), pp = locator(argv[3]), got[2];
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int fd = associated_socket(argv[0], argv[1]);
	socklen_t len;

	if (setsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &lp, sizeof(lp)))
		die("setsockopt SHIM_LOC_LOCAL_PREF");
	if (setsockopt(fd, SOL_SHIM, SHIM_LOC_PEER_PREF, &pp, sizeof(pp)))
		die("setsockopt SHIM_LOC_PEER_PREF");
	len = sizeof(got[0]);
	if (getsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &got[0], &len))
		die("getsockopt SHIM_LOC_LOCAL_PREF");
	len = sizeof(got[1]);
	if (getsockopt(fd, SOL_SHIM, SHIM_LOC_PEER_PREF, &got[1], &len))
		die("getsockopt SHIM_LOC_PEER_PREF");
	printf("moved %s %s\n", locator_str(&got[0], a), locator_str(&got[1], b));
	close(fd);
	return 0;
}

/* server */

struct conn {
	int fd;
	size_t len, off;	/* octets read, and written back so far */
	char buf[CONN_BUF];
};

static int server_socket(int type, struct sockaddr_in6 *sa)
{
	int fd, on = 1;

	fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
		die("setsockopt SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)))
		die("bind");
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN))
		die("listen");
	return fd;
}

static void udp_echo(int fd)
{
	struct sockaddr_in6 from;
	char buf[65536];
	socklen_t len = sizeof(from);
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
	if (n >= 0)
		sendto(fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&from, len);
}

static struct conn *conn_accept(int lfd, bool reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct conn *c;
	int fd;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (reset && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die("setsockopt SO_LINGER");
	c = malloc(sizeof(*c));
	if (!c)
		die("malloc");
	c->fd = fd;
	c->len = 0;
	c->off = 0;
	return c;
}

/* Moves the connection on; false once it is over. */
static bool conn_echo(struct conn *c, short revents)
{
	ssize_t n;

	if (c->len == c->off) {
		if (!(revents & (POLLIN | POLLERR | POLLHUP)))
			return true;
		n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->len = n;
		c->off = 0;
		return true;
	}
	if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
		return true;
	n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n < 0)
		return false;
	c->off += n;
	if (c->off == c->len) {
		c->len = 0;
		c->off = 0;
	}
	return true;
}

static int cmd_server(int argc, char **argv)
{
	int udp_port = -1, tcp_port = -1, udp = -1, lfd = -1, opt, i;
	struct conn *conns[MAX_CONNS] = { NULL };
	struct pollfd pfd[2 + MAX_CONNS];
	struct sockaddr_in6 sa;
	bool reset = false;
	int nconns = 0;

	while ((opt = getopt(argc, argv, "ru:t:")) != -1) {
		switch (opt) {
		case 'r':
			reset = true;
			break;
		case 'u':
			udp_port = port_arg(optarg);
			break;
		case 't':
			tcp_port = port_arg(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc - 1 || (udp_port < 0 && tcp_port < 0))
		bad_usage();
	if (udp_port >= 0) {
		sa = sockaddr(argv[optind], udp_port);
		udp = server_socket(SOCK_DGRAM, &sa);
	}
	if (tcp_port >= 0) {
		sa = sockaddr(argv[optind], tcp_port);
		lfd = server_socket(SOCK_STREAM, &sa);
	}
	printf("listening\n");

	for (;;) {
		pfd[0].fd = udp;
		pfd[0].events = POLLIN;
		pfd[1].fd = nconns < MAX_CONNS ? lfd : -1;
		pfd[1].events = POLLIN;
		for (i = 0; i < MAX_CONNS; i++) {
			pfd[2 + i].fd = conns[i] ? conns[i]->fd : -1;
			pfd[2 + i].events = conns[i] && conns[i]->len > conns[i]->off ?
					    POLLOUT : POLLIN;
		}
		if (poll(pfd, 2 + MAX_CONNS, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents)
			udp_echo(udp);
		for (i = 0; i < MAX_CONNS; i++) {
			if (!conns[i] || !pfd[2 + i].revents)
				continue;
			if (!conn_echo(conns[i], pfd[2 + i].revents)) {
				close(conns[i]->fd);
				free(conns[i]);
				conns[i] = NULL;
				nconns--;
			}
		}
		if (pfd[1].revents) {
			/* pfd[1] waits only while a slot is free. */
			i = 0;
			while (conns[i])
				i++;
			conns[i] = conn_accept(lfd, reset);
			if (conns[i])
				nconns++;
		}
	}
	return 0;
}

/* client */

struct client {
	struct sockaddr_in6 local, peer;	/* port 0 */
	int udp, tcp, unconnected;		/* -1 until opened */
	bool dontshim, deferred, discard, reset;
	size_t size;
	int interval, timeout, loop_idle;	/* ms */
	uint64_t key;				/* of the datagrams' contents */
	unsigned long seq, lost;		/* datagrams sent, echoes missed */
	atomic_ulong udp_done, tcp_done;	/* rounds of "loop" */
};

/* splitmix64: the contents of datagram SEQ follow from the key. */
static uint64_t mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Datagram SEQ into BUF: "SEQ:" and SIZE octets; returns its length. */
static size_t datagram(const struct client *c, unsigned long seq, unsigned char *buf)
{
	uint64_t state = c->key ^ seq, r = 0;
	size_t len, i;

	len = snprintf((char *)buf, DGRAM_MAX, "%lu:", seq);
	for (i = 0; i < c->size; i++) {
		if (i % 8 == 0)
			r = mix(&state);
		buf[len + i] = r >> (8 * (i % 8));
	}
	return len + c->size;
}

/* The number of the datagram BUF (N octets) echoes, or 0 when none. */
static unsigned long echoed_seq(const struct client *c, const unsigned char *buf, size_t n,
				unsigned long last)
{
	unsigned char want[DGRAM_MAX];
	unsigned long seq = 0;
	size_t i;

	for (i = 0; i < n && i < 20 && buf[i] >= '0' && buf[i] <= '9'; i++)
		seq = seq * 10 + buf[i] - '0';
	if (!i || i == n || buf[i] != ':' || !seq || seq > last)
		return 0;
	if (datagram(c, seq, want) != n || memcmp(want, buf, n))
		return 0;
	return seq;
}

static void fill_random(void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = getrandom(buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("getrandom");
		buf = (char *)buf + n;
		len -= n;
	}
}

static void addr_str(const struct sockaddr_in6 *sa, char *buf)
{
	inet_ntop(AF_INET6, &sa->sin6_addr, buf, INET6_ADDRSTRLEN);
}

/*
 * One datagram to the peer and, unless -n, its echo: 1 when it came back
 * within the timeout, 0 when it did not, -1 (errno set) on a socket error.
 */
static int datagram_round(struct client *c)
{
	unsigned char msg[DGRAM_MAX], buf[DGRAM_MAX];
	char from_str[INET6_ADDRSTRLEN];
	struct sockaddr_in6 from;
	struct pollfd pfd = { .fd = c->udp, .events = POLLIN };
	unsigned long seq = ++c->seq, got;
	long long deadline;
	socklen_t from_len;
	size_t len;
	ssize_t n;
	int left;

	len = datagram(c, seq, msg);
	if (send(c->udp, msg, len, 0) < 0)
		return c->discard && errno == ECONNREFUSED ? 0 : -1;
	if (c->discard)
		return 0;
	deadline = now_ms() + c->timeout;
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			return 0;
		from_len = sizeof(from);
		n = recvfrom(c->udp, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &from_len);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -1;
		if (from.sin6_family != AF_INET6 || from.sin6_port != c->peer.sin6_port ||
		    memcmp(&from.sin6_addr, &c->peer.sin6_addr, sizeof(from.sin6_addr))) {
			addr_str(&from, from_str);
			fprintf(stderr, "shimsock: an echo of datagram %lu came from [%s]:%u, not the peer\n",
				seq, from_str, ntohs(from.sin6_port));
			exit(1);
		}
		got = echoed_seq(c, buf, n, seq);
		if (got == seq)
			return 1;
		if (got)
			continue;	/* a late echo, counted lost already */
		fprintf(stderr, "shimsock: datagram %lu: an echo of %zd octets matches none sent\n",
			seq, n);
		exit(1);
	}
}

/*
 * N random octets out on FD while reading them back.  Returns 0 when
 * every octet came back in order; else writes what went wrong to WHY
 * (LEN octets) and returns -1.  IDLE: ms without progress that fail it;
 * DRAIN: ms after the last octet went out, or -1 for no limit.
 */
static int stream(int fd, size_t n, int idle, int drain, char *why_buf, size_t len)
{
	size_t sent = 0, got = 0, want;
	long long last = now_ms(), drained = 0;
	unsigned char *out, buf[STREAM_CHUNK];
	struct pollfd pfd = { .fd = fd };
	const char *why = NULL;
	int wait, err = 0;
	ssize_t r;

	out = malloc(n ? n : 1);
	if (!out)
		die("malloc");
	fill_random(out, n);
	while (got < n && !why) {
		wait = last + idle - now_ms();
		if (sent == n && drain >= 0 && drained + drain - now_ms() < wait)
			wait = drained + drain - now_ms();
		if (wait <= 0) {
			why = sent == n && drain >= 0 && drained + drain <= now_ms() ?
			      "not back in time" : "stalled";
			break;
		}
		pfd.events = POLLIN | (sent < n ? POLLOUT : 0);
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r <= 0)
			continue;
		if (sent < n && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
			want = n - sent < STREAM_CHUNK ? n - sent : STREAM_CHUNK;
			r = send(fd, out + sent, want, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r < 0 && errno != EAGAIN) {
				err = errno;
				why = "send";
				break;
			}
			if (r > 0) {
				sent += r;
				last = now_ms();
				if (sent == n)
					drained = last;
			}
		}
		if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
			want = n - got < sizeof(buf) ? n - got : sizeof(buf);
			r = recv(fd, buf, want, MSG_DONTWAIT);
			if (r < 0 && errno != EAGAIN) {
				err = errno;
				why = "recv";
			} else if (!r) {
				why = "closed by the peer";
			} else if (r > 0 && memcmp(buf, out + got, r)) {
				why = "corrupted";
			} else if (r > 0) {
				got += r;
				last = now_ms();
			}
		}
	}
	free(out);
	if (!why)
		return 0;
	snprintf(why_buf, len, "%zu of %zu octets back, then %s%s%s", got, n, why,
		 err ? ": " : "", err ? strerror(err) : "");
	return -1;
}

static int client_socket(struct client *c, int type, const struct sockaddr_in6 *dst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd, one = 1, zero = 0;

	fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (c->dontshim && setsockopt(fd, SOL_SHIM, SHIM_DONTSHIM, &one, sizeof(one)))
		die("setsockopt SHIM_DONTSHIM");
	if (c->deferred &&
	    setsockopt(fd, SOL_SHIM, SHIM_DEFERRED_CONTEXT_SETUP, &zero, sizeof(zero)))
		die("setsockopt SHIM_DEFERRED_CONTEXT_SETUP");
	if (type == SOCK_STREAM && c->reset &&
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die("setsockopt SO_LINGER");
	if (bind(fd, (struct sockaddr *)&c->local, sizeof(c->local)))
		die("bind");
	if (dst && connect(fd, (const struct sockaddr *)dst, sizeof(*dst)))
		die("connect");
	return fd;
}

static int associated(int fd)
{
	socklen_t len;
	int on = 0;

	len = sizeof(on);
	if (getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &on, &len))
		die("getsockopt SHIM_ASSOCIATED");
	return on;
}

static bool all_associated(const struct client *c)
{
	return (c->udp < 0 || associated(c->udp) == 1) && (c->tcp < 0 || associated(c->tcp) == 1);
}

static int need_udp(const struct client *c, const char *step)
{
	if (c->udp < 0) {
		fprintf(stderr, "shimsock: %s: no UDP socket (step udp PORT)\n", step);
		exit(2);
	}
	return c->udp;
}

static int need_tcp(const struct client *c, const char *step)
{
	if (c->tcp < 0) {
		fprintf(stderr, "shimsock: %s: no TCP socket (step tcp PORT)\n", step);
		exit(2);
	}
	return c->tcp;
}

static int sock_arg(const struct client *c, const char *step, const char *name)
{
	if (!strcmp(name, "udp"))
		return need_udp(c, step);
	if (!strcmp(name, "tcp"))
		return need_tcp(c, step);
	fprintf(stderr, "shimsock: %s: udp or tcp, not %s\n", step, name);
	exit(2);
}

/* Rounds of a datagram and its echo; returns how many came back. */
static unsigned long rounds(struct client *c, unsigned long n, int gap, bool until_associated,
			    unsigned long *done)
{
	unsigned long echoed = 0, i;
	int r;

	for (i = 0; i < n; i++) {
		r = datagram_round(c);
		if (r < 0)
			die("datagram round");
		if (r)
			echoed++;
		else if (!c->discard)
			c->lost++;
		if (until_associated && all_associated(c)) {
			i++;
			break;
		}
		if (gap)
			sleep_ms(gap);
	}
	*done = i;
	return echoed;
}

static void set_locator(int fd, int opt, const char *name, const char *addr)
{
	struct shim_locator lc = locator(addr);

	if (setsockopt(fd, SOL_SHIM, opt, &lc, sizeof(lc)))
		die(name);
}

static void print_preferred(int fd, const char *sock)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct shim_locator lc[2];
	socklen_t len;

	len = sizeof(lc[0]);
	if (getsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &lc[0], &len))
		die("getsockopt SHIM_LOC_LOCAL_PREF");
	len = sizeof(lc[1]);
	if (getsockopt(fd, SOL_SHIM, SHIM_LOC_PEER_PREF, &lc[1], &len))
		die("getsockopt SHIM_LOC_PEER_PREF");
	printf("preferred %s %s %s\n", sock, locator_str(&lc[0], a), locator_str(&lc[1], b));
}

static void print_peername(int fd)
{
	char buf[INET6_ADDRSTRLEN];
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);

	if (getpeername(fd, (struct sockaddr *)&sa, &len))
		die("getpeername");
	addr_str(&sa, buf);
	printf(" %s", buf);
}

static unsigned long long dev_tx_packets(const char *dev)
{
	unsigned long long n;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets", dev);
	f = fopen(path, "r");
	if (!f)
		die(path);
	if (fscanf(f, "%llu", &n) != 1) {
		fprintf(stderr, "shimsock: %s: not a count\n", path);
		exit(1);
	}
	fclose(f);
	return n;
}

static void hold(struct client *c, char **argv)
{
	struct sockaddr_in6 dst = sockaddr(argv[1], port_arg(argv[2]));
	unsigned long n = parse_number(argv[3], INT_MAX), i;
	unsigned long long before;
	bool deferred = c->deferred;
	char msg[32];
	int fd;

	c->deferred = true;
	fd = client_socket(c, SOCK_DGRAM, &dst);
	c->deferred = deferred;
	before = dev_tx_packets(argv[0]);
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "held %lu", i);
		if (send(fd, msg, strlen(msg), 0) < 0)
			die("send");
	}
	sleep_ms(HOLD_WAIT);
	printf("held %llu\n", dev_tx_packets(argv[0]) - before);
	/* fd stays open: its datagrams are held for the context. */
}

static void *udp_loop(void *arg)
{
	struct client *c = arg;

	for (;;) {
		if (datagram_round(c) == 1) {
			atomic_fetch_add(&c->udp_done, 1);
			if (c->interval)
				sleep_ms(c->interval);
		} else {
			sleep_ms(LOOP_RETRY);
		}
	}
	return NULL;
}

static void *tcp_loop(void *arg)
{
	struct client *c = arg;
	char why[128];

	while (!stream(c->tcp, LOOP_CHUNK, c->loop_idle, -1, why, sizeof(why))) {
		atomic_fetch_add(&c->tcp_done, 1);
		if (c->interval)
			sleep_ms(c->interval);
	}
	printf("tcp: %s\n", why);
	return NULL;
}

static void loop(struct client *c, const char *file)
{
	size_t len = strlen(file) + 5;
	pthread_t udp, tcp;
	char *tmp;
	FILE *f;
	int err;

	need_udp(c, "loop");
	tmp = malloc(len);
	if (!tmp)
		die("malloc");
	snprintf(tmp, len, "%s.tmp", file);
	err = pthread_create(&udp, NULL, udp_loop, c);
	if (!err && c->tcp >= 0)
		err = pthread_create(&tcp, NULL, tcp_loop, c);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	for (;;) {
		f = fopen(tmp, "w");
		if (!f)
			die(tmp);
		fprintf(f, "%lu %lu\n", atomic_load(&c->udp_done), atomic_load(&c->tcp_done));
		if (fclose(f))
			die(tmp);
		if (rename(tmp, file))
			die(file);
		sleep_ms(PROGRESS_EVERY);
	}
}

static void run_command(const char *command)
{
	int status;

	fflush(stdout);
	status = system(command);
	if (status == -1)
		die("system");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "shimsock: run: %s: failed (status %#x)\n", command, status);
		exit(1);
	}
}

static void step_udp(struct client *c, char **argv)
{
	struct sockaddr_in6 dst = c->peer;

	if (c->udp >= 0)
		bad_usage();
	dst.sin6_port = htons(port_arg(argv[1]));
	c->udp = client_socket(c, SOCK_DGRAM, &dst);
	/* Where its echoes must come from. */
	c->peer.sin6_port = dst.sin6_port;
}

static void step_tcp(struct client *c, char **argv)
{
	struct sockaddr_in6 dst = c->peer;

	if (c->tcp >= 0)
		bad_usage();
	dst.sin6_port = htons(port_arg(argv[1]));
	c->tcp = client_socket(c, SOCK_STREAM, &dst);
}

static void step_associated(struct client *c, char **argv)
{
	(void)argv;
	printf("associated");
	if (c->udp >= 0)
		printf(" %d", associated(c->udp));
	if (c->tcp >= 0)
		printf(" %d", associated(c->tcp));
	printf("\n");
}

static void step_associate(struct client *c, char **argv)
{
	unsigned long done, echoed;

	need_udp(c, argv[0]);
	echoed = rounds(c, parse_number(argv[1], ULONG_MAX), ASSOCIATE_GAP, true, &done);
	printf("associate %lu: %lu echoed\n", done, echoed);
}

static void step_echo(struct client *c, char **argv)
{
	unsigned long done, echoed;

	need_udp(c, argv[0]);
	echoed = rounds(c, parse_number(argv[1], ULONG_MAX), c->interval, false, &done);
	printf("echo %lu: %lu echoed\n", done, echoed);
}

static void step_lost(struct client *c, char **argv)
{
	(void)argv;
	printf("lost %lu\n", c->lost);
}

static void step_stream(struct client *c, char **argv)
{
	unsigned long n = parse_number(argv[1], INT_MAX);
	char why[128];

	if (stream(need_tcp(c, argv[0]), n, STREAM_IDLE, STREAM_DRAIN, why, sizeof(why)))
		printf("stream %lu: %s\n", n, why);
	else
		printf("stream %lu: intact\n", n);
}

static void step_local_pref(struct client *c, char **argv)
{
	set_locator(sock_arg(c, argv[0], argv[1]), SHIM_LOC_LOCAL_PREF,
		    "setsockopt SHIM_LOC_LOCAL_PREF", argv[2]);
}

static void step_peer_pref(struct client *c, char **argv)
{
	set_locator(sock_arg(c, argv[0], argv[1]), SHIM_LOC_PEER_PREF,
		    "setsockopt SHIM_LOC_PEER_PREF", argv[2]);
}

static void step_preferred(struct client *c, char **argv)
{
	(void)argv;
	if (c->udp >= 0)
		print_preferred(c->udp, "udp");
	if (c->tcp >= 0)
		print_preferred(c->tcp, "tcp");
}

static void step_send_locators(struct client *c, char **argv)
{
	int fds[] = { c->udp, c->tcp };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (fds[i] < 0)
			continue;
		set_locator(fds[i], SHIM_LOC_LOCAL_SEND, "setsockopt SHIM_LOC_LOCAL_SEND",
			    argv[1]);
		set_locator(fds[i], SHIM_LOC_PEER_SEND, "setsockopt SHIM_LOC_PEER_SEND",
			    argv[2]);
	}
}

static void step_peername(struct client *c, char **argv)
{
	(void)argv;
	printf("peername");
	if (c->udp >= 0)
		print_peername(c->udp);
	if (c->tcp >= 0)
		print_peername(c->tcp);
	printf("\n");
}

static void step_sendto(struct client *c, char **argv)
{
	struct sockaddr_in6 dst = sockaddr(argv[1], port_arg(argv[2]));

	if (c->unconnected < 0)
		c->unconnected = client_socket(c, SOCK_DGRAM, NULL);
	if (sendto(c->unconnected, "silent", 6, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		die("sendto");
}

static void step_hold(struct client *c, char **argv)
{
	hold(c, argv + 1);
}

static void step_sleep(struct client *c, char **argv)
{
	(void)c;
	sleep_ms(millis(argv[1]));
}

static void step_run(struct client *c, char **argv)
{
	(void)c;
	run_command(argv[1]);
}

static void step_loop(struct client *c, char **argv)
{
	loop(c, argv[1]);
}

static const struct step {
	const char *name;
	int args;
	void (*run)(struct client *c, char **argv);	/* argv[0]: the name */
} steps[] = {
	{ "udp", 1, step_udp },
	{ "tcp", 1, step_tcp },
	{ "associated", 0, step_associated },
	{ "associate", 1, step_associate },
	{ "echo", 1, step_echo },
	{ "lost", 0, step_lost },
	{ "stream", 1, step_stream },
	{ "local-pref", 2, step_local_pref },
	{ "peer-pref", 2, step_peer_pref },
	{ "preferred", 0, step_preferred },
	{ "send-locators", 2, step_send_locators },
	{ "peername", 0, step_peername },
	{ "sendto", 2, step_sendto },
	{ "hold", 4, step_hold },
	{ "sleep", 1, step_sleep },
	{ "run", 1, step_run },
	{ "loop", 1, step_loop },	/* never returns: the last step */
};

/* Runs the step at ARGV; returns how many words it took. */
static int run_step(struct client *c, int argc, char **argv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		if (strcmp(argv[0], steps[i].name))
			continue;
		if (argc < steps[i].args + 1 || (steps[i].run == step_loop && argc != 2))
			bad_usage();
		steps[i].run(c, argv);
		return steps[i].args + 1;
	}
	fprintf(stderr, "shimsock: unknown step: %s\n", argv[0]);
	bad_usage();
	return 0;
}

static int cmd_client(int argc, char **argv)
{
	struct client c = {
		.udp = -1, .tcp = -1, .unconnected = -1,
		.size = 64, .timeout = 3000, .loop_idle = LOOP_IDLE,
	};
	int opt;

	while ((opt = getopt(argc, argv, "dDnrs:i:w:I:")) != -1) {
		switch (opt) {
		case 'd':
			c.dontshim = true;
			break;
		case 'D':
			c.deferred = true;
			break;
		case 'n':
			c.discard = true;
			break;
		case 'r':
			c.reset = true;
			break;
		case 's':
			c.size = parse_number(optarg, MAX_SIZE);
			break;
		case 'i':
			c.interval = millis(optarg);
			break;
		case 'w':
			c.timeout = millis(optarg);
			break;
		case 'I':
			c.loop_idle = millis(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (argc - optind < 3)
		bad_usage();
	c.local = sockaddr(argv[optind], 0);
	c.peer = sockaddr(argv[optind + 1], 0);
	fill_random(&c.key, sizeof(c.key));
	argc -= optind + 2;
	argv += optind + 2;
	while (argc) {
		int k = run_step(&c, argc, argv);

		fflush(stdout);
		argc -= k;
		argv += k;
	}
	return 0;
}

static int cmd_uapi(void)
{
	printf("{\"SOL_SHIM\": %d, \"SHIM_ASSOCIATED\": %d, \"SHIM_DONTSHIM\": %d, "
	       "\"SHIM_LOCLIST_LOCAL\": %d, \"SHIM_LOCLIST_PEER\": %d, "
	       "\"SHIM_APP_TIMEOUT\": %d, \"SHIM_PATHEXPLORE\": %d, "
	       "\"SHIM_HOT_STANDBY\": %d, "
	       "\"SHIM_FEEDBACK\": %d, \"SHIM_FB_UNABLE_TO_CONNECT\": %d, "
	       "\"SHIM_MAX_LOCATORS\": %d, \"shim_locator\": {\"size\": %zu, "
	       "\"lc_family\": %zu, \"lc_addr\": %zu}, "
	       "\"shim_pathexplore\": {\"size\": %zu, \"pe_probenum\": %zu, "
	       "\"pe_keepaliveto\": %zu, \"pe_initprobeto\": %zu}, "
	       "\"shim_feedback\": {\"size\": %zu, \"fb_direction\": %zu, "
	       "\"fb_indicator\": %zu}}\n",
	       SOL_SHIM, SHIM_ASSOCIATED, SHIM_DONTSHIM, SHIM_LOCLIST_LOCAL,
	       SHIM_LOCLIST_PEER, SHIM_APP_TIMEOUT, SHIM_PATHEXPLORE,
	       SHIM_HOT_STANDBY,
	       SHIM_FEEDBACK, SHIM_FB_UNABLE_TO_CONNECT,
	       SHIM_MAX_LOCATORS, sizeof(struct shim_locator),
	       offsetof(struct shim_locator, lc_family),
	       offsetof(struct shim_locator, lc_addr),
	       sizeof(struct shim_pathexplore),
	       offsetof(struct shim_pathexplore, pe_probenum),
	       offsetof(struct shim_pathexplore, pe_keepaliveto),
	       offsetof(struct shim_pathexplore, pe_initprobeto),
	       sizeof(struct shim_feedback),
	       offsetof(struct shim_feedback, fb_direction),
	       offsetof(struct shim_feedback, fb_indicator));
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "uapi"))
		return cmd_uapi();
	if (argc == 6 && !strcmp(argv[1], "move"))
		return cmd_move(argv + 2);
	if (argc > 1 && !strcmp(argv[1], "server"))
		return cmd_server(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	bad_usage();
	return 2;
}
