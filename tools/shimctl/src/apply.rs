// SPDX-License-Identifier: GPL-2.0

//! `shimctl hba apply` and `hba show`: a namespace's HBA set in one step,
//! and kept so that the same command restores the same addresses.
//!
//! The addresses go on without Duplicate Address Detection. Their
//! interface identifiers are 59 bits of SHA-1 over a 128-bit random
//! Modifier and the whole prefix list, so two hosts draw the same one
//! with odds of about 2^-59: a duplicate means a copied state file or an
//! attacker answering DAD, and against the attacker DAD's only remedy
//! (RFC 3972's collision count) gives in after two tries anyway. Without
//! DAD the addresses are usable at once, which the PDS pushed right after
//! needs: the module's locators are the addresses that the set verifies.

use std::fs;
use std::io::{self, Write as _};
use std::net::Ipv6Addr;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shim6_core::proto::hba::{Prefix, EXTENDED_MODIFIER_LEN, MAX_PREFIXES, MODIFIER_LEN};
use shim6_core::uapi;

use crate::hba::{self, hex, show_prefix, unhex};
use crate::netlink::Shim6Socket;
use crate::rtnl::{ifindex, ifname, Rtnl};
use crate::show::{json_line, Locator};
use crate::{pds_attrs, refused, Cli};

/// Where the sets are kept, one file per namespace.
const STATE_DIR: &str = "/var/lib/shim6";

/// What `hba apply` was asked, before its values are checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    modifier: Option<String>,
    extended: Option<String>,
    /// (interface, prefix), in the order given.
    members: Vec<(String, String)>,
}

/// Reads `[modifier HEX] [extended-modifier HEX] dev IF PREFIX/64...`; a
/// usage error is clap's, so it looks and exits (2) as the others do.
pub fn parse(args: &[String]) -> Result<Request, clap::Error> {
    let mut req = Request { modifier: None, extended: None, members: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next().cloned().ok_or_else(|| usage_error(clap::error::ErrorKind::InvalidValue, &format!("{a} needs {what}")))
        };
        match a.as_str() {
            "modifier" => req.modifier = Some(value("32 hex digits")?),
            "extended-modifier" => req.extended = Some(value("96 hex digits")?),
            "dev" => {
                let dev = value("an interface")?;
                let prefix = it.next().cloned().ok_or_else(|| {
                    usage_error(clap::error::ErrorKind::InvalidValue, &format!("dev {dev} needs a PREFIX/64 after it"))
                })?;
                req.members.push((dev, prefix));
            }
            other => {
                return Err(usage_error(
                    clap::error::ErrorKind::UnknownArgument,
                    &format!("unexpected '{other}': each prefix comes after dev IF"),
                ))
            }
        }
    }
    if req.members.is_empty() {
        return Err(usage_error(clap::error::ErrorKind::MissingRequiredArgument, "no dev IF PREFIX/64 given"));
    }
    Ok(req)
}

fn usage_error(kind: clap::error::ErrorKind, msg: &str) -> clap::Error {
    use clap::CommandFactory as _;
    let mut cmd = Cli::command();
    cmd.build();
    match cmd.find_subcommand_mut("hba").and_then(|h| h.find_subcommand_mut("apply")) {
        Some(apply) => apply.error(kind, msg),
        None => cmd.error(kind, msg),
    }
}

/// One prefix of a kept set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    prefix: String,
    dev: String,
    address: Ipv6Addr,
}

/// A namespace's set as kept between runs: what generates it again.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    modifier: String,
    extended_modifier: String,
    prefixes: Vec<Member>,
    pds: String,
}

/// The file of the namespace's set: NETNS.json, `default.json` for the
/// current namespace. SHIM6_STATE_DIR moves the folder (tests, packaging).
fn state_path(netns: Option<&str>) -> PathBuf {
    let dir = std::env::var_os("SHIM6_STATE_DIR").map_or_else(|| PathBuf::from(STATE_DIR), PathBuf::from);
    dir.join(format!("{}.json", netns.unwrap_or("default")))
}

fn load(path: &Path) -> Result<Option<State>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| format!("{}: not a set shimctl wrote ({e})", path.display()))
}

/// Writes `state` to `path` whole or not at all (a new file renamed over
/// the old), readable by root alone: the Modifiers let anyone who reads
/// them make the same addresses.
fn save(path: &Path, state: &State) -> Result<(), String> {
    let at = |e: io::Error| format!("writing {}: {e}", path.display());
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(at)?;
    let text = serde_json::to_string_pretty(state).map_err(|e| format!("encoding the set: {e}"))? + "\n";
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| fs::File::open(dir)?.sync_all());
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(at)
}

/// " in network namespace NETNS", for messages about interfaces.
fn where_(netns: Option<&str>) -> String {
    netns.map_or(String::new(), |n| format!(" in network namespace \"{n}\""))
}

/// The set to apply: the kept one's Modifiers and order when it has the
/// same prefixes on the same interfaces (every address hashes the whole
/// prefix list, in order), else `modifier` and `extended` as given, else
/// random ones.
fn plan(
    mut wanted: Vec<(String, Prefix)>,
    modifier: Option<[u8; MODIFIER_LEN]>,
    extended: Option<[u8; EXTENDED_MODIFIER_LEN]>,
    old: Option<&State>,
) -> Result<State, String> {
    let same = old.filter(|o| {
        o.prefixes.len() == wanted.len()
            && o.prefixes.iter().all(|m| wanted.iter().any(|(d, p)| *d == m.dev && show_prefix(p) == m.prefix))
    });
    if let Some(o) = same {
        wanted = o.prefixes.iter().map(|m| Ok((m.dev.clone(), hba::prefix(&m.prefix)?))).collect::<Result<_, String>>()?;
    }
    let modifier = match (modifier, same) {
        (Some(m), _) => m,
        (None, Some(o)) => unhex(&o.modifier)?,
        (None, None) => hba::random()?,
    };
    let extended = match (extended, same) {
        (Some(e), _) => e,
        (None, Some(o)) => unhex(&o.extended_modifier)?,
        (None, None) => hba::random()?,
    };
    let prefixes: Vec<Prefix> = wanted.iter().map(|(_, p)| *p).collect();
    let set = hba::generate(&prefixes, modifier, extended)?;
    Ok(State {
        modifier: hex(&modifier),
        extended_modifier: hex(&extended),
        prefixes: wanted
            .iter()
            .zip(&set.addrs)
            .map(|((dev, p), &address)| Member { prefix: show_prefix(p), dev: dev.clone(), address })
            .collect(),
        pds: hex(&set.pds),
    })
}

/// Generates the set, puts each address on its interface, pushes the set
/// to the module and keeps it; then shows it as `hba show` does. Every
/// check comes before the first change.
pub fn apply(req: &Request, netns: Option<&str>, json: bool) -> Result<String, String> {
    if req.members.len() > MAX_PREFIXES {
        return Err(format!("{} prefixes: an HBA set has at most {MAX_PREFIXES}", req.members.len()));
    }
    let mut wanted: Vec<(String, Prefix)> = Vec::new();
    for (dev, p) in &req.members {
        let prefix = hba::prefix(p)?;
        if wanted.iter().any(|(_, q)| *q == prefix) {
            return Err(format!("{p}: given twice (an HBA set has each prefix once)"));
        }
        if ifindex(dev).is_none() {
            return Err(format!("dev {dev}: no such interface{}", where_(netns)));
        }
        wanted.push((dev.clone(), prefix));
    }
    let modifier = req.modifier.as_deref().map(unhex::<MODIFIER_LEN>).transpose()?;
    let extended = req.extended.as_deref().map(unhex::<EXTENDED_MODIFIER_LEN>).transpose()?;
    let path = state_path(netns);
    let old = load(&path)?;
    let state = plan(wanted, modifier, extended, old.as_ref())?;

    let mut rt = Rtnl::open().map_err(|e| format!("rtnetlink socket: {e}"))?;
    let present = rt.addresses().map_err(|e| format!("listing the addresses: {e}"))?;
    // The previous set's addresses that this one does not keep where they
    // are: removed, which also frees them to move to another interface.
    let stale: Vec<&Member> = old
        .iter()
        .flat_map(|o| &o.prefixes)
        .filter(|m| !state.prefixes.iter().any(|n| n.address == m.address && n.dev == m.dev))
        .collect();
    let mut missing = Vec::new();
    for m in &state.prefixes {
        let index = ifindex(&m.dev).ok_or_else(|| format!("dev {}: no such interface{}", m.dev, where_(netns)))?;
        match present.iter().find(|a| a.addr == m.address) {
            Some(a) if a.index == index => {}
            Some(a) if stale.iter().any(|s| s.address == m.address && ifindex(&s.dev) == Some(a.index)) => {
                missing.push((index, m))
            }
            Some(a) => {
                return Err(format!("{}: already in use on {}, cannot go on dev {}", m.address, ifname(a.index), m.dev))
            }
            None => missing.push((index, m)),
        }
    }
    let pds = hba::unhex_vec(&state.pds)?;
    let mut module = Shim6Socket::open()?;

    // Kept before anything changes, so that a run that fails part-way
    // leaves the Modifiers that the next run takes up.
    save(&path, &state)?;
    for s in &stale {
        let on = ifindex(&s.dev).filter(|&i| present.iter().any(|a| a.index == i && a.addr == s.address));
        if let Some(index) = on {
            rt.delete(index, s.address).map_err(|e| address_error("removing", s.address, "from", &s.dev, &e))?;
        }
    }
    for (index, m) in missing {
        match rt.add(index, m.address) {
            // Added meanwhile, by another run.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            r => r.map_err(|e| address_error("adding", m.address, "to", &m.dev, &e))?,
        }
    }
    module
        .request(uapi::shim6_genl_cmd_SHIM6_CMD_HBA_SET, pds_attrs(Some(pds)))
        .map_err(|e| refused("setting the HBA set", &e))?;
    show(netns, json)
}

fn address_error(doing: &str, addr: Ipv6Addr, prep: &str, dev: &str, e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::EPERM) {
        format!("{doing} {addr}/64 {prep} dev {dev} needs CAP_NET_ADMIN")
    } else {
        format!("{doing} {addr}/64 {prep} dev {dev}: {e}")
    }
}

#[derive(Serialize)]
struct ShownMember<'a> {
    prefix: Option<&'a str>,
    address: Ipv6Addr,
    dev: Option<&'a str>,
    /// On its interface now.
    present: bool,
    /// The module verifies it with its set (null: the module is not loaded).
    locator: Option<bool>,
}

#[derive(Serialize)]
struct Shown<'a> {
    netns: &'a str,
    /// The kept set's file; null for a set that `hba apply` did not make.
    file: Option<String>,
    module_loaded: bool,
    /// The module holds the kept set (null: the module is not loaded).
    in_force: Option<bool>,
    addresses: Vec<ShownMember<'a>>,
    modifier: Option<&'a str>,
    extended_modifier: Option<&'a str>,
    pds: &'a str,
}

/// The namespace's set: the kept one, each address, whether it is on its
/// interface and whether the module counts it a locator, and whether the
/// module holds that set (`SHIM6_CMD_HBA_GET`); without a kept set, the
/// module's own and the locators it verifies.
pub fn show(netns: Option<&str>, json: bool) -> Result<String, String> {
    let path = state_path(netns);
    let name = netns.unwrap_or("default");
    let state = load(&path)?;
    let present = Rtnl::open()
        .and_then(|mut rt| rt.addresses())
        .map_err(|e| format!("listing the addresses: {e}"))?;
    // The module's locators and its set's PDS; None when not loaded.
    let module: Option<(Vec<Locator>, Option<String>)> = match Shim6Socket::open() {
        Ok(mut s) => {
            let locators = s
                .dump(uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET)
                .map_err(|e| format!("dumping locators: {e}"))?
                .iter()
                .filter_map(|m| Locator::from_attrs(&m.attrs))
                .collect();
            let pds = s
                .dump(uapi::shim6_genl_cmd_SHIM6_CMD_HBA_GET)
                .map_err(|e| format!("reading the module's HBA set: {e}"))?
                .iter()
                .flat_map(|m| &m.attrs)
                .find(|a| u32::from(a.kind) == uapi::shim6_genl_attr_SHIM6_A_HBA_PDS)
                .map(|a| hex(&a.data));
            Some((locators, pds))
        }
        Err(_) => None,
    };
    let is_locator = |addr: Ipv6Addr| module.as_ref().map(|(l, _)| l.iter().any(|l| l.locator && l.address == addr));
    let module_pds = module.as_ref().and_then(|(_, p)| p.as_deref());
    let shown = match &state {
        Some(state) => Shown {
            netns: name,
            file: Some(path.display().to_string()),
            module_loaded: module.is_some(),
            in_force: module.as_ref().map(|_| module_pds == Some(state.pds.as_str())),
            addresses: state
                .prefixes
                .iter()
                .map(|m| ShownMember {
                    prefix: Some(&m.prefix),
                    address: m.address,
                    dev: Some(&m.dev),
                    present: ifindex(&m.dev).is_some_and(|i| present.iter().any(|a| a.index == i && a.addr == m.address)),
                    locator: is_locator(m.address),
                })
                .collect(),
            modifier: Some(&state.modifier),
            extended_modifier: Some(&state.extended_modifier),
            pds: &state.pds,
        },
        None => {
            let Some(pds) = module_pds else {
                let why = if module.is_some() { "the module holds none" } else { "the shim6 module is not loaded" };
                return Err(format!("no HBA set in {name} ({} does not exist, {why})", path.display()));
            };
            let locators = module.as_ref().map_or(&[][..], |(l, _)| &l[..]);
            Shown {
                netns: name,
                file: None,
                module_loaded: true,
                in_force: Some(true),
                addresses: locators
                    .iter()
                    .filter(|l| l.locator)
                    .map(|l| ShownMember { prefix: None, address: l.address, dev: None, present: true, locator: Some(true) })
                    .collect(),
                modifier: None,
                extended_modifier: None,
                pds,
            }
        }
    };
    if json {
        return json_line(&shown);
    }
    let status = match (shown.in_force, module_pds) {
        (None, _) => "the shim6 module is not loaded",
        (Some(true), _) => "in force",
        (Some(false), Some(_)) => "not in force: the module holds another set",
        (Some(false), None) => "not in force: the module holds none",
    };
    let mut s = match &shown.file {
        Some(f) => format!("hba set of {name} from {f}: {status}\n"),
        None => format!("hba set of {name} in the module, not kept by shimctl hba apply: {status}\n"),
    };
    for m in &shown.addresses {
        let locator = match m.locator {
            Some(true) => " locator",
            Some(false) => " not-locator",
            None => "",
        };
        let on = if m.present { "present" } else { "absent" };
        match (m.prefix, m.dev) {
            (Some(p), Some(d)) => s += &format!("address {} prefix {p} dev {d} {on}{locator}\n", m.address),
            _ => s += &format!("address {} {on}{locator}\n", m.address),
        }
    }
    if let (Some(m), Some(e)) = (shown.modifier, shown.extended_modifier) {
        s += &format!("modifier {m}\nextended-modifier {e}\n");
    }
    s += &format!("pds {}\n", shown.pds);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn wanted(members: &[(&str, &str)]) -> Vec<(String, Prefix)> {
        members.iter().map(|(d, p)| (d.to_string(), hba::prefix(p).unwrap())).collect()
    }

    #[test]
    fn parses_keywords_and_pairs() {
        let r = parse(&args("modifier aa extended-modifier bb dev eth0 2001:db8:1::/64 dev eth1 2001:db8:2::/64")).unwrap();
        assert_eq!(r.modifier.as_deref(), Some("aa"));
        assert_eq!(r.extended.as_deref(), Some("bb"));
        assert_eq!(r.members, [("eth0".into(), "2001:db8:1::/64".into()), ("eth1".into(), "2001:db8:2::/64".into())]);
        for bad in ["", "dev", "dev eth0", "2001:db8:1::/64", "modifier", "dev eth0 2001:db8:1::/64 extra"] {
            assert_eq!(parse(&args(bad)).map_err(|e| e.exit_code()), Err(2), "{bad:?}");
        }
    }

    #[test]
    fn a_kept_set_of_the_same_prefixes_and_interfaces_gives_the_same_addresses() {
        let first = plan(wanted(&[("a0", "2001:db8:1::/64"), ("a1", "2001:db8:2::/64")]), None, None, None).unwrap();
        // Given in another order: the kept order, so the same addresses.
        let again = plan(wanted(&[("a1", "2001:db8:2::/64"), ("a0", "2001:db8:1::/64")]), None, None, Some(&first)).unwrap();
        assert_eq!(again, first);
        // Another interface: another set.
        let moved = plan(wanted(&[("a0", "2001:db8:1::/64"), ("a2", "2001:db8:2::/64")]), None, None, Some(&first)).unwrap();
        assert_ne!(moved.modifier, first.modifier);
        assert!(moved.prefixes.iter().all(|m| first.prefixes.iter().all(|f| f.address != m.address)));
        // A Modifier given wins over the kept one.
        let given = plan(wanted(&[("a0", "2001:db8:1::/64"), ("a1", "2001:db8:2::/64")]), Some([7; 16]), None, Some(&first))
            .unwrap();
        assert_eq!(given.modifier, hex(&[7; 16]));
        assert_eq!(given.extended_modifier, first.extended_modifier);
    }

    /// The same set as `shimctl hba` prints it (tests/cli.rs has its known
    /// answer).
    #[test]
    fn plans_what_hba_generates() {
        let s = plan(wanted(&[("a0", "2001:db8:1::/64"), ("a1", "2001:db8:2::/64")]), Some(*b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), Some({
            let mut e = [0u8; EXTENDED_MODIFIER_LEN];
            e[EXTENDED_MODIFIER_LEN - 1] = 5;
            e
        }), None)
        .unwrap();
        assert_eq!(s.prefixes[0].address, "2001:db8:1:0:1c07:21c4:a3c8:bac3".parse::<Ipv6Addr>().unwrap());
        assert_eq!(s.prefixes[1].address, "2001:db8:2:0:423:2d7c:d378:cfcd".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn the_state_file_is_written_whole_and_for_root_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("shimctl-state-{}", std::process::id()));
        let path = dir.join("sub").join("ns.json");
        assert_eq!(load(&path), Ok(None));
        let s = plan(wanted(&[("a0", "2001:db8:1::/64")]), None, None, None).unwrap();
        save(&path, &s).unwrap();
        assert_eq!(load(&path), Ok(Some(s)));
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        // Replaced, with no temporary file left.
        let t = plan(wanted(&[("a0", "2001:db8:3::/64")]), None, None, None).unwrap();
        save(&path, &t).unwrap();
        assert_eq!(load(&path), Ok(Some(t)));
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        fs::write(&path, "{").unwrap();
        assert!(load(&path).unwrap_err().contains("not a set shimctl wrote"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
