// SPDX-License-Identifier: GPL-2.0
/*
 * What SOL_SHIM answers on each kind of inet socket: run in the VM by
 * `make run`.  It grows with the shim: contexts and locators come next.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/shim6.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int family, type, proto;
} kinds[] = {
	{ "tcp4", AF_INET, SOCK_STREAM, IPPROTO_TCP },
	{ "udp4", AF_INET, SOCK_DGRAM, IPPROTO_UDP },
	{ "raw4", AF_INET, SOCK_RAW, IPPROTO_ICMP },
	{ "tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP },
	{ "udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
	{ "raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
};

static const char *get(int fd, int opt, char *buf, size_t len)
{
	socklen_t optlen = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SHIM, opt, &v, &optlen))
		snprintf(buf, len, "%s", strerror(errno));
	else
		snprintf(buf, len, "%d", v);
	return buf;
}

int main(void)
{
	struct shim_pathexplore pe = { 4, 10, 500, 0 };
	char a[64], d[64], f[64];
	int one = 1;
	size_t i;

	printf("%-5s %-10s %-9s %-8s %-22s %s\n", "sock", "ASSOCIATED",
	       "DONTSHIM", "DEFERRED", "set DONTSHIM=1", "set PATHEXPLORE");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		int fd = socket(kinds[i].family, kinds[i].type, kinds[i].proto);
		const char *set, *pexp;

		if (fd < 0) {
			printf("%-5s socket: %s\n", kinds[i].name, strerror(errno));
			continue;
		}
		get(fd, SHIM_ASSOCIATED, a, sizeof(a));
		get(fd, SHIM_DEFERRED_CONTEXT_SETUP, d, sizeof(d));
		set = setsockopt(fd, SOL_SHIM, SHIM_DONTSHIM, &one, sizeof(one)) ?
		      strerror(errno) : "ok";
		pexp = setsockopt(fd, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)) ?
		       strerror(errno) : "ok";
		printf("%-5s %-10s %-9s %-8s %-22s %s\n", kinds[i].name, a,
		       get(fd, SHIM_DONTSHIM, f, sizeof(f)), d, set, pexp);
		close(fd);
	}
	printf("(PATHEXPLORE needs a SHIM6 context: ENOENT until one exists)\n");
	return 0;
}
