//! Representative actions for the verification benchmarks (`benches/verify.rs` and
//! `infrafi bench verify`), declared once so both measure the same thing: a flat action
//! (`stake`: two amounts), one with an address and an enum (`transfer`) and one with nested
//! structs and a list (`propose_loan`: loan terms with two tranches and three receipts).

use infrafi_core::{
    Action, Address, Amount, Asset, Bps, Rate, ReceiptId, SiloId, WAD,
    action::{ProposeLoan, Stake, Transfer},
    loans::{LoanTerms, TrancheTerms},
    schedule::InterestModel,
};

/// `(name, action)` for each representative action.
pub fn sample_actions() -> Vec<(&'static str, Action)> {
    let whole = |n: u128| Amount(n * WAD);
    let borrower = Address::repeat_byte(0x42);
    vec![
        ("stake", Action::Stake(Stake { assets: whole(1_000), min_shares: whole(990) })),
        (
            "transfer",
            Action::Transfer(Transfer {
                asset: Asset::Usdai,
                to: Address::repeat_byte(0x24),
                amount: whole(250),
            }),
        ),
        (
            "propose_loan",
            Action::ProposeLoan(ProposeLoan {
                silo_id: SiloId(0),
                terms: LoanTerms {
                    borrower,
                    receipts: vec![ReceiptId(1), ReceiptId(2), ReceiptId(3)],
                    senior: TrancheTerms {
                        amount: whole(700_000),
                        rate: Rate::from_apr_bps(1_200),
                    },
                    junior: TrancheTerms {
                        amount: whole(120_000),
                        rate: Rate::from_apr_bps(1_800),
                    },
                    model: InterestModel::Amortized,
                    periods: Some(24),
                    interval_secs: Some(30 * 86_400),
                    grace_period_secs: 15 * 86_400,
                    grace_rate: Rate::from_apr_bps(2_400),
                    origination_fee_bps: Bps(100),
                    exit_fee_bps: Bps(50),
                    expires_at: 1_800_000_000,
                },
            }),
        ),
    ]
}
