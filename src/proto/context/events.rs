// SPDX-License-Identifier: GPL-2.0

//! What `shimctl monitor` shows: each context's changes, as events.
//!
//! A context counts the Probes it sends and hears and the feedback it
//! gets, and keeps what it last reported of itself; the endpoint compares
//! the two after each call that handled the context, and queues the
//! differences.  A call that repeats a change (two probes) reports it once,
//! with a count and the last one's details.

use super::*;

/// One change of a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// New (the first report), or its setup state changed.
    State(State),
    /// REAP's state changed.
    Reap(ReapState),
    /// The current locator pair changed.
    Moved {
        /// The pair left.
        from: Path,
        /// The pair payload goes on now.
        to: Path,
    },
    /// `count` Probes went, the last on `path`, saying `state`.
    ProbeSent {
        /// The last one's pair.
        path: Path,
        /// Our REAP state it carried.
        state: ReapState,
        /// How many.
        count: u32,
    },
    /// `count` Probes of the peer came, the last on `path`, saying `state`.
    ProbeHeard {
        /// The last one's pair.
        path: Path,
        /// The peer's REAP state it carried.
        state: ReapState,
        /// How many.
        count: u32,
    },
    /// `count` times an application's `SHIM_FEEDBACK`, the last saying
    /// whether the peer is `reachable`.
    Feedback {
        /// Satisfactory (`true`) or unable to reach.
        reachable: bool,
        /// How many.
        count: u32,
    },
}

/// A change of the context of `ulids` and `fii`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The context's ULIDs.
    pub ulids: UlidPair,
    /// Its Forked Instance Identifier.
    pub fii: u32,
    /// What changed.
    pub change: Change,
}

/// How many of something happened, and the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tally<T> {
    count: u32,
    last: Option<T>,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Tally { count: 0, last: None }
    }
}

impl<T: Copy> Tally<T> {
    fn note(&mut self, v: T) {
        self.count = self.count.wrapping_add(1);
        self.last = Some(v);
    }

    /// How many since `count` was reported, and the last; `None` if none.
    fn since(&self, count: u32) -> Option<(u32, T)> {
        let n = self.count.wrapping_sub(count);
        (n != 0).then_some(n).zip(self.last)
    }
}

/// What a context was when it last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    state: State,
    reap: ReapState,
    path: Path,
    probes_sent: u32,
    probes_heard: u32,
    feedback: u32,
}

/// What a context keeps for its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Log {
    probes_sent: Tally<(Path, ReapState)>,
    probes_heard: Tally<(Path, ReapState)>,
    feedback: Tally<bool>,
    reported: Option<Seen>,
}

impl Log {
    /// We sent a Probe on `path`, saying `state`.
    pub(super) fn probe_sent(&mut self, path: Path, state: ReapState) {
        self.probes_sent.note((path, state));
    }

    /// A Probe of the peer came on `path`, saying `state`.
    pub(super) fn probe_heard(&mut self, path: Path, state: ReapState) {
        self.probes_heard.note((path, state));
    }

    /// An application gave feedback.
    pub(super) fn feedback(&mut self, reachable: bool) {
        self.feedback.note(reachable);
    }
}

impl Context {
    /// Hands `f` what changed since this context last reported, causes
    /// first (feedback, the peer's probes), then what they did; and
    /// notes it all as reported.
    pub fn changes(&mut self, mut f: impl FnMut(Change)) {
        let log = &mut self.log;
        let now = Seen {
            state: self.state,
            reap: self.reap.state(),
            path: self.path,
            probes_sent: log.probes_sent.count,
            probes_heard: log.probes_heard.count,
            feedback: log.feedback.count,
        };
        let Some(was) = log.reported.replace(now) else {
            f(Change::State(now.state));
            return;
        };
        if let Some((count, reachable)) = log.feedback.since(was.feedback) {
            f(Change::Feedback { reachable, count });
        }
        if let Some((count, (path, state))) = log.probes_heard.since(was.probes_heard) {
            f(Change::ProbeHeard { path, state, count });
        }
        if now.state != was.state {
            f(Change::State(now.state));
        }
        if now.reap != was.reap {
            f(Change::Reap(now.reap));
        }
        if now.path != was.path {
            f(Change::Moved { from: was.path, to: now.path });
        }
        if let Some((count, (path, state))) = log.probes_sent.since(was.probes_sent) {
            f(Change::ProbeSent { path, state, count });
        }
    }
}

/// Most events queued between two drains; more are counted as lost.
pub const MAX_EVENTS: usize = 16;

/// Events waiting for the caller, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct Events {
    queue: [Option<Event>; MAX_EVENTS],
    len: usize,
    lost: u32,
}

impl Default for Events {
    fn default() -> Self {
        Events { queue: [None; MAX_EVENTS], len: 0, lost: 0 }
    }
}

impl Events {
    /// Queues what changed in `ctx` since it last reported.
    pub fn report(&mut self, ctx: &mut Context) {
        let (ulids, fii) = (ctx.ulids(), ctx.fii());
        ctx.changes(|change| self.push(Event { ulids, fii, change }));
    }

    fn push(&mut self, e: Event) {
        match self.queue.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(e);
                self.len += 1;
            }
            None => self.lost = self.lost.saturating_add(1),
        }
    }

    /// Hands `f` the queued events, oldest first, and empties the queue;
    /// returns how many were lost since the last drain (the queue was
    /// full).
    pub fn drain(&mut self, mut f: impl FnMut(&Event)) -> u32 {
        for e in self.queue.iter_mut().take(self.len) {
            if let Some(e) = e.take() {
                f(&e);
            }
        }
        self.len = 0;
        core::mem::take(&mut self.lost)
    }

    /// Whether events wait.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.lost == 0
    }
}
