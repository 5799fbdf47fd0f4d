// SPDX-License-Identifier: GPL-2.0

//! shimcat: netcat through the shim.  Connects to, or listens on, a ULID
//! over TCP or UDP, copying standard input to the peer and what the peer
//! sends to standard output, and steers the flow's context with SOL_SHIM
//! on the way (see `shimcat --help`).  Reports go to standard error, one
//! line each, starting `shimcat:`.

use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use shim6::{Ancillary, Direction, Feedback, Indicator, Locator, ShimSocket};

/// netcat through the shim6 module: TCP or UDP to or from a ULID, with
/// the context's locators chosen and shown.
#[derive(Parser, Debug, Clone)]
#[command(version, after_help = "Each line of standard input is one datagram in UDP mode.\n\
    With --show-locators, every datagram received is reported on standard error as\n  \
    shimcat: recv LEN from ULID local LOCATOR peer LOCATOR")]
struct Args {
    /// UDP instead of TCP.
    #[arg(short, long)]
    udp: bool,
    /// Listen on ADDR PORT instead of connecting to it.
    #[arg(short, long)]
    listen: bool,
    /// Send back everything received (listening): a test peer.
    #[arg(short, long, requires = "listen")]
    echo: bool,
    /// Our ULID: the local address to connect from.
    #[arg(short, long, value_name = "ADDR", conflicts_with = "listen")]
    source: Option<Ipv6Addr>,
    /// Once the context is up, move it to this locator of the peer
    /// (SHIM_LOC_PEER_PREF).
    #[arg(long, value_name = "ADDR", conflicts_with = "listen")]
    prefer_peer: Option<Ipv6Addr>,
    /// Once the context is up, move it to this locator of ours
    /// (SHIM_LOC_LOCAL_PREF).
    #[arg(long, value_name = "ADDR", conflicts_with = "listen")]
    prefer_local: Option<Ipv6Addr>,
    /// Report the locators each datagram came on (SHIM_LOC_*_RECV; UDP).
    #[arg(long, requires = "udp")]
    show_locators: bool,
    /// A datagram sent while an earlier one has gone MS milliseconds
    /// without anything from the peer tells the shim the path is
    /// unsatisfactory (SHIM_FEEDBACK), which starts REAP's exploration at
    /// once (UDP, connecting).
    #[arg(long, value_name = "MS", requires = "udp", conflicts_with = "listen")]
    feedback: Option<u64>,
    /// Wait this long after each datagram sent (UDP, connecting), as
    /// netcat's -i does between lines.
    #[arg(short, long, value_name = "SECONDS", requires = "udp", conflicts_with = "listen")]
    interval: Option<f64>,
    /// How long to wait for the context before --prefer-* gives up.
    #[arg(short, long, value_name = "SECONDS", default_value_t = 10.0)]
    wait: f64,
    /// After the end of standard input, wait this long for the peer
    /// before quitting (connecting).
    #[arg(short, long, value_name = "SECONDS", default_value_t = 1.0)]
    quit: f64,
    /// The peer's ULID, or the address to listen on.
    addr: Ipv6Addr,
    /// Port.
    port: u16,
}

fn say(msg: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "shimcat: {msg}");
}

fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Sets the preferred locators once the socket's context is up (it is
/// set up beside the first packets).
fn prefer(sock: &impl ShimSocket, args: &Args) -> io::Result<()> {
    if args.prefer_peer.is_none() && args.prefer_local.is_none() {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.wait);
    while !sock.associated()? {
        if Instant::now() > deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no context came up"));
        }
        thread::sleep(Duration::from_millis(50));
    }
    if let Some(l) = args.prefer_local {
        sock.set_local_pref(&Locator::new(l))?;
    }
    if let Some(p) = args.prefer_peer {
        sock.set_peer_pref(&Locator::new(p))?;
    }
    let (l, p) = (sock.local_pref()?, sock.peer_pref()?);
    say(format_args!("preferred local {} peer {}", l.addr, p.addr));
    Ok(())
}

fn bind_addr(args: &Args) -> SocketAddr {
    SocketAddr::V6(SocketAddrV6::new(args.source.unwrap_or(Ipv6Addr::UNSPECIFIED), 0, 0, 0))
}

fn copy_to_stdout(mut from: impl Read) -> io::Result<()> {
    let mut out = io::stdout();
    let mut buf = [0u8; 65536];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
}

fn tcp_connect(args: &Args) -> io::Result<()> {
    let sock = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None)?;
    sock.bind(&bind_addr(args).into())?;
    sock.connect(&SocketAddr::V6(SocketAddrV6::new(args.addr, args.port, 0, 0)).into())?;
    let stream: TcpStream = sock.into();
    let reader = stream.try_clone()?;
    let rx = thread::spawn(move || copy_to_stdout(reader));
    let steer = stream.try_clone()?;
    let prefs = thread::scope(|s| {
        let p = s.spawn(|| prefer(&steer, args));
        let sent = io::copy(&mut io::stdin().lock(), &mut &stream);
        (p.join(), sent)
    });
    match prefs {
        (Ok(r), sent) => {
            r?;
            sent?;
        }
        (Err(_), _) => return Err(io::Error::other("steering thread failed")),
    }
    stream.shutdown(std::net::Shutdown::Write)?;
    rx.join().map_err(|_| io::Error::other("receiving thread failed"))?
}

fn tcp_listen(args: &Args) -> io::Result<()> {
    let l = TcpListener::bind(SocketAddrV6::new(args.addr, args.port, 0, 0))?;
    say(format_args!("listening on [{}]:{}", args.addr, args.port));
    loop {
        let (mut c, from) = l.accept()?;
        say(format_args!("connection from {from}"));
        if args.echo {
            let mut back = c.try_clone()?;
            thread::spawn(move || io::copy(&mut c, &mut back));
            continue;
        }
        let writer = c.try_clone()?;
        thread::spawn(move || io::copy(&mut io::stdin().lock(), &mut &writer));
        return copy_to_stdout(c);
    }
}

/// Reports a datagram and, with --show-locators, what it came on.
fn report(sock: &UdpSocket, r: &shim6::Received, buf: &[u8], args: &Args) -> io::Result<()> {
    if args.show_locators {
        let (l, p) = r.locators();
        let show = |a: Option<Ipv6Addr>| a.map_or("-".to_string(), |a| a.to_string());
        let from = r.from.map_or_else(|| sock.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(), |f| f.ip().to_string());
        say(format_args!("recv {} from {from} local {} peer {}", r.len, show(l), show(p)));
    }
    if !args.echo {
        let mut out = io::stdout().lock();
        out.write_all(buf.get(..r.len).unwrap_or(buf))?;
        out.flush()?;
    }
    Ok(())
}

fn udp_connect(args: &Args) -> io::Result<()> {
    let sock = Arc::new(UdpSocket::bind(bind_addr(args))?);
    sock.connect(SocketAddrV6::new(args.addr, args.port, 0, 0))?;
    if args.show_locators {
        sock.set_recv_locators(true, true)?;
    }
    let start = Instant::now();
    // When the peer was last heard from, in ms after `start`.
    let heard = Arc::new(AtomicU64::new(0));
    {
        let (sock, heard, args) = (sock.clone(), heard.clone(), args.clone());
        thread::spawn(move || -> io::Result<()> {
            let mut buf = [0u8; 65536];
            loop {
                let r = match sock.recv_shim(&mut buf) {
                    // An ICMPv6 error of an earlier datagram: not fatal.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                    r => r?,
                };
                heard.store(millis_since(start), Ordering::Relaxed);
                report(&sock, &r, &buf, &args)?;
            }
        });
    }
    thread::scope(|s| -> io::Result<()> {
        let steer = s.spawn(|| prefer(&*sock, args));
        // When the oldest datagram still without an answer went: silence
        // counts from there, not from the last answer, or a sender that
        // pauses longer than MS would complain of a path that works.
        let mut waiting_since = None;
        for line in io::stdin().lock().split(b'\n') {
            let mut d = line?;
            d.push(b'\n');
            let now = millis_since(start);
            if waiting_since.is_some_and(|w| heard.load(Ordering::Relaxed) >= w) {
                waiting_since = None;
            }
            let silent = waiting_since.map_or(0, |w| now - w);
            let fb = match args.feedback {
                Some(ms) if silent > ms => {
                    vec![Ancillary::Feedback(Feedback { direction: Direction::Outbound, indicator: Indicator::Unsatisfactory })]
                }
                _ => Vec::new(),
            };
            match sock.send_shim(&d, None, &fb) {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                r => {
                    r?;
                }
            }
            waiting_since.get_or_insert(now);
            if !fb.is_empty() {
                say(format_args!("feedback: nothing from the peer for {silent} ms"));
            }
            if let Some(i) = args.interval {
                thread::sleep(Duration::from_secs_f64(i));
            }
        }
        steer.join().map_err(|_| io::Error::other("steering thread failed"))?
    })?;
    thread::sleep(Duration::from_secs_f64(args.quit));
    Ok(())
}

fn udp_listen(args: &Args) -> io::Result<()> {
    let sock = Arc::new(UdpSocket::bind(SocketAddrV6::new(args.addr, args.port, 0, 0))?);
    if args.show_locators {
        sock.set_recv_locators(true, true)?;
    }
    say(format_args!("listening on [{}]:{}", args.addr, args.port));
    // Standard input goes to whoever sent last.
    let last = Arc::new(std::sync::Mutex::new(None::<SocketAddrV6>));
    if !args.echo {
        let (sock, last) = (sock.clone(), last.clone());
        thread::spawn(move || -> io::Result<()> {
            for line in io::stdin().lock().split(b'\n') {
                let mut d = line?;
                d.push(b'\n');
                let to = *last.lock().map_err(|_| io::Error::other("lock poisoned"))?;
                if let Some(to) = to {
                    sock.send_shim(&d, Some(&to), &[])?;
                }
            }
            Ok(())
        });
    }
    let mut buf = [0u8; 65536];
    loop {
        let r = sock.recv_shim(&mut buf)?;
        report(&sock, &r, &buf, args)?;
        if let Some(from) = r.from {
            if args.echo {
                sock.send_shim(buf.get(..r.len).unwrap_or(&buf), Some(&from), &[])?;
            }
            *last.lock().map_err(|_| io::Error::other("lock poisoned"))? = Some(from);
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let r = match (args.udp, args.listen) {
        (false, false) => tcp_connect(&args),
        (false, true) => tcp_listen(&args),
        (true, false) => udp_connect(&args),
        (true, true) => udp_listen(&args),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(format_args!("{e}"));
            ExitCode::FAILURE
        }
    }
}
