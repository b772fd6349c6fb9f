//! Agreements, their disclosure, pledges and progress; reports of
//! unconfirmed claims; resource estimates: the projections and the rules
//! (`docs/design/agreements.md`).

pub(crate) mod rules;
pub mod state;

pub use state::{
    AgreementState, ClauseState, Confirmation, DisclosureState, PledgeState, PledgeStatus,
    ProgressState, ReportState, ResourceState, Select, VersionState,
};
