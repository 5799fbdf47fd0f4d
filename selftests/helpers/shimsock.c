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
 * Exits 0 on success, 1 on a failure it names on stderr, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/shim6.h>

#define DISCARD_PORT	9
#define SETUP_TRIES	200	/* 10 s in 50 ms steps */

static void die(const char *what)
{
	fprintf(stderr, "shimsock: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: shimsock move LOCAL PEER LOCAL_PREF PEER_PREF\n");
	exit(2);
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

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "move"))
		return cmd_move(argv + 2);
	usage();
	return 2;
}
