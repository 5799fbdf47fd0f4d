// SPDX-License-Identifier: GPL-2.0

//! The contexts' routes as the data path reads them: RCU hash tables over
//! the same entries, by ULID pair and FII (outgoing packets), by our
//! context tag (incoming payload) and by the peer's tag (ICMPv6 errors
//! quoting our payload).
//!
//! Readers take no lock.  Writers are the control plane, serialised by its
//! lock: a change copies the one bucket it touches and publishes the copy
//! (`Rcu::replace`), so it costs the bucket's length, not the table's; a
//! table that outgrows its buckets doubles them (amortised O(1)).  Buckets
//! are chosen with SipHash under a key drawn when the namespace starts, so
//! that a peer choosing its addresses cannot pile contexts into one bucket.
//!
//! An entry whose context went is first marked dead in its counters (no
//! allocation, so it cannot fail), which readers honour at once, then
//! dropped from its bucket's copy; if that copy cannot be allocated, the
//! dead entry stays until its bucket is next rebuilt.  The mark lives in
//! the counters, which a packet's lookup reads anyway, so that the check
//! costs no cache miss of its own.

use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::prelude::*;
use kernel::sync::Arc;

use crate::control::Stats;
use crate::kext::rcu::Rcu;
use crate::kext::siphash::SipKey;
use crate::proto::context::{Addr, ContextTag, Route, UlidPair};

/// Buckets a table starts with.
const MIN_BUCKETS: usize = 16;

/// A context's route and counters, where the data path finds them, and the
/// control plane's slot of the context.
pub(crate) struct Entry {
    pub(crate) route: Route,
    pub(crate) stats: Arc<Stats>,
    pub(crate) slot: usize,
}

impl Entry {
    fn copy(&self) -> Self {
        Entry { route: self.route, stats: self.stats.clone(), slot: self.slot }
    }

    fn live(&self) -> bool {
        !self.stats.dead.load(Ordering::Acquire)
    }
}

type Bucket = KVec<Entry>;

/// The buckets of one table (a power of two of them).
struct Buckets(KVec<Rcu<Bucket>>);

impl Buckets {
    fn new(n: usize) -> Result<Self> {
        let mut cells = KVec::with_capacity(n, GFP_ATOMIC)?;
        for _ in 0..n {
            cells.push(Rcu::new(KVec::new(), GFP_ATOMIC)?, GFP_ATOMIC)?;
        }
        Ok(Buckets(cells))
    }

    fn cell(&self, hash: u64) -> Option<&Rcu<Bucket>> {
        self.0.get(hash as usize & (self.0.len().max(1) - 1))
    }
}

/// Most 64-bit words a key hashes as.
const KEY_WORDS: usize = 5;

/// What a table is keyed by.
trait Key: Copy + Eq {
    /// The key of `route`, if the table holds it.
    fn of(route: &Route) -> Option<Self>;
    /// The key as words to hash, and how many of them count.
    fn words(&self) -> ([u64; KEY_WORDS], usize);
}

/// The native-endian word of `b`.
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
    u64::from_ne_bytes(w)
}

impl Key for (UlidPair, u32) {
    fn of(r: &Route) -> Option<Self> {
        Some((r.ulids, r.fii))
    }
    fn words(&self) -> ([u64; KEY_WORDS], usize) {
        let (u, fii) = self;
        let (l, p) = (&u.local, &u.peer);
        ([word(&l[..8]), word(&l[8..]), word(&p[..8]), word(&p[8..]), u64::from(*fii)], 5)
    }
}

/// Our tag.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Local(ContextTag);

impl Key for Local {
    fn of(r: &Route) -> Option<Self> {
        Some(Local(r.ct_local))
    }
    fn words(&self) -> ([u64; KEY_WORDS], usize) {
        ([self.0.get(), 0, 0, 0, 0], 1)
    }
}

/// The peer's tag, while payload is rewritten with it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Peer(ContextTag);

impl Key for Peer {
    fn of(r: &Route) -> Option<Self> {
        r.ct_peer.map(Peer)
    }
    fn words(&self) -> ([u64; KEY_WORDS], usize) {
        ([self.0.get(), 0, 0, 0, 0], 1)
    }
}

/// Our Initiator Nonce, while the context waits for the R1 or R2 that
/// answers it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Nonce(u32);

impl Key for Nonce {
    fn of(r: &Route) -> Option<Self> {
        r.init_nonce.map(Nonce)
    }
    fn words(&self) -> ([u64; KEY_WORDS], usize) {
        ([u64::from(self.0), 0, 0, 0, 0], 1)
    }
}

/// One RCU hash table of entries keyed by `K`.
struct Table<K: Key> {
    buckets: Rcu<Buckets>,
    len: AtomicUsize,
    key: SipKey,
    _key: core::marker::PhantomData<K>,
}

impl<K: Key> Table<K> {
    fn new(seed: (u64, u64)) -> Result<Self> {
        Ok(Table {
            buckets: Rcu::new(Buckets::new(MIN_BUCKETS)?, GFP_KERNEL)?,
            len: AtomicUsize::new(0),
            key: SipKey::new(seed.0, seed.1),
            _key: core::marker::PhantomData,
        })
    }

    fn hash(&self, k: &K) -> u64 {
        let (words, n) = k.words();
        self.key.hash(words.get(..n).unwrap_or(&words))
    }

    /// Runs `f` on the live entry of key `k` that `also` accepts (RCU
    /// read side: `f` must not sleep).
    fn find<R>(&self, k: &K, also: impl Fn(&Entry) -> bool, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        let hash = self.hash(k);
        self.buckets.read(|b| {
            b.cell(hash)?.read(|bucket| {
                bucket.iter().find(|e| e.live() && K::of(&e.route) == Some(*k) && also(e)).map(f)
            })
        })
    }

    /// Publishes a copy of `k`'s bucket made by `edit` from the current
    /// one (writers only).
    fn edit(&self, k: &K, edit: impl FnOnce(&Bucket, &mut Bucket) -> Result) -> Result {
        let hash = self.hash(k);
        self.buckets.read(|b| {
            let cell = b.cell(hash).ok_or(EINVAL)?;
            let mut new = KVec::new();
            cell.read(|old| edit(old, &mut new))?;
            cell.replace(new, GFP_ATOMIC)
        })
    }

    /// Adds `e`, if `K` keys it (writers only).
    fn insert(&self, e: &Entry) -> Result {
        let Some(k) = K::of(&e.route) else { return Ok(()) };
        self.edit(&k, |old, new| {
            new.reserve(old.len() + 1, GFP_ATOMIC)?;
            for o in old.iter().filter(|o| o.live()) {
                new.push(o.copy(), GFP_ATOMIC)?;
            }
            new.push(e.copy(), GFP_ATOMIC)?;
            Ok(())
        })?;
        if self.len.fetch_add(1, Ordering::Relaxed) + 1 > 2 * self.buckets.read(|b| b.0.len()) {
            // Out of memory: the buckets just grow longer.
            let _ = self.grow();
        }
        Ok(())
    }

    /// Runs `f` on every live entry of key `k` (RCU read side).
    fn each(&self, k: &K, mut f: impl FnMut(&Entry)) {
        let hash = self.hash(k);
        self.buckets.read(|b| {
            if let Some(cell) = b.cell(hash) {
                cell.read(|bucket| bucket.iter().filter(|e| e.live() && K::of(&e.route) == Some(*k)).for_each(&mut f));
            }
        });
    }

    /// Drops the entries of `slot` from `k`'s bucket (writers only).
    fn remove(&self, k: &K, slot: usize) {
        // Out of memory: the dead entry stays until the bucket is rebuilt.
        let _ = self.edit(k, |old, new| {
            new.reserve(old.len(), GFP_ATOMIC)?;
            for o in old.iter().filter(|o| o.live() && o.slot != slot) {
                new.push(o.copy(), GFP_ATOMIC)?;
            }
            Ok(())
        });
        self.len.fetch_sub(1, Ordering::Relaxed);
    }

    /// Replaces the entry of `e.slot` in `e`'s bucket (writers only).
    fn update(&self, e: &Entry) -> Result {
        let Some(k) = K::of(&e.route) else { return Ok(()) };
        self.edit(&k, |old, new| {
            new.reserve(old.len(), GFP_ATOMIC)?;
            for o in old.iter().filter(|o| o.live()) {
                new.push(if o.slot == e.slot { e.copy() } else { o.copy() }, GFP_ATOMIC)?;
            }
            Ok(())
        })
    }

    /// The route of `e.slot` changed from `old` (writers only): replaced
    /// in its bucket, or moved to the bucket of its new key.
    fn change(&self, old: &Route, e: &Entry) -> Result {
        let was = K::of(old);
        if was == K::of(&e.route) {
            return self.update(e);
        }
        if let Some(k) = was {
            self.remove(&k, e.slot);
        }
        self.insert(e)
    }

    /// Twice the buckets, every live entry rehashed (writers only).
    fn grow(&self) -> Result {
        let n = self.buckets.read(|b| b.0.len()) * 2;
        let mut lists: KVec<Bucket> = KVec::with_capacity(n, GFP_ATOMIC)?;
        for _ in 0..n {
            lists.push(KVec::new(), GFP_ATOMIC)?;
        }
        self.buckets.read(|b| -> Result {
            for cell in b.0.iter() {
                cell.read(|bucket| -> Result {
                    for e in bucket.iter().filter(|e| e.live()) {
                        if let Some(k) = K::of(&e.route) {
                            let i = self.hash(&k) as usize & (n - 1);
                            lists.get_mut(i).ok_or(EINVAL)?.push(e.copy(), GFP_ATOMIC)?;
                        }
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        let mut cells = KVec::with_capacity(n, GFP_ATOMIC)?;
        for list in lists {
            cells.push(Rcu::new(list, GFP_ATOMIC)?, GFP_ATOMIC)?;
        }
        self.buckets.replace(Buckets(cells), GFP_ATOMIC)
    }
}

/// The tables: the data path's three (by ULID pair, our tag, the peer's
/// tag) and the control plane's by Initiator Nonce, so that no message,
/// however forged, makes it walk every context.
pub(crate) struct Routes {
    by_ulids: Table<(UlidPair, u32)>,
    by_tag: Table<Local>,
    by_peer_tag: Table<Peer>,
    by_nonce: Table<Nonce>,
}

impl Routes {
    /// Empty tables hashing under `seed`.
    pub(crate) fn new(seed: (u64, u64)) -> Result<Self> {
        Ok(Routes {
            by_ulids: Table::new(seed)?,
            by_tag: Table::new(seed)?,
            by_peer_tag: Table::new(seed)?,
            by_nonce: Table::new(seed)?,
        })
    }

    /// Whether there is no entry at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_ulids.len.load(Ordering::Relaxed) == 0
    }

    /// The buckets of the tables by ULID pair and by tag (`make bench`
    /// reports them: a table that could not grow has longer buckets).
    pub(crate) fn buckets(&self) -> (usize, usize) {
        (self.by_ulids.buckets.read(|b| b.0.len()), self.by_tag.buckets.read(|b| b.0.len()))
    }

    /// Runs `f` on the entry of `ulids` and `fii` (RCU read side).
    pub(crate) fn by_ulids<R>(&self, ulids: &UlidPair, fii: u32, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        self.by_ulids.find(&(*ulids, fii), |_| true, f)
    }

    /// Runs `f` on the entry whose local tag is `ct` (RCU read side).
    pub(crate) fn by_tag<R>(&self, ct: ContextTag, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        self.by_tag.find(&Local(ct), |_| true, f)
    }

    /// Runs `f` on the entry that rewrites with the peer's tag `ct` onto
    /// `path` (RCU read side).
    pub(crate) fn by_peer_tag<R>(
        &self,
        ct: ContextTag,
        path: &crate::proto::context::Path,
        f: impl FnOnce(&Entry) -> R,
    ) -> Option<R> {
        self.by_peer_tag.find(&Peer(ct), |e| e.route.path == *path, f)
    }

    /// Runs `f` on every entry that rewrites with the peer's tag `ct`,
    /// whatever its pair (RCU read side).
    pub(crate) fn each_with_peer_tag(&self, ct: ContextTag, f: impl FnMut(&Entry)) {
        self.by_peer_tag.each(&Peer(ct), f)
    }

    /// Runs `f` on the entry waiting for an answer to `init_nonce` whose
    /// current pair starts at `src` (RCU read side).
    pub(crate) fn by_nonce<R>(&self, init_nonce: u32, src: &Addr, f: impl FnOnce(&Entry) -> R) -> Option<R> {
        self.by_nonce.find(&Nonce(init_nonce), |e| e.route.path.src == *src, f)
    }

    /// Adds the route of a new context in `slot` (writers only); on
    /// failure nothing is added.
    pub(crate) fn insert(&self, route: Route, stats: Arc<Stats>, slot: usize) -> Result {
        let e = Entry { route, stats, slot };
        self.by_ulids.insert(&e)?;
        let rest = self.by_tag.insert(&e).and_then(|()| self.by_peer_tag.insert(&e));
        if let Err(err) = rest.and_then(|()| self.by_nonce.insert(&e)) {
            self.remove(&e.route, slot, &e.stats);
            return Err(err);
        }
        Ok(())
    }

    /// A context's route changed from `old` (writers only); on failure the
    /// data path keeps the old one (its packets go on the old pair).
    pub(crate) fn update(&self, old: &Route, route: Route, stats: Arc<Stats>, slot: usize) -> Result {
        let e = Entry { route, stats, slot };
        self.by_ulids.update(&e)?;
        self.by_tag.update(&e)?;
        self.by_peer_tag.change(old, &e)?;
        self.by_nonce.change(old, &e)
    }

    /// The context of `slot`, whose route is `route` and counters
    /// `stats`, went (writers only): dead at once, then dropped from its
    /// buckets.
    pub(crate) fn remove(&self, route: &Route, slot: usize, stats: &Stats) {
        stats.dead.store(true, Ordering::Release);
        self.by_ulids.remove(&(route.ulids, route.fii), slot);
        self.by_tag.remove(&Local(route.ct_local), slot);
        if let Some(ct) = route.ct_peer {
            self.by_peer_tag.remove(&Peer(ct), slot);
        }
        if let Some(n) = route.init_nonce {
            self.by_nonce.remove(&Nonce(n), slot);
        }
    }
}
