// SPDX-License-Identifier: GPL-2.0

//! shimctl's command line, for clap: the commands, their help, the man
//! page and the shell completions come from here.

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Show and set what the shim6 module holds, iproute2 style";

const LONG_ABOUT: &str = "\
Show and set what the shim6 kernel module (SHIM6, RFC 5533; REAP, RFC 5534; \
HBA, RFC 5535) holds for a network namespace: its contexts, locators, \
counters and HBA set, and follow each change of a context as it happens.

shimctl talks to the module's generic netlink family \"shim6\" \
(include/uapi/linux/shim6.h) in the current network namespace, or in NETNS \
as `ip -n` does. Changing anything needs CAP_NET_ADMIN over the namespace; \
showing does not, but only an administrator is shown the context tags.";

#[derive(Parser, Debug)]
#[command(name = "shimctl", version, about = ABOUT, long_about = LONG_ABOUT)]
#[command(subcommand_required = true, arg_required_else_help = false)]
pub struct Cli {
    /// Print JSON: one document, or one object a line for monitor
    #[arg(short = 'j', long = "json", global = true)]
    pub json: bool,

    /// Work in network namespace NETNS (/run/netns/NETNS), as ip -n does
    #[arg(short = 'n', long = "netns", value_name = "NETNS", global = true)]
    pub netns: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The namespace's contexts (show is the default)
    #[command(visible_alias = "ctx")]
    Context {
        #[command(subcommand)]
        cmd: Option<ContextCmd>,
    },
    /// The namespace's global addresses; those its HBA set verifies are locators
    #[command(visible_alias = "loc")]
    Locator {
        #[command(subcommand)]
        cmd: Option<ShowCmd>,
    },
    /// What the namespace dropped or refused, by reason, and its context gauges
    Stats {
        #[command(subcommand)]
        cmd: Option<ShowCmd>,
    },
    /// Change a setting of the namespace (CAP_NET_ADMIN)
    Set {
        #[command(subcommand)]
        setting: Setting,
    },
    /// Print each change of a context as it happens, until interrupted
    Monitor,
    /// Hash-Based Addresses: generate a set, apply it to interfaces, or push a PDS
    Hba(HbaArgs),
    /// Print a completion script for SHELL
    Completion {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), as make install installs it
    #[command(hide = true)]
    Man,
}

#[derive(Subcommand, Debug)]
pub enum ContextCmd {
    /// ULIDs, locators, current pair, tags, FII, state, REAP, hot standby, traffic
    Show,
    /// Drop every context, as a host restart would (CAP_NET_ADMIN)
    Flush,
}

#[derive(Subcommand, Debug)]
pub enum ShowCmd {
    /// Show them
    Show,
}

#[derive(Subcommand, Debug)]
pub enum Setting {
    /// Switch SHIM6 on or off: off answers SHIM6 with Parameter Problem and flushes
    Enabled {
        #[arg(value_parser = ["on", "off"])]
        value: String,
    },
    /// How many contexts the namespace keeps (1 to 1048576; default 16384)
    MaxContexts {
        #[arg(value_name = "N")]
        n: u32,
    },
}

/// `hba` alone generates (the arguments), or one of the subcommands.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(override_usage = "shimctl hba [modifier HEX] [extended-modifier HEX] PREFIX/64...\n       \
                            shimctl hba apply [modifier HEX] [extended-modifier HEX] dev IF PREFIX/64 [dev IF PREFIX/64]...\n       \
                            shimctl hba show\n       \
                            shimctl hba set PDS-HEX\n       \
                            shimctl hba clear")]
#[command(after_help = "Without a subcommand: print the HBA set of the prefixes (an address for each, \
                        and the PDS that proves them), from a random Modifier and Extended Modifier \
                        unless given (32 and 96 hex digits). Nothing is changed.")]
pub struct HbaArgs {
    #[command(subcommand)]
    pub cmd: Option<HbaCmd>,

    /// [modifier HEX] [extended-modifier HEX] PREFIX/64...
    #[arg(value_name = "ARG", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum HbaCmd {
    /// Generate the set, give each interface its address, push the set, remember it
    #[command(override_usage = "shimctl hba apply [modifier HEX] [extended-modifier HEX] dev IF PREFIX/64 [dev IF PREFIX/64]...")]
    #[command(long_about = "\
Generate the HBA set of the prefixes, add each address to its interface (prefix length 64, \
no duplicate address detection), push the set to the module as `hba set` does, and keep the \
Modifiers and the PDS in /var/lib/shim6/NETNS.json (default.json without -n), so that the same \
command after a reboot or a module reload restores the same addresses. An address already on \
its interface is kept; addresses of a previous set that are not in this one are removed. \
Without `modifier`, a stored set of the same prefixes and interfaces keeps its Modifiers, \
else they are random.")]
    Apply {
        /// [modifier HEX] [extended-modifier HEX] dev IF PREFIX/64 [dev IF PREFIX/64]...
        #[arg(value_name = "ARG", required = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The set applied: its addresses, whether each is on its interface and a locator
    Show,
    /// Set the namespace's HBA set from the PDS of any of its addresses (CAP_NET_ADMIN)
    Set {
        #[arg(value_name = "PDS-HEX")]
        pds: String,
    },
    /// Clear the namespace's HBA set (CAP_NET_ADMIN)
    Clear,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// iproute2 spells its long options with one dash (`-json`, `-netns`);
/// clap reads those as clusters of short ones. Before the command, they
/// become clap's double-dash spelling.
pub fn iproute2_spellings(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut options = true;
    let mut value_next = false;
    for a in args {
        if out.is_empty() || value_next {
            value_next = false;
            out.push(a);
            continue;
        }
        if options {
            let spelled = match a.to_str() {
                Some("-json") => Some("--json"),
                Some("-netns") => Some("--netns"),
                Some("-help") => Some("--help"),
                _ => None,
            };
            match a.to_str() {
                Some("-n" | "-netns" | "--netns") => value_next = true,
                Some(s) if s.starts_with('-') => {}
                _ => options = false,
            }
            out.push(spelled.map_or(a, Into::into));
        } else {
            out.push(a);
        }
    }
    out
}

/// The whole page: clap's sections, then what clap cannot say (its
/// subcommands section would point at a page per subcommand).
pub fn man_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd).section("8").manual("System Administration").source("shim6");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    out.extend_from_slice(MAN_EXTRA.as_bytes());
    Ok(out)
}

/// The commands in full, the JSON keys, files, exit status: the stable
/// interface scripts rely on, in roff.
const MAN_EXTRA: &str = include_str!("../shimctl.8.in");
