//! `oretrace`: the command line entry point. `main` maps the outcome of
//! [`run`] to an exit code: 0 verified or done, 1 verification failed,
//! 2 operational error.

mod agreement_cmds;
mod agreement_show;
mod audit_cmd;
mod cli;
mod cluster;
mod commands;
mod compliance_cmd;
mod custody_cmd;
mod demo_inbox;
mod epcis_cmds;
mod ledger_cmds;
mod monitor;
mod passport_cmd;
mod provenance_cmd;
mod reconcile_cmd;
mod scenario;
mod scenario_deals;
mod value_added_cmd;
mod witness_cmd;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
