/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the shim6 selftests.
 *
 * Include after kselftest_harness.h.  The option helpers return 0 or a
 * positive errno so that a test reads EXPECT_EQ(EINVAL, shim_set(...))
 * and a failure prints both errno values.
 */
#ifndef SHIM6_LIB_H
#define SHIM6_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/shim6.h>

#define SHIM6_MODNAME		"shim6"
#define SHIM6_SYSFS		"/sys/module/" SHIM6_MODNAME

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE	4
#endif

/* Marker carried by every datagram the tests send. */
#define SHIM6_MARKER		"shim6-selftest-datagram"

/* One kind of inet socket the shim must serve. */
struct shim6_kind {
	const char *name;
	int family;
	int type;
	int protocol;
};

#define SHIM6_NR_KINDS		6

/* The socket kinds every test covers: {v4, v6} x {TCP, UDP, raw}. */
static inline const struct shim6_kind *shim6_kind(int i)
{
	static const struct shim6_kind kinds[SHIM6_NR_KINDS] = {
		{ "ipv4_tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP },
		{ "ipv4_udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP },
		{ "ipv4_raw", AF_INET, SOCK_RAW, IPPROTO_ICMP },
		{ "ipv6_tcp", AF_INET6, SOCK_STREAM, IPPROTO_TCP },
		{ "ipv6_udp", AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
		{ "ipv6_raw", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
	};

	return &kinds[i];
}

static inline int shim6_socket(const struct shim6_kind *k)
{
	return socket(k->family, k->type | SOCK_CLOEXEC, k->protocol);
}

/* socket(2) errors that mean "not available here" rather than a bug. */
static inline bool shim6_socket_unsupported(int err)
{
	return err == EPERM || err == EACCES || err == EAFNOSUPPORT ||
	       err == EPROTONOSUPPORT;
}

static inline bool shim6_loaded(void)
{
	struct stat st;

	return stat(SHIM6_SYSFS, &st) == 0;
}

/* Why a test skips when shim6_loaded() is false. */
#define SHIM6_NOT_LOADED "shim6 module not loaded (no " SHIM6_SYSFS ")"

/* setsockopt(2) at SOL_SHIM: 0, or the errno of the failure. */
static inline int shim_set(int fd, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, SOL_SHIM, name, val, len) ? errno : 0;
}

/* getsockopt(2) at SOL_SHIM: 0, or the errno of the failure. */
static inline int shim_get(int fd, int name, void *val, socklen_t *len)
{
	return getsockopt(fd, SOL_SHIM, name, val, len) ? errno : 0;
}

static inline int shim_set_int(int fd, int name, int val)
{
	return shim_set(fd, name, &val, sizeof(val));
}

/*
 * Value of an int option (the options read here are never negative), or
 * minus the errno of the failure; -EBADMSG when getsockopt() succeeded
 * but wrote back an optlen other than sizeof(int).
 */
static inline int shim_get_int(int fd, int name)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_SHIM, name, &val, &len))
		return -errno;
	if (len != sizeof(int))
		return -EBADMSG;
	return val;
}

/* A locator of @family whose lc_addr is the IPv6 text address @addr. */
static inline void shim_loc_init(struct shim_locator *lc, int family,
				 const char *addr)
{
	memset(lc, 0, sizeof(*lc));
	lc->lc_family = family;
	if (inet_pton(AF_INET6, addr, &lc->lc_addr) != 1)
		abort();
}

/* The loopback address of @family, port @port (host order). */
static inline socklen_t shim6_loopback(int family, unsigned short port,
				       struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(*sin6);
}

/*
 * Open a non-blocking datagram receiver of kind @k bound to the loopback
 * address and store in @dst the address to send to.  For raw sockets the
 * port of @dst is zeroed (it would name the protocol).
 * Return: the fd, or -1 with errno set.
 */
static inline int shim6_receiver(const struct shim6_kind *k,
				 struct sockaddr_storage *dst,
				 socklen_t *dstlen)
{
	socklen_t len;
	int fd;

	fd = socket(k->family, k->type | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    k->protocol);
	if (fd < 0)
		return -1;
	len = shim6_loopback(k->family, 0, dst);
	if (bind(fd, (struct sockaddr *)dst, len))
		goto fail;
	*dstlen = sizeof(*dst);
	if (getsockname(fd, (struct sockaddr *)dst, dstlen))
		goto fail;
	if (k->type == SOCK_RAW) {
		if (k->family == AF_INET)
			((struct sockaddr_in *)dst)->sin_port = 0;
		else
			((struct sockaddr_in6 *)dst)->sin6_port = 0;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static inline unsigned short shim6_csum(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned int sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/*
 * Fill @buf with the datagram the tests send on a socket of kind @k: an
 * ICMP(v6) echo reply for raw sockets (nobody answers it; the kernel
 * fills in the ICMPv6 checksum), followed by SHIM6_MARKER.
 * Return: its length.
 */
static inline size_t shim6_payload(const struct shim6_kind *k, void *buf,
				   size_t size)
{
	unsigned char *p = buf;
	size_t len = 8 + sizeof(SHIM6_MARKER);

	if (size < len)
		abort();
	memset(p, 0, 8);
	memcpy(p + 8, SHIM6_MARKER, sizeof(SHIM6_MARKER));
	if (k->type == SOCK_RAW) {
		unsigned short csum;

		/* type: echo reply; id 0x5336 ("S6"), sequence 1 */
		p[0] = k->family == AF_INET ? 0 : 129;
		p[4] = 0x53;
		p[5] = 0x36;
		p[7] = 1;
		if (k->family == AF_INET) {
			csum = shim6_csum(p, len);
			memcpy(p + 2, &csum, sizeof(csum));
		}
	}
	return len;
}

/*
 * sendmsg(2) of the test datagram to @dst with one SOL_SHIM control
 * message of @type carrying @len bytes of @data (no control message
 * when @data is NULL).  Return: 0, or the errno of the failure.
 */
static inline int shim6_send(int fd, const struct shim6_kind *k,
			     const struct sockaddr_storage *dst,
			     socklen_t dstlen, int type, const void *data,
			     size_t len)
{
	union {
		char buf[CMSG_SPACE(256)];
		struct cmsghdr align;
	} control;
	char payload[64];
	struct iovec iov = { .iov_base = payload };
	struct msghdr msg = {
		.msg_name = (void *)dst,
		.msg_namelen = dstlen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct cmsghdr *cmsg;
	ssize_t ret;

	iov.iov_len = shim6_payload(k, payload, sizeof(payload));
	if (data) {
		if (len > 256)
			abort();
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(len);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SHIM;
		cmsg->cmsg_type = type;
		cmsg->cmsg_len = CMSG_LEN(len);
		memcpy(CMSG_DATA(cmsg), data, len);
	}
	ret = sendmsg(fd, &msg, 0);
	if (ret < 0)
		return errno;
	return ret == (ssize_t)iov.iov_len ? 0 : EMSGSIZE;
}

/*
 * Read one datagram carrying SHIM6_MARKER from @fd, waiting up to @ms
 * milliseconds, skipping datagrams without the marker (stray ICMP on a
 * raw socket).  @msg must provide msg_control; its msg_controllen is the
 * size on entry and the size used on return.
 * Return: 0, EAGAIN when none came, or the errno of a failure.
 */
static inline int shim6_recv(int fd, struct msghdr *msg, int ms)
{
	size_t controllen = msg->msg_controllen;
	char buf[512];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	msg->msg_iov = &iov;
	msg->msg_iovlen = 1;
	for (;;) {
		if (poll(&pfd, 1, ms) < 0)
			return errno;
		msg->msg_controllen = controllen;
		n = recvmsg(fd, msg, MSG_DONTWAIT);
		if (n < 0)
			return errno;
		if (memmem(buf, n, SHIM6_MARKER, sizeof(SHIM6_MARKER)))
			return 0;
	}
}

/* Nothing with SHIM6_MARKER arrives on @fd within @ms milliseconds. */
static inline bool shim6_rx_empty(int fd, int ms)
{
	union {
		char buf[CMSG_SPACE(256)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};

	return shim6_recv(fd, &msg, ms) == EAGAIN;
}

/* finit_module(2) of the file at @path: 0, or the errno of the failure. */
static inline int shim6_load(const char *path)
{
	size_t n = strlen(path);
	int flags = 0;
	int fd, err;

	if ((n > 3 && !strcmp(path + n - 3, ".xz")) ||
	    (n > 3 && !strcmp(path + n - 3, ".gz")) ||
	    (n > 4 && !strcmp(path + n - 4, ".zst")))
		flags |= MODULE_INIT_COMPRESSED_FILE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	err = syscall(__NR_finit_module, fd, "", flags) ? errno : 0;
	close(fd);
	return err;
}

/*
 * delete_module(2) of shim6 with O_NONBLOCK: 0, or the errno of the
 * failure.  A module reference held for a moment by a call in flight
 * (e.g. a socket being destroyed) fails with EAGAIN, so retry that for
 * up to @tries times 100 ms.
 */
static inline int shim6_unload(int tries)
{
	int err;

	for (;;) {
		if (!syscall(__NR_delete_module, SHIM6_MODNAME, O_NONBLOCK))
			return 0;
		err = errno;
		if ((err != EAGAIN && err != EBUSY) || --tries <= 0)
			return err;
		usleep(100 * 1000);
	}
}

#endif /* SHIM6_LIB_H */
