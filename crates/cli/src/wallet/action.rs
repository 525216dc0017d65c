//! One action, typed for people: `infrafi tx <action> --flag value`.
//!
//! The naming rule, with no exceptions: the subcommand is the action's wire name in kebab-case
//! (`mint-usdai` for `mint_usdai`), and each flag is one of the action's fields in kebab-case
//! (`--min-out` for `min_out`). A field that is itself a set of arguments (a loan's `terms`, a
//! receipt's `description`, a sale's `report`) is flattened into its own fields' flags; where
//! two nested fields share a name (a loan's senior and junior tranche terms) each flag is
//! prefixed by its parent field (`--senior-amount`, `--junior-rate`). The command is built from
//! the action's struct with the same field names (`Stake { assets, min_shares }`), so a flag
//! that drifted from its field would not compile; a test checks that every action has its
//! subcommand.
//!
//! Values are typed for people: amounts and prices are decimals of the token (`1250.5`), rates
//! are annual (`4.5%` or `450bps`), basis points are integers, ids are numbers. `raw` takes any
//! action's JSON.
//!
//! This file holds the command list and its conversion; `values` holds the value parsers and
//! `args` the flattened argument groups.

mod args;
mod values;

use anyhow::{Context, Result};
pub(crate) use args::{
    AssetClassTermsArgs, IncomeTermsArgs, LoanTermsArgs, ReceiptDescriptionArgs, SaleReportArgs,
    SiloTermsArgs,
};
use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, LoanId, ReceiptId, RequestId, Role, SiloId,
    Symbol,
    action::*,
    ids::{B256, PayoutId},
    math::{Bps, Rate},
    params::{ParameterChange, PauseScope},
};
use values::{
    amount, amount_or_max, asset, bps, change, class_id, loan_id, model, payout_id, price, rate,
    receipt_id, request_id, role, scope, silo_id, symbol,
};

/// Declares [`ActionCommand`] and its conversion from one list: each variant is an action's
/// struct name, each field one of its fields, converted into the field's type with `into` (the
/// identity, or a flattened argument set's `From`).
macro_rules! action_commands {
    ($($(#[$doc:meta])* $action:ident { $($(#[$arg:meta])* $field:ident: $type:ty,)* })*) => {
        /// One action, typed for people. `raw` takes any action's JSON.
        #[derive(clap::Subcommand, Debug)]
        #[allow(missing_docs)] // The variants are documented; their fields are the action's.
        pub(crate) enum ActionCommand {
            $($(#[$doc])* $action { $($(#[$arg])* $field: $type,)* },)*
            /// Any action as JSON (`{"type":"stake",...}`): every action the node knows.
            Raw {
                #[arg(long)]
                json: String,
            },
        }

        impl ActionCommand {
            /// The action.
            #[allow(clippy::useless_conversion)] // Most fields already have their type.
            pub(crate) fn action(self) -> Result<Action> {
                Ok(match self {
                    $(ActionCommand::$action { $($field,)* } => {
                        Action::$action($action { $($field: $field.into(),)* })
                    })*
                    ActionCommand::Raw { json } => {
                        serde_json::from_str(&json).context("the action JSON")?
                    }
                })
            }
        }
    };
}

action_commands! {
    /// Send an asset (`USDai`, `sUSDai`, a stablecoin) to another user.
    Transfer {
        #[arg(long, value_parser = asset)] asset: Asset,
        #[arg(long)] to: Address,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Admin: grant a role.
    GrantRole {
        #[arg(long, value_parser = role)] role: Role,
        #[arg(long)] account: Address,
    }
    /// Admin: revoke a role.
    RevokeRole {
        #[arg(long, value_parser = role)] role: Role,
        #[arg(long)] account: Address,
    }
    /// Admin: change a parameter (`--change '{"parameter":"mint_fee_bps","value":10}'`).
    SetParameter {
        #[arg(long, value_parser = change)] change: ParameterChange,
    }
    /// Guardian: pause or unpause a scope.
    SetPause {
        #[arg(long, value_parser = scope)] scope: PauseScope,
        #[arg(long, action = clap::ArgAction::Set)] paused: bool,
    }
    /// Compliance: freeze an address.
    Freeze {
        #[arg(long)] account: Address,
    }
    /// Compliance: unfreeze an address.
    Unfreeze {
        #[arg(long)] account: Address,
    }
    /// KYC registrar: set an address's verification.
    SetKyc {
        #[arg(long)] account: Address,
        #[arg(long, action = clap::ArgAction::Set)] verified: bool,
    }
    /// Admin: support a new stablecoin.
    AddStablecoin {
        #[arg(long, value_parser = symbol)] token: Symbol,
    }
    /// Oracle: post a stablecoin's price in USD (`0.9998`).
    PostPrice {
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = price)] price_wad: u128,
    }
    /// Oracle: post the T-bill yield, annual (`4.5%`).
    PostTbillRate {
        #[arg(long, value_parser = rate)] rate: Rate,
    }
    /// Attestor: credit an external deposit.
    GatewayCredit {
        #[arg(long)] account: Address,
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = amount)] amount: Amount,
        #[arg(long)] external_id: B256,
    }
    /// Withdraw a stablecoin to another chain.
    GatewayWithdraw {
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = amount)] amount: Amount,
        #[arg(long)] destination: String,
    }
    /// Attestor: confirm a payout.
    GatewayConfirm {
        #[arg(long, value_parser = payout_id)] payout_id: PayoutId,
        #[arg(long)] external_id: B256,
    }
    /// Attestor: reject a payout.
    GatewayReject {
        #[arg(long, value_parser = payout_id)] payout_id: PayoutId,
        #[arg(long)] reason: String,
    }
    /// Mint USDai from a stablecoin.
    MintUsdai {
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = amount)] amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")] min_out: Amount,
    }
    /// Redeem USDai for a stablecoin.
    RedeemUsdai {
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = amount)] amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")] min_out: Amount,
    }
    /// Keeper: harvest the reserve's surplus into the vault.
    HarvestBaseYield {}
    /// Reserve custodian: attest the T-bills behind USDai (USD amounts, unix as-of time, the
    /// keccak-256 of the statement).
    PostReserveAttestation {
        #[arg(long, value_parser = amount)] par_amount: Amount,
        #[arg(long, value_parser = amount)] market_value: Amount,
        #[arg(long)] as_of: u64,
        #[arg(long)] document_hash: B256,
    }
    /// Stake USDai for sUSDai.
    Stake {
        #[arg(long, value_parser = amount)] assets: Amount,
        #[arg(long, value_parser = amount, default_value = "0")] min_shares: Amount,
    }
    /// Mint exactly `--shares` sUSDai for at most `--max-assets` USDai.
    MintShares {
        #[arg(long, value_parser = amount)] shares: Amount,
        #[arg(long, value_parser = amount)] max_assets: Amount,
    }
    /// Give USDai to all shareholders.
    DonateToVault {
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Lock sUSDai in a redemption request.
    RequestRedeem {
        #[arg(long, value_parser = amount)] shares: Amount,
    }
    /// Cancel an unserved redemption request.
    CancelRedeem {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
    }
    /// Keeper: run a servicing round.
    ServiceQueue {
        #[arg(long, default_value_t = 1_000)] max_requests: u32,
    }
    /// Claim what a request owes: served USDai, released escrow, vested wait-fees.
    Claim {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
    }
    /// Admin: register an asset class.
    AddAssetClass {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[command(flatten)] terms: AssetClassTermsArgs,
    }
    /// Admin: step a class down when a new generation launches.
    ApplyGenerationStepDown {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[arg(long, value_parser = bps)] step_down_bps: Bps,
    }
    /// Custodian: issue a receipt.
    IssueReceipt {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[arg(long)] owner: Address,
        #[command(flatten)] description: ReceiptDescriptionArgs,
    }
    /// Issuing custodian: amend a receipt's description.
    AmendReceipt {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[command(flatten)] description: ReceiptDescriptionArgs,
    }
    /// Issuing custodian: release an issued receipt.
    ReleaseReceipt {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Owner: transfer a free receipt.
    TransferReceipt {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long)] to: Address,
    }
    /// Owner: ask for the hardware back.
    RequestReceiptRedemption {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Issuing custodian: hand the hardware back and burn the receipt.
    RedeemReceipt {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Insurer: attach a policy.
    AttachPolicy {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long)] policy_id: B256,
        #[arg(long, value_parser = amount)] coverage: Amount,
        #[arg(long)] expires_at: u64,
    }
    /// The policy's insurer: renew it.
    RenewPolicy {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long, value_parser = amount)] coverage: Amount,
        #[arg(long)] expires_at: u64,
    }
    /// Appraiser: value a receipt.
    PostValuation {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long, value_parser = amount)] value: Amount,
    }
    /// Curator: open a silo.
    OpenSilo {
        #[command(flatten)] terms: SiloTermsArgs,
    }
    /// Curator: add first-loss capital.
    DepositFirstLoss {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Curator: withdraw first-loss capital.
    WithdrawFirstLoss {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Admin: set a silo's senior cap.
    SetSiloSeniorCap {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long, value_parser = amount)] cap: Amount,
    }
    /// Admin: freeze or unfreeze a silo.
    SetSiloFrozen {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long, action = clap::ArgAction::Set)] frozen: bool,
    }
    /// Admin: assign a frozen silo to a successor curator.
    AssignSuccessorCurator {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long)] curator: Address,
    }
    /// Curator: propose a loan in its silo.
    ProposeLoan {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[command(flatten)] terms: LoanTermsArgs,
    }
    /// Curator or borrower: cancel a proposal.
    CancelLoanProposal {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
    }
    /// Borrower: accept a proposal (originates the loan).
    AcceptLoan {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
    }
    /// Anyone: pay what is due (at most `--max-amount`, `max` by default).
    RepayLoan {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long, value_parser = amount_or_max, default_value = "max")] max_amount: Amount,
    }
    /// Anyone: prepay principal.
    PrepayLoan {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long, value_parser = amount)] principal: Amount,
        #[arg(long, value_parser = amount_or_max, default_value = "max")] max_amount: Amount,
    }
    /// Borrower: pledge more receipts (comma-separated ids).
    PledgeReceipts {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long, value_delimiter = ',', value_parser = receipt_id, required = true)]
        receipt_ids: Vec<ReceiptId>,
    }
    /// Keeper: re-mark open loans.
    RemarkLoans {
        #[arg(long, value_parser = loan_id, default_value = "0")] first_loan_id: LoanId,
        #[arg(long, default_value_t = 500)] max_loans: u32,
    }
    /// Anyone: default a loan past its grace period or cure window.
    TriggerDefault {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
    }
    /// Curator or admin: hand a defaulted loan's receipts to a liquidation agent (after its
    /// sale deadline, the admin alone).
    ForecloseLoan {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long)] liquidation_agent: Address,
    }
    /// Liquidation agent: report a receipt's sale (held for the admin when a cost is above the
    /// class's recovery cost model).
    ReportSale {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[command(flatten)] report: SaleReportArgs,
    }
    /// Admin: approve (`--approve true`: it executes as reported) or reject (`--approve false`:
    /// the gross goes back to the agent) a sale report held for costs above the cost model.
    DecideHeldSale {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long, action = clap::ArgAction::Set)] approve: bool,
    }
    /// Admin: write off a foreclosed receipt nobody sold by its loan's sale deadline (it
    /// recovers nothing; the loan settles once nothing is left to sell).
    WriteOffReceipt {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Insurer: pay a claim on a foreclosed receipt.
    PayInsuranceClaim {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Insurer: pay a casualty claim (hardware destroyed or stolen) on a receipt of an active
    /// loan: the coverage prepays the loan, up to its payoff, and the receipt goes to the
    /// insurer.
    PayCasualtyClaim {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Borrower: claim a liquidation surplus held while it was frozen.
    ClaimLoanSurplus {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
    }
    /// Curator: the covenants of the silo's new loans (reserve in payments, report interval).
    SetLoanCovenants {
        #[arg(long, value_parser = silo_id)] silo_id: SiloId,
        #[arg(long, default_value = "0")] debt_service_reserve_periods: u32,
        #[arg(long, default_value = "0")] report_interval_secs: u64,
    }
    /// Refill a loan's debt-service reserve (USDai), up to its requirement.
    FundDebtServiceReserve {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Pay a loan's missed payments out of its debt-service reserve.
    DrawDebtServiceReserve {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
    }
    /// Borrower: post the keccak-256 of the operator's periodic financial report.
    PostBorrowerReport {
        #[arg(long, value_parser = loan_id)] loan_id: LoanId,
        #[arg(long)] document_hash: B256,
    }
    /// Set the open bid per share in USDai (`0.002`); 0 withdraws it.
    SetBid {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long, value_parser = price)] price_wad: u128,
    }
    /// Commit a sealed bid (`infrafi sealed-bid-commitment` computes the commitment).
    CommitSealedBid {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long)] commitment: B256,
        #[arg(long, value_parser = amount)] deposit: Amount,
    }
    /// Reveal a sealed bid in the reveal window.
    RevealSealedBid {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long, value_parser = price)] price_wad: u128,
        #[arg(long)] salt: B256,
    }
    /// Give one's request to another address.
    TransferRequest {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long)] to: Address,
    }
    /// List one's request for sale at a USDai price for the whole position.
    ListRequest {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long, value_parser = amount)] price: Amount,
    }
    /// Withdraw one's listing.
    DelistRequest {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
    }
    /// Buy a listed request (at most `--max-price`, worth at least `--min-value`).
    BuyRequest {
        #[arg(long, value_parser = request_id)] request_id: RequestId,
        #[arg(long, value_parser = amount)] max_price: Amount,
        #[arg(long, value_parser = amount)] min_value: Amount,
    }
    /// Queue a deposit: escrow a stablecoin until there is room to mint USDai for it.
    QueueDeposit {
        #[arg(long, value_parser = symbol)] token: Symbol,
        #[arg(long, value_parser = amount)] amount: Amount,
    }
    /// Cancel a queued deposit: its remaining escrow comes back.
    CancelQueuedDeposit {
        #[arg(long)] deposit_id: u64,
    }
    /// Keeper: mint queued deposits from the head while there is room.
    FillQueuedDeposits {
        #[arg(long, default_value_t = 64)] max_deposits: u32,
    }
    /// Monitor: attest what it saw of a receipt's hardware (units, serial-list hash, facility,
    /// uptime since its previous attestation, as of when).
    PostPresenceAttestation {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long)] units_seen: u32,
        #[arg(long)] serials_hash: B256,
        #[arg(long)] facility: String,
        #[arg(long, value_parser = bps)] uptime_bps: Bps,
        #[arg(long)] as_of: u64,
    }
    /// Admin: how old a class's receipts' newest presence attestation may be (0: not
    /// monitored; tightening waits the governance delay).
    SetPresenceLimit {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[arg(long)] max_age_secs: u64,
    }
    /// The policy's insurer: insure a residual-value floor (after a liquidation sale it owes the
    /// floor minus the net proceeds).
    SetResidualFloor {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
        #[arg(long, value_parser = amount)] floor_value: Amount,
    }
    /// The claim's insurer: pay a residual-value claim into the waterfall.
    PayResidualClaim {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Admin: write off a residual-value claim unpaid after its payment period.
    WriteOffResidualClaim {
        #[arg(long, value_parser = receipt_id)] receipt_id: ReceiptId,
    }
    /// Admin: set how a class's rental index bounds its receipts' value (the income value).
    SetIncomeTerms {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[command(flatten)] terms: IncomeTermsArgs,
    }
    /// Oracle: post a class's rental index in USD per unit-hour (`2.15`).
    PostRentalIndex {
        #[arg(long, value_parser = class_id)] class: AssetClassId,
        #[arg(long, value_parser = amount)] rent_per_unit_hour: Amount,
    }
}

/// `infrafi sealed-bid-commitment`: the commitment a sealed bid reveals against.
#[derive(clap::Args, Debug)]
pub(crate) struct SealedBidCommitmentArgs {
    /// The request bid on.
    #[arg(long, value_parser = request_id)]
    request_id: RequestId,
    /// The bid in USDai per share (`0.002`).
    #[arg(long, value_parser = price)]
    price_wad: u128,
    /// A secret salt, 32 bytes of hex.
    #[arg(long)]
    salt: B256,
}

/// Prints `keccak256(abi.encode(request_id, price_wad, salt))`.
pub(crate) fn sealed_bid_commitment(args: SealedBidCommitmentArgs) -> Result<()> {
    let commitment =
        infrafi_core::qev::sealed_bid_commitment(args.request_id, args.price_wad, args.salt);
    println!("{commitment}");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser, Subcommand};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        action: ActionCommand,
    }

    fn parse(args: &[&str]) -> Action {
        let cli = Cli::try_parse_from(std::iter::once("tx").chain(args.iter().copied())).unwrap();
        cli.action.action().unwrap()
    }

    #[test]
    fn every_action_has_its_subcommand_named_after_it() {
        let command = ActionCommand::augment_subcommands(clap::Command::new("tx"));
        let mut names: Vec<String> =
            command.get_subcommands().map(|c| c.get_name().to_string()).collect();
        names.retain(|name| name != "raw");
        let expected: Vec<String> = Action::NAMES.iter().map(|n| n.replace('_', "-")).collect();
        assert_eq!(names, expected);
        assert!(
            Cli::command().try_get_matches_from(["tx", "stake"]).is_err(),
            "assets is required"
        );
    }

    #[test]
    fn flags_are_the_action_fields_and_values_are_typed_for_people() {
        let stake = parse(&["stake", "--assets", "1250.5"]);
        let json = serde_json::to_value(&stake).unwrap();
        assert_eq!(json["assets"], "1250500000000000000000");
        assert_eq!(json["min_shares"], "0");
        let posted = parse(&["post-tbill-rate", "--rate", "4.5%"]);
        assert_eq!(posted, parse(&["post-tbill-rate", "--rate", "450bps"]));
        assert_eq!(posted, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(450) }));
        assert!(rate("4.555%").is_err(), "a rate has at most two decimals of a percent");
        assert!(rate("4.5").is_err(), "a rate says its unit");
        assert_eq!(
            parse(&["pledge-receipts", "--loan-id", "3", "--receipt-ids", "1,2"]),
            Action::PledgeReceipts(PledgeReceipts {
                loan_id: LoanId(3),
                receipt_ids: vec![ReceiptId(1), ReceiptId(2)]
            })
        );
        assert_eq!(parse(&["harvest-base-yield"]), Action::HarvestBaseYield(HarvestBaseYield {}));
        let document_hash = B256::repeat_byte(0xd0);
        assert_eq!(
            parse(&[
                "post-reserve-attestation",
                "--par-amount",
                "1005000",
                "--market-value",
                "1000000.5",
                "--as-of",
                "1767225600",
                "--document-hash",
                &document_hash.to_string(),
            ]),
            Action::PostReserveAttestation(PostReserveAttestation {
                par_amount: Amount::from_whole(1_005_000),
                market_value: Amount(Amount::from_whole(1_000_000).0 + infrafi_core::WAD / 2),
                as_of: 1_767_225_600,
                document_hash,
            })
        );
    }

    #[test]
    fn rental_index_actions_take_dollars_an_hour_and_default_their_index_rules() {
        let class = AssetClassId::new("gpu.h100-sxm").unwrap();
        assert_eq!(
            parse(&[
                "post-rental-index",
                "--class",
                "gpu.h100-sxm",
                "--rent-per-unit-hour",
                "2.15"
            ]),
            Action::PostRentalIndex(PostRentalIndex {
                class,
                rent_per_unit_hour: Amount(215 * infrafi_core::WAD / 100),
            })
        );
        let set = parse(&[
            "set-income-terms",
            "--class",
            "gpu.h100-sxm",
            "--utilisation-bps",
            "7000",
            "--opex-share-bps",
            "4000",
            "--discount-rate-bps-per-year",
            "1200",
            "--economic-life-ends-at",
            "1900000000",
        ]);
        let terms = infrafi_core::rental_index::IncomeTerms {
            utilisation_bps: Bps(7_000),
            opex_share_bps: Bps(4_000),
            discount_rate_bps_per_year: Bps(1_200),
            economic_life_ends_at: 1_900_000_000,
            index_max_age_secs: 7 * 86_400,
            index_max_move_bps: Bps(2_500),
        };
        assert_eq!(set, Action::SetIncomeTerms(SetIncomeTerms { class, terms }));
    }
}
