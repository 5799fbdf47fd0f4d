// SPDX-License-Identifier: GPL-2.0

//! shimctl: what the shim6 module holds, in the style of iproute2.
//!
//!     shimctl [-j] [-n NETNS] context show | context flush
//!     shimctl [-n NETNS] set enabled on|off | set max-contexts N
//!     shimctl [-j] [-n NETNS] locator show | stats show | monitor
//!     shimctl [-j] [-n NETNS] hba apply dev IF PREFIX/64... | hba show
//!     shimctl [-n NETNS] hba set PDS-HEX | hba clear
//!     shimctl [-j] hba [modifier HEX] [extended-modifier HEX] PREFIX/64...
//!     shimctl completion bash|zsh|fish
//!
//! Talks to the module's generic netlink family (see
//! `include/uapi/linux/shim6.h`) in the current network namespace, or in
//! NETNS (as `ip -n` does, from /run/netns).

use std::io;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use shim6_core::uapi;

mod apply;
mod cli;
#[cfg(test)]
mod golden;
mod hba;
mod monitor;
mod netlink;
mod rtnl;
mod show;

use cli::{Cli, Command, ContextCmd, HbaCmd, Setting};
use netlink::{Attr, Shim6Socket};

fn enter_netns(name: &str) -> io::Result<()> {
    if name.contains('/') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a namespace name has no '/'"));
    }
    let path = std::ffi::CString::new(format!("/run/netns/{name}"))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad namespace name"))?;
    // SAFETY: `path` is a valid C string; the descriptor is checked and closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is an open namespace file; setns only changes this thread's namespace,
    // and shimctl is single-threaded.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    let err = io::Error::last_os_error();
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    if r < 0 {
        return Err(err);
    }
    Ok(())
}

/// Every message of dump `cmd`, formatted by `show`; `what` names it in
/// errors.
fn dump(cmd: u32, what: &str, show: fn(&[netlink::Shim6], bool) -> Result<String, String>, json: bool) -> Result<String, String> {
    let msgs = Shim6Socket::open()?.dump(cmd).map_err(|e| format!("dumping {what}: {e}"))?;
    show(&msgs, json)
}

/// Runs do command `cmd` with `attrs`; `what` names it in errors.
fn request(cmd: u32, attrs: Vec<Attr>, what: &str) -> Result<String, String> {
    Shim6Socket::open()?.request(cmd, attrs).map_err(|e| refused(what, &e))?;
    Ok(String::new())
}

/// What to say when the module refuses `what`.
fn refused(what: &str, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => format!("{what} needs CAP_NET_ADMIN"),
        Some(libc::EINVAL) => format!("{what}: the module refused the value (EINVAL)"),
        Some(libc::ERANGE) => format!("{what}: the value is out of range (ERANGE)"),
        _ => format!("{what}: {e}"),
    }
}

/// The attribute of `hba set`: the PDS, or none to clear.
fn pds_attrs(pds: Option<Vec<u8>>) -> Vec<Attr> {
    pds.map(|p| Attr::new(uapi::shim6_genl_attr_SHIM6_A_HBA_PDS, &p)).into_iter().collect()
}

fn hba_set(pds_hex: Option<&str>) -> Result<String, String> {
    let pds = pds_hex.map(hba::unhex_vec).transpose()?;
    request(uapi::shim6_genl_cmd_SHIM6_CMD_HBA_SET, pds_attrs(pds), "setting the HBA set")
}

fn run(cli: Cli) -> Result<String, String> {
    let json = cli.json;
    let netns = cli.netns.as_deref();
    match cli.command {
        Command::Context { cmd: None | Some(ContextCmd::Show) } => {
            dump(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_GET, "contexts", show::contexts, json)
        }
        Command::Context { cmd: Some(ContextCmd::Flush) } => {
            request(uapi::shim6_genl_cmd_SHIM6_CMD_CONTEXT_FLUSH, Vec::new(), "flushing the contexts")
        }
        Command::Locator { .. } => dump(uapi::shim6_genl_cmd_SHIM6_CMD_LOCATOR_GET, "locators", show::locators, json),
        Command::Stats { .. } => dump(uapi::shim6_genl_cmd_SHIM6_CMD_STATS_GET, "counters", show::stats, json),
        Command::Monitor => monitor::run(json),
        Command::Set { setting: Setting::Enabled { value } } => request(
            uapi::shim6_genl_cmd_SHIM6_CMD_NETNS_SET,
            vec![Attr::new(uapi::shim6_genl_attr_SHIM6_A_ENABLED, &[u8::from(value == "on")])],
            "switching SHIM6",
        ),
        Command::Set { setting: Setting::MaxContexts { n } } => request(
            uapi::shim6_genl_cmd_SHIM6_CMD_NETNS_SET,
            vec![Attr::new(uapi::shim6_genl_attr_SHIM6_A_MAX_CONTEXTS, &n.to_ne_bytes())],
            &format!("setting the context limit (1 to {})", uapi::SHIM6_MAX_CONTEXTS_LIMIT),
        ),
        Command::Hba(h) => match h.cmd {
            None => hba::run(&h.args, json),
            Some(HbaCmd::Set { pds }) => hba_set(Some(&pds)),
            Some(HbaCmd::Clear) => hba_set(None),
            Some(HbaCmd::Apply { args }) => apply::apply(&apply::parse(&args).unwrap_or_else(|e| e.exit()), netns, json),
            Some(HbaCmd::Show) => apply::show(netns, json),
        },
        Command::Completion { shell } => {
            let mut out = Vec::new();
            let mut cmd = Cli::command();
            match shell {
                cli::Shell::Bash => clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "shimctl", &mut out),
                cli::Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "shimctl", &mut out),
                cli::Shell::Fish => clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "shimctl", &mut out),
            }
            String::from_utf8(out).map_err(|e| format!("completion script: {e}"))
        }
        Command::Man => {
            let page = cli::man_page(Cli::command()).map_err(|e| format!("man page: {e}"))?;
            String::from_utf8(page).map_err(|e| format!("man page: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches_from(cli::iproute2_spellings(std::env::args_os()));
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(ns) = &cli.netns {
        if let Err(e) = enter_netns(ns) {
            eprintln!("shimctl: cannot enter network namespace \"{ns}\": {e}");
            return ExitCode::FAILURE;
        }
    }
    match run(cli) {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shimctl: {e}");
            ExitCode::FAILURE
        }
    }
}
