/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shim6: socket API of the multihoming shim layer.
 *
 * Names and layouts follow draft-ietf-shim6-multihome-shim-api-08
 * ("Socket Application Program Interface (API) for Multihoming Shim").
 * Where the draft spells a name two ways, both spellings are defined
 * and name one value.  RFC 6316, its final text, has numbers of its own
 * (the draft's plus 16) with its layouts and errors; defining
 * SHIM_API_RFC6316 before including this header gives the usual names
 * those (see "RFC 6316" below).
 *
 * This header is the single source of these definitions: C programs
 * include it, the kernel module and shimctl get Rust from it by bindgen.
 */
#ifndef _UAPI_LINUX_SHIM6_H
#define _UAPI_LINUX_SHIM6_H

#include <linux/types.h>
#include <linux/in6.h>

/* Socket level of every option and ancillary data object below. */
#ifndef SOL_SHIM
#define SOL_SHIM			288
#endif

/*
 * Socket options (draft Table 1).  All are read with getsockopt(2) and,
 * except SHIM_ASSOCIATED, written with setsockopt(2).  Value types:
 * int unless said otherwise.
 *
 * Errors common to all options:
 *   ENOPROTOOPT  unknown option, set of a read-only option, or no shim
 *                module loaded
 *   EINVAL       optlen does not fit the option's type, or a boolean
 *                option given a value other than 0 or 1
 *   EFAULT       optval or optlen is not readable/writable
 *   ENOENT       the option needs a shim context and the socket has none
 *                (every option but SHIM_ASSOCIATED, SHIM_DONTSHIM and
 *                SHIM_DEFERRED_CONTEXT_SETUP)
 *   EINVALIDLOCATOR  a locator failed validation (see below)
 *   EAFNOSUPPORT an IPv4 locator (AF_INET, or v4-mapped) given to a
 *                SHIM6 context, which has IPv6 locators only
 *   ERANGE       getsockopt() of SHIM_LOCLIST_*: optval too small for
 *                the list (*optlen is set to the size needed)
 *
 * Checks run in this order: option name (ENOPROTOOPT), reading optlen
 * (EFAULT), optlen (EINVAL, or E2BIG for a list too long), reading
 * optval (EFAULT), the value's form (EINVAL), the context (ENOENT), the
 * value against the context (EAFNOSUPPORT, then EINVALIDLOCATOR).
 *
 * A socket's context is the one of its ULID pair: a connected IPv6 socket
 * (not SHIM_DONTSHIM) once that context is established.  A locator is
 * valid when it is one of the context's own (local) or one of the peer's
 * that passed HBA verification (peer).  An unconnected IPv6 datagram
 * socket has no context of its own: SHIM_LOC_LOCAL_RECV and
 * SHIM_LOC_PEER_RECV work there without one (each datagram reports the
 * locators it came on), the other context options answer ENOENT.
 *
 * Locators chosen for sending (SHIM_LOC_*_SEND, sticky or per datagram)
 * are checked again as each packet leaves, against that packet's own
 * context as it is then (a sendto() elsewhere, a locator the context has
 * dropped since): a datagram's own choice that fails makes sendmsg(2)
 * fail with EINVALIDLOCATOR and nothing leaves; a sticky choice that
 * fails is ignored for that packet, which takes its context's pair
 * ("sticky_ignored" in shimctl stats show).
 *
 * The context belongs to the ULID pair, not to the socket: every socket
 * of the pair, whoever owns it, shares it (FII 0), until one forks.
 * Settings come in three classes: our locators (SHIM_LOC_LOCAL_PREF,
 * SHIM_LOCLIST_LOCAL), the peer's (SHIM_LOC_PEER_PREF,
 * SHIM_LOCLIST_PEER) and path exploration (SHIM_PATHEXPLORE).  The first
 * socket to set a class on the shared context holds it, until it closes;
 * another socket that sets something else in a class held by another
 * forks the context (draft section 9.1): it gets a context of its own
 * (a non-zero Forked Instance Identifier, shown by shimctl with the
 * socket's inode), a copy of the shared one with that class back to the
 * defaults and its value applied, set up with the peer (an I1 with the
 * FII option).  Its packets and options use the shared context until its
 * own is established, and its own from then on; it goes when the socket
 * closes.  A set that asks for what is in force forks nothing; so does
 * ancillary data, always.  A fork that cannot be made fails the set with
 * EAGAIN (the namespace's rate limit on new contexts) or ENOBUFS (no
 * room).  The peer keeps the forked context too, but sends its own
 * packets on its FII 0 context (RFC 5533 section 5.15.7).
 *
 * Sockets that hold nothing follow the shared context: a socket that
 * sets a class first moves or restricts every other flow of the pair,
 * including other users' (no privilege is checked), except those of
 * sockets that set that class themselves.  SHIM_LOC_*_SEND and
 * per-datagram locators act on the socket's or datagram's packets only.
 *
 * A listener's SHIM_DONTSHIM also covers its SYN-ACKs, and accept()
 * gives the new socket the listener's SHIM_DONTSHIM; every other option
 * starts at its default there.
 *
 * Lengths: an int option takes optlen >= sizeof(int) (the first int is
 * used) and getsockopt() writes back sizeof(int); a structure option
 * takes optlen >= the structure's size likewise.  The locator lists
 * (SHIM_LOCLIST_*) take an array: on set, optlen must be a non-zero
 * multiple of sizeof(struct shim_locator) (else EINVAL) for at most
 * SHIM_MAX_LOCATORS locators (else E2BIG); on get, a buffer too small
 * for the whole list fails with ERANGE and *optlen set to the size
 * needed, and *optlen == 0 asks for that size without failing.  A
 * context holds at most 16 locators a side: a set that names more
 * distinct addresses cannot name only its own (EINVALIDLOCATOR); repeats
 * count once.  A set keeps the list highest lc_preference first (equal
 * ones in the order given), which is the order REAP tries locator pairs
 * in; a get reads each locator back with lc_preference as last set (0
 * when none was), lc_flags SHIM_LOC_FLAG_HBA when its HBA set verifies
 * it (ours in our set; the peer's from a list its PDS verified), and, for
 * ours, lc_ifidx the index of the interface that has it (0 when none
 * has, or above 255).
 *
 * A struct shim_locator given to setsockopt() must name lc_family
 * AF_INET6, or AF_INET with a v4-mapped lc_addr (else EINVAL); an
 * all-zero locator clears SHIM_LOC_*_SEND.  struct shim_pathexplore
 * needs pe_reserved == 0 and pe_initprobeto 0 or at least 100 ms (else
 * EINVAL).
 *
 * SHIM_PATHEXPLORE, SHIM_APP_TIMEOUT and SHIM_HOT_STANDBY act on the
 * socket's context (ENOENT without one); SHIM_PATHEXPLORE may fork it
 * (above), the other two never do: their last value holds for every
 * socket on that context.  A 0 in a
 * pe_* field keeps RFC 5534's default (4 probes, 15 s, 500 ms); a get
 * reads the values in force, defaults filled in (pe_keepaliveto clamped
 * to 255).  pe_keepaliveto is REAP's Send Timeout: a value other than
 * 15 s is announced to the peer (Keepalive Timeout option in an Update
 * Request), whose Keepalives then keep to it.  SHIM_APP_TIMEOUT longer
 * than the Send Timeout suppresses the context's Keepalives (draft
 * section 5.13); 0, the default, does not.  SHIM_HOT_STANDBY 1 keeps
 * an alternative pair (the first one exploration would try: one that
 * shares no locator with the current pair, if any) verified by a Probe
 * three times per Send Timeout, which the peer answers on that pair;
 * when the current pair fails (Send Timer, TCP's retransmission timeout,
 * SHIM_FEEDBACK) and the standby pair was verified within a Send
 * Timeout, the context switches to it at once, without exploring, and
 * tells the peer.  `shimctl context show` shows the standby pair.
 *
 * Socket state is per socket: accept(2) gives the new socket defaults.
 */
#define SHIM_ASSOCIATED			1	/* ro: 1 if a context is bound */
#define SHIM_DONTSHIM			2	/* 1: bypass the shim; default 0 */
#define SHIM_HOT_STANDBY		3	/* 1: keep a hot-standby pair */
#define SHIM_LOC_LOCAL_PREF		4	/* struct shim_locator */
#define SHIM_LOC_PEER_PREF		5	/* struct shim_locator */
#define SHIM_LOC_LOCAL_RECV		6	/* 1: report dst locator on recv */
#define SHIM_LOC_PEER_RECV		7	/* 1: report src locator on recv */
#define SHIM_LOC_LOCAL_SEND		8	/* struct shim_locator, sticky */
#define SHIM_LOC_PEER_SEND		9	/* struct shim_locator, sticky */
#define SHIM_LOCLIST_LOCAL		10	/* struct shim_locator[] */
#define SHIM_LOCLIST_PEER		11	/* struct shim_locator[] */
#define SHIM_APP_TIMEOUT		12	/* seconds; 0: none */
#define SHIM_PATHEXPLORE		13	/* struct shim_pathexplore */
/*
 * SHIM_CONTEXT_DEFERRED_SETUP 0: the socket's packets wait for their
 * context's setup (16 per context, 64 per namespace); beyond that the
 * send fails with EAGAIN and nothing leaves.  A setup that fails lets
 * them go unshimmed.
 */
#define SHIM_CONTEXT_DEFERRED_SETUP	14	/* 1 (default): setup deferred */
/* Section 5.14 of the draft spells it this way. */
#define SHIM_DEFERRED_CONTEXT_SETUP	SHIM_CONTEXT_DEFERRED_SETUP

/*
 * Ancillary data (draft Table 2), cmsg_level SOL_SHIM.  The locator
 * objects carry a struct sockaddr_in6 (IPv4 locators v4-mapped) or a
 * struct sockaddr_in.  They apply to UDP and raw sockets only: sendmsg(2)
 * on a TCP socket fails with EOPNOTSUPP for a SOL_SHIM control message
 * and sends nothing.
 *
 *   recvmsg: SHIM_LOC_LOCAL_RECV, SHIM_LOC_PEER_RECV
 *   sendmsg: SHIM_LOC_LOCAL_SEND, SHIM_LOC_PEER_SEND (one datagram),
 *            SHIM_IF_SEND (int ifindex, section 6.2),
 *            SHIM_FEEDBACK (struct shim_feedback)
 *
 * sendmsg(2) fails with EINVAL for an unknown SOL_SHIM cmsg_type or a
 * cmsg_len that does not fit the type, EINVAL for a locator that is not
 * AF_INET6 or AF_INET, ENODEV for an SHIM_IF_SEND interface that does
 * not exist, ENOENT when the socket has no context, EINVALIDLOCATOR when
 * a locator fails validation, and ENOPROTOOPT when no shim module is
 * loaded.  On an unconnected socket the locators are checked against the
 * context of the datagram's destination only as it leaves: EINVALIDLOCATOR
 * when they are not that context's or it has none; SHIM_IF_SEND and
 * SHIM_FEEDBACK need a connected socket's context (ENOENT).
 * SHIM_FEEDBACK acts on the socket's context: SHIM_FB_UNABLE_TO_CONNECT
 * and SHIM_FB_UNSATISFACTORY (either direction) start REAP's exploration
 * at once, the other pairs first, payload staying on the current pair
 * until one is proven both ways; SHIM_FB_SATISFACTORY counts as hearing
 * the peer (REAP's Send Timer stops); SHIM_FB_DEFAULT is not processed.
 * SHIM_IF_SEND (an ifindex; below 1, ENODEV) sends the datagram from
 * the context's locator on that interface: the current one if it is
 * there, else the first in the context's order; EINVALIDLOCATOR when the
 * interface has none.
 */
#define SHIM_FEEDBACK			15
#define SHIM_IF_SEND			16

/* Most locators one list (SHIM_LOCLIST_*) holds. */
#define SHIM_MAX_LOCATORS		32

/* lc_flags */
#define SHIM_LOC_FLAG_HBA		0x01	/* Hash Based Address */
#define SHIM_LOC_FLAG_CGA		0x02	/* Cryptographically Generated */

/* Locator information (draft section 7.1). */
struct shim_locator {
	__u8	lc_family;	/* AF_INET6, or AF_INET (v4-mapped lc_addr) */
	__u8	lc_ifidx;	/* interface index (ours); filled on read only */
	__u8	lc_flags;	/* SHIM_LOC_FLAG_* */
	__u8	lc_preference;	/* preference value */
	__u8	lc_addr[16];	/* the locator */
};

/* Path exploration parameters (draft section 7.2). */
struct shim_pathexplore {
	__u8	pe_probenum;	/* number of initial probes */
	__u8	pe_keepaliveto;	/* Keepalive Timeout, seconds */
	__u16	pe_initprobeto;	/* Initial Probe Timeout, milliseconds */
	__u32	pe_reserved;	/* must be zero */
};

/* Section 5.4 of the draft names the same structure shim6_pathexplore. */
#define shim6_pathexplore shim_pathexplore

/* fb_direction */
#define SHIM_FB_DIR_OUTBOUND		0
#define SHIM_FB_DIR_INBOUND		1

/* fb_indicator */
#define SHIM_FB_DEFAULT			0	/* ignored by the shim */
#define SHIM_FB_UNABLE_TO_CONNECT	1
#define SHIM_FB_UNSATISFACTORY		2
#define SHIM_FB_SATISFACTORY		3

/* Reachability feedback from the application (draft section 7.3). */
struct shim_feedback {
	__u8	fb_direction;	/* SHIM_FB_DIR_* */
	__u8	fb_indicator;	/* SHIM_FB_* */
	__u16	fb_reserved;	/* ignored */
};

/*
 * EINVALIDLOCATOR: a locator failed the shim's validation (it is not
 * one of the context's locators, fails HBA/CGA verification, or is not
 * usable by SHIM6, like an IPv4 locator).  Linux defines no errno of
 * this meaning; the value is outside every errno Linux uses (1-133 and
 * the kernel-internal 512-530), so strerror() prints "Unknown error 200".
 */
#define EINVALIDLOCATOR			200
/* Section 5.6 of the draft spells it this way. */
#define EINVALLOCATOR			EINVALIDLOCATOR

/*
 * RFC 6316, the final text of the API, changed layouts, errors and some
 * rules but kept the names.  Its numbers are the draft's plus 16 and act
 * on the same per-socket and per-context state; programs choose the
 * names' flavour by defining SHIM_API_RFC6316 before including this
 * header (below).  On these numbers:
 *
 *   - struct shim_locator_rfc6316 (32 octets, exact optlen; lists a
 *     non-zero multiple): lc_prio (lower first) and lc_weight (higher
 *     first among equal priorities) rank a locator where the draft's
 *     lc_preference p (higher first) is priority 0, weight p, so either
 *     flavour reads what the other set (a draft read of priority > 0
 *     gives 0).  lc_proto must be 0 (EINVAL: SHIM6 has no locators behind
 *     a NAT); lc_port, lc_ifidx and lc_flags are ignored on set and
 *     filled on get (lc_ifidx 32 bits).
 *   - struct shim_pathexplore_rfc6316 (12 octets): 16-bit fields, and
 *     pe_keepaliveint, the interval of our Keepalives in seconds (0: a
 *     third of the peer's Keepalive Timeout; never longer than it).
 *   - ETOOMANYLOCATORS where the draft's numbers give E2BIG (a list over
 *     SHIM_MAX_LOCATORS) or ERANGE (a get buffer too small, *optlen set
 *     to the size needed).
 *   - Every option but SHIM_DONTSHIM, and every control message, needs a
 *     connected socket: EOPNOTSUPP otherwise, checked just before the
 *     context.  SHIM_ASSOCIATED is never 2.
 *   - SHIM_DONTSHIM set to another value on a connected socket:
 *     EOPNOTSUPP.  SHIM_APP_TIMEOUT while the namespace has SHIM6 off:
 *     EOPNOTSUPP.
 *   - SHIM_CONTEXT_DEFERRED_SETUP is read only (set: ENOPROTOOPT) and
 *     reads 1 while the namespace runs SHIM6 (the shim can defer), else 0.
 *   - SHIM_LOC_*_RECV enabled with an RFC number reports its locators
 *     under that number's cmsg_type.  SHIM_IF_SEND has no RFC twin.
 *
 * EUNVERIFIEDLOCATOR and EUNREACHABLELOCATOR are defined for RFC
 * programs but not returned: a context holds only verified peer
 * locators, and a peer locator REAP could not reach stays valid (REAP may
 * reach it later), so both cases give EINVALIDLOCATOR, as the draft's
 * numbers do.
 */
#define SHIM_RFC6316_OFFSET			16
#define SHIM_ASSOCIATED_RFC6316			17
#define SHIM_DONTSHIM_RFC6316			18
#define SHIM_HOT_STANDBY_RFC6316		19
#define SHIM_LOC_LOCAL_PREF_RFC6316		20
#define SHIM_LOC_PEER_PREF_RFC6316		21
#define SHIM_LOC_LOCAL_RECV_RFC6316		22
#define SHIM_LOC_PEER_RECV_RFC6316		23
#define SHIM_LOC_LOCAL_SEND_RFC6316		24
#define SHIM_LOC_PEER_SEND_RFC6316		25
#define SHIM_LOCLIST_LOCAL_RFC6316		26
#define SHIM_LOCLIST_PEER_RFC6316		27
#define SHIM_APP_TIMEOUT_RFC6316		28
#define SHIM_PATHEXPLORE_RFC6316		29
#define SHIM_CONTEXT_DEFERRED_SETUP_RFC6316	30
#define SHIM_FEEDBACK_RFC6316			31

/* Locator information (RFC 6316 section 8.1). */
struct shim_locator_rfc6316 {
	__u8	lc_family;	/* AF_INET6, or AF_INET (v4-mapped lc_addr) */
	__u8	lc_proto;	/* 0: no NAT (SHIM6 has no other) */
	__u16	lc_port;	/* behind a NAT only: ignored */
	__u16	lc_prio;	/* priority, lower first */
	__u16	lc_weight;	/* weight, higher first */
	__u32	lc_ifidx;	/* interface index (ours); filled on read only */
	struct in6_addr lc_addr;	/* the locator */
	__u16	lc_flags;	/* SHIM_LOC_FLAG_*; filled on read only */
};

/* Path exploration parameters (RFC 6316 section 8.2). */
struct shim_pathexplore_rfc6316 {
	__u16	pe_probenum;	/* number of initial probes */
	__u16	pe_keepaliveto;	/* Keepalive Timeout, seconds */
	__u16	pe_keepaliveint;	/* Keepalive Interval, seconds */
	__u16	pe_initprobeto;	/* Initial Probe Timeout, milliseconds */
	__u32	pe_reserved;	/* must be zero */
};

/* RFC 6316 section 6.16; values outside every errno Linux uses. */
#define EUNVERIFIEDLOCATOR		201
#define EUNREACHABLELOCATOR		202
#define ETOOMANYLOCATORS		203

#ifdef SHIM_API_RFC6316
#undef SHIM_ASSOCIATED
#undef SHIM_DONTSHIM
#undef SHIM_HOT_STANDBY
#undef SHIM_LOC_LOCAL_PREF
#undef SHIM_LOC_PEER_PREF
#undef SHIM_LOC_LOCAL_RECV
#undef SHIM_LOC_PEER_RECV
#undef SHIM_LOC_LOCAL_SEND
#undef SHIM_LOC_PEER_SEND
#undef SHIM_LOCLIST_LOCAL
#undef SHIM_LOCLIST_PEER
#undef SHIM_APP_TIMEOUT
#undef SHIM_PATHEXPLORE
#undef SHIM_CONTEXT_DEFERRED_SETUP
#undef SHIM_FEEDBACK
#undef SHIM_IF_SEND
#undef shim6_pathexplore
#define SHIM_ASSOCIATED			SHIM_ASSOCIATED_RFC6316
#define SHIM_DONTSHIM			SHIM_DONTSHIM_RFC6316
#define SHIM_HOT_STANDBY		SHIM_HOT_STANDBY_RFC6316
#define SHIM_LOC_LOCAL_PREF		SHIM_LOC_LOCAL_PREF_RFC6316
#define SHIM_LOC_PEER_PREF		SHIM_LOC_PEER_PREF_RFC6316
#define SHIM_LOC_LOCAL_RECV		SHIM_LOC_LOCAL_RECV_RFC6316
#define SHIM_LOC_PEER_RECV		SHIM_LOC_PEER_RECV_RFC6316
#define SHIM_LOC_LOCAL_SEND		SHIM_LOC_LOCAL_SEND_RFC6316
#define SHIM_LOC_PEER_SEND		SHIM_LOC_PEER_SEND_RFC6316
#define SHIM_LOCLIST_LOCAL		SHIM_LOCLIST_LOCAL_RFC6316
#define SHIM_LOCLIST_PEER		SHIM_LOCLIST_PEER_RFC6316
#define SHIM_APP_TIMEOUT		SHIM_APP_TIMEOUT_RFC6316
#define SHIM_PATHEXPLORE		SHIM_PATHEXPLORE_RFC6316
#define SHIM_CONTEXT_DEFERRED_SETUP	SHIM_CONTEXT_DEFERRED_SETUP_RFC6316
#define SHIM_FEEDBACK			SHIM_FEEDBACK_RFC6316
#define shim_locator			shim_locator_rfc6316
#define shim_pathexplore		shim_pathexplore_rfc6316
#define shim6_pathexplore		shim_pathexplore_rfc6316
#endif /* SHIM_API_RFC6316 */

/*
 * Generic netlink family SHIM6_GENL_NAME: what shimctl shows.  Every
 * request works in the namespace of the requesting socket.
 *
 * SHIM6_CMD_CONTEXT_GET (dump): one message per context, carrying the
 * SHIM6_A_CTX_* attributes.  The context tags (SHIM6_A_CTX_CT_LOCAL,
 * SHIM6_A_CTX_CT_PEER) are what keeps an off-path host from injecting
 * into a context: they go only to a requester with CAP_NET_ADMIN over the
 * namespace.
 *
 * SHIM6_CMD_HBA_SET (do, CAP_NET_ADMIN over the namespace): sets the
 * namespace's HBA set from SHIM6_A_HBA_PDS, the CGA Parameter Data
 * Structure of any of its addresses (as "shimctl hba" prints it); without
 * the attribute the set is cleared.  The namespace's locators are then its
 * global addresses that the set verifies (RFC 5535 section 7.2), and
 * contexts tell their peers with Update Requests.  EINVAL for a PDS that
 * does not parse.
 *
 * SHIM6_CMD_HBA_GET (dump): the namespace's HBA set as SHIM6_CMD_HBA_SET
 * last set it, SHIM6_A_HBA_PDS in one message; no message while it has
 * none.  No privilege: the PDS goes to every peer in the handshake.
 *
 * SHIM6_CMD_LOCATOR_GET (dump): one message per global address of the
 * namespace: SHIM6_A_LOC_ADDR and SHIM6_A_LOC_FLAGS.
 *
 * SHIM6_CMD_CONTEXT_FLUSH (do, CAP_NET_ADMIN): drops every context of the
 * namespace, as a host restart would; peers recover theirs with R1bis and
 * I2bis (RFC 5533 section 7.17).
 *
 * SHIM6_CMD_NETNS_SET (do, CAP_NET_ADMIN): the namespace's settings, one
 * or both of:
 *   SHIM6_A_ENABLED (u8): 0 makes the namespace a host without SHIM6: no
 *   context is set up or used, and SHIM6 packets are answered with ICMPv6
 *   Parameter Problem (unrecognized Next Header) as the stack does without
 *   a handler; 1 (the default) enables it again.  Disabling flushes the
 *   contexts.
 *   SHIM6_A_MAX_CONTEXTS (u32): how many contexts the namespace keeps,
 *   1 to SHIM6_MAX_CONTEXTS_LIMIT (else ERANGE), by default
 *   SHIM6_MAX_CONTEXTS_DEFAULT.  A context takes about 1 KiB.  Past the
 *   limit a new context replaces one that may go (held down, unanswered,
 *   long idle) or is not set up (its flow goes unshimmed); lowering the
 *   limit drops nothing at once.
 *
 * SHIM6_CMD_STATS_GET (dump): one message per counter of the namespace,
 * SHIM6_A_STAT_NAME and SHIM6_A_STAT_VALUE: what it dropped or refused,
 * by reason (malformed control messages, validators it did not make,
 * PDSs that do not verify the ULID, sources that cannot speak for the
 * ULID they claim, replays, rate limits, a full table, payload and ICMPv6
 * errors that match no context), then two gauges: "contexts" (how many
 * the namespace keeps now) and "max_contexts" (its limit).  Names are
 * stable; new ones may come.
 *
 * Multicast group SHIM6_GENL_MCGRP_EVENTS ("events"): SHIM6_CMD_EVENT
 * messages, one per change of a context of the namespace (shimctl
 * monitor), SHIM6_A_EV_TYPE saying which (enum shim6_event).  Each but
 * SHIM6_EV_LOST names the context (SHIM6_A_CTX_ULID_LOCAL,
 * SHIM6_A_CTX_ULID_PEER, SHIM6_A_CTX_FII), and then carries:
 *   SHIM6_EV_STATE: new, or its setup state changed: SHIM6_A_CTX_STATE.
 *   SHIM6_EV_REAP: REAP's state changed: SHIM6_A_CTX_REAP_STATE.
 *   SHIM6_EV_MOVED: payload goes on another locator pair: the new one in
 *   SHIM6_A_CTX_LOC_LOCAL and SHIM6_A_CTX_LOC_PEER, the one left in
 *   SHIM6_A_EV_FROM_LOCAL and SHIM6_A_EV_FROM_PEER.
 *   SHIM6_EV_PROBE_SENT, SHIM6_EV_PROBE_HEARD: REAP Probes went or came,
 *   SHIM6_A_EV_COUNT of them since the last event, the last on the pair
 *   SHIM6_A_CTX_LOC_LOCAL (ours), SHIM6_A_CTX_LOC_PEER (the peer's),
 *   carrying the sender's SHIM6_A_CTX_REAP_STATE.
 *   SHIM6_EV_FEEDBACK: SHIM_FEEDBACK from an application, SHIM6_A_EV_COUNT
 *   times, the last saying SHIM6_A_EV_REACHABLE (u8: 1 satisfactory, 0
 *   unable to reach or unsatisfactory).
 *   SHIM6_EV_GONE: the context left the table (idle, failed, flushed,
 *   replaced by a newer one for the same peer).
 * SHIM6_EV_LOST: SHIM6_A_EV_COUNT changes were not told for want of
 * memory or room; a listener that must know rereads SHIM6_CMD_CONTEXT_GET.
 * Messages go with GFP_ATOMIC: a slow listener sees ENOBUFS as with
 * any netlink multicast.
 */
#define SHIM6_GENL_NAME			"shim6"
#define SHIM6_GENL_VERSION		1
#define SHIM6_GENL_MCGRP_EVENTS		"events"

enum shim6_genl_cmd {
	SHIM6_CMD_UNSPEC,
	SHIM6_CMD_CONTEXT_GET,
	SHIM6_CMD_HBA_SET,
	SHIM6_CMD_LOCATOR_GET,
	SHIM6_CMD_CONTEXT_FLUSH,
	SHIM6_CMD_NETNS_SET,
	SHIM6_CMD_STATS_GET,
	SHIM6_CMD_EVENT,
	SHIM6_CMD_HBA_GET,
	__SHIM6_CMD_MAX,
};

enum shim6_genl_attr {
	SHIM6_A_UNSPEC,
	SHIM6_A_PAD,
	SHIM6_A_CTX_STATE,		/* u8: enum shim6_ctx_state */
	SHIM6_A_CTX_ULID_LOCAL,		/* binary, 16 octets */
	SHIM6_A_CTX_ULID_PEER,		/* binary, 16 octets */
	SHIM6_A_CTX_FII,		/* u32 */
	SHIM6_A_CTX_CT_LOCAL,		/* u64: our 47-bit context tag */
	SHIM6_A_CTX_CT_PEER,		/* u64: the peer's, once known */
	SHIM6_A_CTX_LOC_LOCAL,		/* binary: current source locator */
	SHIM6_A_CTX_LOC_PEER,		/* binary: current destination locator */
	SHIM6_A_CTX_PEER_LOCATOR,	/* binary, repeated: verified peer locators */
	SHIM6_A_HBA_PDS,		/* binary: a CGA Parameter Data Structure */
	SHIM6_A_LOC_ADDR,		/* binary, 16 octets: an address */
	SHIM6_A_LOC_FLAGS,		/* u32: SHIM6_LOC_F_* */
	SHIM6_A_CTX_LOCAL_LOCATOR,	/* binary, repeated: our locators */
	SHIM6_A_ENABLED,		/* u8: SHIM6 on (1) or off (0) */
	SHIM6_A_CTX_PKTS_OUT,		/* u64: payload sent with the extension header */
	SHIM6_A_CTX_BYTES_OUT,		/* u64: its octets (IPv6, header included) */
	SHIM6_A_CTX_PKTS_IN,		/* u64: payload received with it, ULIDs restored */
	SHIM6_A_CTX_BYTES_IN,		/* u64: its octets (IPv6, header included) */
	SHIM6_A_STAT_NAME,		/* string: a counter's name */
	SHIM6_A_STAT_VALUE,		/* u64: its value */
	SHIM6_A_MAX_CONTEXTS,		/* u32: the namespace's context limit */
	SHIM6_A_CTX_REAP_STATE,		/* u8: enum shim6_reap_state */
	SHIM6_A_CTX_SEND_TIMEOUT,	/* u32: our REAP Send Timeout, ms */
	SHIM6_A_CTX_KEEPALIVE_TIMEOUT,	/* u32: the peer's, which our Keepalives serve, ms */
	SHIM6_A_CTX_STANDBY_LOCAL,	/* in6_addr: hot-standby pair, our locator */
	SHIM6_A_CTX_STANDBY_PEER,	/* in6_addr: hot-standby pair, the peer's */
	SHIM6_A_CTX_STANDBY_AGE,	/* u32: ms since the peer last answered on it */
	SHIM6_A_CTX_STANDBY_SWITCHES,	/* u32: failures taken by switching to it */
	SHIM6_A_EV_TYPE,		/* u8: enum shim6_event */
	SHIM6_A_EV_FROM_LOCAL,		/* in6_addr: the pair left, our locator */
	SHIM6_A_EV_FROM_PEER,		/* in6_addr: the pair left, the peer's */
	SHIM6_A_EV_COUNT,		/* u32: how many times */
	SHIM6_A_EV_REACHABLE,		/* u8: the feedback said satisfactory */
	SHIM6_A_EV_TIME,		/* u64: when it was told, ns since the epoch (CLOCK_REALTIME) */
	SHIM6_A_CTX_OWNER,		/* u32: a fork's socket, by inode number (ss -e "ino:") */
	__SHIM6_A_MAX,
};
#define SHIM6_A_MAX			(__SHIM6_A_MAX - 1)

/* SHIM6_A_MAX_CONTEXTS */
#define SHIM6_MAX_CONTEXTS_DEFAULT	16384
#define SHIM6_MAX_CONTEXTS_LIMIT	1048576

/* SHIM6_A_LOC_FLAGS */
#define SHIM6_LOC_F_LOCATOR	0x1	/* in the HBA set: a locator */

/* Context states (RFC 5533 §6.2). */
enum shim6_ctx_state {
	SHIM6_CTX_I1_SENT = 1,
	SHIM6_CTX_I2_SENT,
	SHIM6_CTX_I2BIS_SENT,
	SHIM6_CTX_ESTABLISHED,
	SHIM6_CTX_E_FAILED,
	SHIM6_CTX_NO_SUPPORT,
};

/* REAP states of an established context (RFC 5534 §6). */
enum shim6_reap_state {
	SHIM6_REAP_OPERATIONAL = 1,
	SHIM6_REAP_EXPLORING,
	SHIM6_REAP_INBOUND_OK,
};

/* SHIM6_A_EV_TYPE */
enum shim6_event {
	SHIM6_EV_STATE = 1,
	SHIM6_EV_REAP,
	SHIM6_EV_MOVED,
	SHIM6_EV_PROBE_SENT,
	SHIM6_EV_PROBE_HEARD,
	SHIM6_EV_FEEDBACK,
	SHIM6_EV_GONE,
	SHIM6_EV_LOST,
};

#endif /* _UAPI_LINUX_SHIM6_H */
