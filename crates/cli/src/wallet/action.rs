//! One action, typed for people: `infrafi tx <action> --flag value`. Amounts are decimals of
//! the token, rates basis points; `raw` takes any action's JSON.

use anyhow::{Context, Result};
use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, LoanId, ReceiptId, RequestId, Role, SiloId,
    Symbol,
    ids::{B256, PayoutId},
    loans::{LoanTerms, SaleReport, TrancheTerms},
    math::{Bps, Rate},
    params::PauseScope,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    schedule::InterestModel,
    silos::SiloTerms,
};

fn amount(text: &str) -> Result<Amount, String> {
    Amount::parse_decimal(text).map_err(|e| format!("`{text}`: {e} (amounts are decimals: 1250.5)"))
}

fn amount_or_max(text: &str) -> Result<Amount, String> {
    if text == "max" { Ok(Amount::MAX) } else { amount(text) }
}

fn class_id(text: &str) -> Result<AssetClassId, String> {
    AssetClassId::new(text).ok_or_else(|| format!("`{text}` is not an asset class id (gpu.h100)"))
}

fn model(text: &str) -> Result<InterestModel, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not an interest model (amortized, fixed_principal)"))
}

fn ids(list: &[u64]) -> Vec<ReceiptId> {
    list.iter().map(|id| ReceiptId(*id)).collect()
}

/// A receipt's description, as flags.
#[derive(clap::Args, Debug)]
pub(crate) struct DescriptionArgs {
    /// Units of hardware.
    #[arg(long)]
    quantity: u32,
    /// Hash of the serial-number list.
    #[arg(long)]
    serials_hash: B256,
    /// Facility.
    #[arg(long)]
    facility: String,
    /// Jurisdiction (`US-NV`).
    #[arg(long)]
    jurisdiction: String,
    /// Hash of the bailment agreement.
    #[arg(long)]
    bailment_hash: B256,
}

impl DescriptionArgs {
    fn description(self) -> ReceiptDescription {
        ReceiptDescription {
            quantity: self.quantity,
            serials_hash: self.serials_hash,
            facility: self.facility,
            jurisdiction: self.jurisdiction,
            bailment_hash: self.bailment_hash,
        }
    }
}

/// Loan terms, as flags. Amounts in USDai decimals, rates as APR basis points.
#[derive(clap::Args, Debug)]
pub(crate) struct LoanTermsArgs {
    /// The borrower.
    #[arg(long)]
    borrower: Address,
    /// Receipt ids (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    receipts: Vec<u64>,
    /// Senior (vault-funded) principal.
    #[arg(long, value_parser = amount)]
    senior: Amount,
    /// Senior APR (bps).
    #[arg(long)]
    senior_apr_bps: u32,
    /// Junior (first-loss pool) principal.
    #[arg(long, value_parser = amount, default_value = "0")]
    junior: Amount,
    /// Junior APR (bps).
    #[arg(long, default_value_t = 0)]
    junior_apr_bps: u32,
    /// `amortized` or `fixed_principal`.
    #[arg(long, value_parser = model, default_value = "amortized")]
    model: InterestModel,
    /// Payments (default: the protocol's).
    #[arg(long)]
    periods: Option<u32>,
    /// Seconds between payments (default: the protocol's).
    #[arg(long)]
    interval_secs: Option<u64>,
    /// Grace after a deadline, seconds.
    #[arg(long, default_value_t = 15 * 86_400)]
    grace_period_secs: u64,
    /// Grace interest APR (bps).
    #[arg(long, default_value_t = 0)]
    grace_apr_bps: u32,
    /// Origination fee (bps).
    #[arg(long, default_value_t = 0)]
    origination_fee_bps: u32,
    /// Exit fee (bps).
    #[arg(long, default_value_t = 0)]
    exit_fee_bps: u32,
    /// Acceptance deadline (unix seconds).
    #[arg(long)]
    expires_at: u64,
}

impl LoanTermsArgs {
    fn terms(self) -> LoanTerms {
        LoanTerms {
            borrower: self.borrower,
            receipts: ids(&self.receipts),
            senior: TrancheTerms {
                amount: self.senior,
                rate: Rate::from_apr_bps(self.senior_apr_bps),
            },
            junior: TrancheTerms {
                amount: self.junior,
                rate: Rate::from_apr_bps(self.junior_apr_bps),
            },
            model: self.model,
            periods: self.periods,
            interval_secs: self.interval_secs,
            grace_period_secs: self.grace_period_secs,
            grace_rate: Rate::from_apr_bps(self.grace_apr_bps),
            origination_fee_bps: Bps(self.origination_fee_bps),
            exit_fee_bps: Bps(self.exit_fee_bps),
            expires_at: self.expires_at,
        }
    }
}

fn price(text: &str) -> Result<u128, String> {
    amount(text).map(|a| a.0)
}

fn symbol(text: &str) -> Result<Symbol, String> {
    Symbol::new(text).ok_or_else(|| format!("`{text}` is not a symbol (USDC, USDT, ...)"))
}

fn asset(text: &str) -> Result<Asset, String> {
    match text {
        "USDai" | "usdai" => Ok(Asset::Usdai),
        "sUSDai" | "susdai" => Ok(Asset::Susdai),
        other => symbol(other).map(Asset::Stablecoin),
    }
}

fn role(text: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not a role (admin, oracle, gateway_attestor, ...)"))
}

fn scope(text: &str) -> Result<PauseScope, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not a pause scope (minting, staking, borrowing)"))
}

/// One action, typed for people. `raw` takes any action's JSON, including those added later.
#[derive(clap::Subcommand, Debug)]
#[allow(missing_docs)]
pub(crate) enum ActionCommand {
    /// Send an asset to another user.
    Transfer {
        #[arg(long, value_parser = asset)]
        asset: Asset,
        #[arg(long)]
        to: Address,
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Mint USDai from a stablecoin.
    MintUsdai {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_out: Amount,
    },
    /// Redeem USDai for a stablecoin.
    RedeemUsdai {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_out: Amount,
    },
    /// Stake USDai for sUSDai.
    Stake {
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_shares: Amount,
    },
    /// Mint exact sUSDai shares.
    MintShares {
        #[arg(long, value_parser = amount)]
        shares: Amount,
        #[arg(long, value_parser = amount)]
        max_assets: Amount,
    },
    /// Give USDai to all shareholders.
    Donate {
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Lock sUSDai in a redemption request.
    RequestRedeem {
        #[arg(long, value_parser = amount)]
        shares: Amount,
    },
    /// Cancel a redemption request.
    CancelRedeem {
        #[arg(long)]
        id: u64,
    },
    /// Claim served USDai.
    Claim {
        #[arg(long)]
        id: u64,
    },
    /// Keeper: run a servicing round.
    ServiceQueue {
        #[arg(long, default_value_t = 1_000)]
        max_requests: u32,
    },
    /// Keeper: harvest base yield.
    HarvestBaseYield,
    /// Attestor: credit an external deposit.
    GatewayCredit {
        #[arg(long)]
        account: Address,
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long)]
        external_id: B256,
    },
    /// Withdraw a stablecoin to another chain.
    GatewayWithdraw {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long)]
        destination: String,
    },
    /// Attestor: confirm a payout.
    GatewayConfirm {
        #[arg(long)]
        payout_id: u64,
        #[arg(long)]
        external_id: B256,
    },
    /// Attestor: reject a payout.
    GatewayReject {
        #[arg(long)]
        payout_id: u64,
        #[arg(long)]
        reason: String,
    },
    /// Admin: grant a role.
    GrantRole {
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long)]
        account: Address,
    },
    /// Admin: revoke a role.
    RevokeRole {
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long)]
        account: Address,
    },
    /// Admin: change a parameter, as JSON (`{"parameter":"mint_fee_bps","value":10}`).
    SetParameter {
        #[arg(long)]
        json: String,
    },
    /// Admin: support a new stablecoin.
    AddStablecoin {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
    },
    /// Guardian: pause or unpause.
    SetPause {
        #[arg(long, value_parser = scope)]
        scope: PauseScope,
        #[arg(long, action = clap::ArgAction::Set)]
        paused: bool,
    },
    /// Compliance: freeze an address.
    Freeze {
        #[arg(long)]
        account: Address,
    },
    /// Compliance: unfreeze an address.
    Unfreeze {
        #[arg(long)]
        account: Address,
    },
    /// KYC registrar: set verification.
    SetKyc {
        #[arg(long)]
        account: Address,
        #[arg(long, action = clap::ArgAction::Set)]
        verified: bool,
    },
    /// Oracle: post a stablecoin price in USD ("0.9998").
    PostPrice {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = price)]
        price: u128,
    },
    /// Oracle: post the T-bill yield as an APR in basis points.
    PostTbillRate {
        #[arg(long)]
        apr_bps: u32,
    },
    // Receipts (SPEC 8).
    /// Admin: register an asset class.
    AddAssetClass {
        #[arg(long, value_parser = class_id)]
        class: AssetClassId,
        #[arg(long, value_parser = amount)]
        new_price_per_unit: Amount,
        #[arg(long)]
        annual_depreciation_bps: u32,
        #[arg(long)]
        floor_bps: u32,
        #[arg(long, default_value_t = 3_000)]
        itad_commission_bps: u32,
        #[arg(long, value_parser = amount, default_value = "0")]
        legal_cost_per_unit: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        logistics_cost_per_unit: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        data_destruction_cost_per_unit: Amount,
        #[arg(long, default_value_t = 0)]
        condition_haircut_bps: u32,
    },
    /// Admin: step a class down for a new generation.
    ApplyGenerationStepDown {
        #[arg(long, value_parser = class_id)]
        class: AssetClassId,
        #[arg(long)]
        step_down_bps: u32,
    },
    /// Custodian: issue a receipt.
    IssueReceipt {
        #[arg(long, value_parser = class_id)]
        class: AssetClassId,
        #[arg(long)]
        owner: Address,
        #[command(flatten)]
        description: DescriptionArgs,
    },
    /// Issuing custodian: amend a receipt's description.
    AmendReceipt {
        #[arg(long)]
        receipt_id: u64,
        #[command(flatten)]
        description: DescriptionArgs,
    },
    /// Issuing custodian: release a receipt.
    ReleaseReceipt {
        #[arg(long)]
        receipt_id: u64,
    },
    /// Owner: transfer a free receipt.
    TransferReceipt {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long)]
        to: Address,
    },
    /// Owner: ask for the hardware back.
    RequestReceiptRedemption {
        #[arg(long)]
        receipt_id: u64,
    },
    /// Issuing custodian: hand the hardware back and burn the receipt.
    RedeemReceipt {
        #[arg(long)]
        receipt_id: u64,
    },
    /// Insurer: attach a policy.
    AttachPolicy {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long)]
        policy_id: B256,
        #[arg(long, value_parser = amount)]
        coverage: Amount,
        #[arg(long)]
        expires_at: u64,
    },
    /// The policy's insurer: renew it.
    RenewPolicy {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long, value_parser = amount)]
        coverage: Amount,
        #[arg(long)]
        expires_at: u64,
    },
    /// Appraiser: value a receipt.
    PostValuation {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long, value_parser = amount)]
        value: Amount,
    },
    // Silos (SPEC 10).
    /// Curator: open a silo.
    OpenSilo {
        /// Eligible classes (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = class_id, required = true)]
        classes: Vec<AssetClassId>,
        #[arg(long, default_value_t = 7_000)]
        max_initial_ltv_bps: u32,
        #[arg(long, default_value_t = 8_000)]
        margin_call_ltv_bps: u32,
        #[arg(long, default_value_t = 10_000)]
        max_borrower_share_bps: u32,
        #[arg(long, default_value_t = 0)]
        curator_fee_bps: u32,
    },
    /// Curator: add first-loss capital.
    DepositFirstLoss {
        #[arg(long)]
        silo_id: u64,
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Curator: withdraw first-loss capital.
    WithdrawFirstLoss {
        #[arg(long)]
        silo_id: u64,
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Admin: set a silo's senior cap.
    SetSiloSeniorCap {
        #[arg(long)]
        silo_id: u64,
        #[arg(long, value_parser = amount)]
        cap: Amount,
    },
    /// Admin: freeze or unfreeze a silo.
    SetSiloFrozen {
        #[arg(long)]
        silo_id: u64,
        #[arg(long, action = clap::ArgAction::Set)]
        frozen: bool,
    },
    /// Admin: assign a frozen silo to a successor curator.
    AssignSuccessorCurator {
        #[arg(long)]
        silo_id: u64,
        #[arg(long)]
        curator: Address,
    },
    // Loans (SPEC 9).
    /// Curator: propose a loan.
    ProposeLoan {
        #[arg(long)]
        silo_id: u64,
        #[command(flatten)]
        terms: LoanTermsArgs,
    },
    /// Curator or borrower: cancel a proposal.
    CancelLoanProposal {
        #[arg(long)]
        loan_id: u64,
    },
    /// Borrower: accept a proposal.
    AcceptLoan {
        #[arg(long)]
        loan_id: u64,
    },
    /// Anyone: pay what is due (at most `--max-amount`, `max` by default).
    RepayLoan {
        #[arg(long)]
        loan_id: u64,
        #[arg(long, value_parser = amount_or_max, default_value = "max")]
        max_amount: Amount,
    },
    /// Anyone: prepay principal.
    PrepayLoan {
        #[arg(long)]
        loan_id: u64,
        #[arg(long, value_parser = amount)]
        principal: Amount,
        #[arg(long, value_parser = amount_or_max, default_value = "max")]
        max_amount: Amount,
    },
    /// Borrower: pledge more receipts.
    PledgeReceipts {
        #[arg(long)]
        loan_id: u64,
        #[arg(long, value_delimiter = ',', required = true)]
        receipts: Vec<u64>,
    },
    /// Keeper: re-mark open loans.
    RemarkLoans {
        #[arg(long, default_value_t = 0)]
        first_loan_id: u64,
        #[arg(long, default_value_t = 500)]
        max_loans: u32,
    },
    /// Anyone: default a loan past grace or cure.
    TriggerDefault {
        #[arg(long)]
        loan_id: u64,
    },
    /// Curator or admin: hand a defaulted loan to a liquidation agent.
    ForecloseLoan {
        #[arg(long)]
        loan_id: u64,
        #[arg(long)]
        liquidation_agent: Address,
    },
    /// Liquidation agent: report a receipt's sale.
    ReportSale {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long, value_parser = amount)]
        gross_proceeds: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        itad_commission: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        legal_costs: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        logistics_costs: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        data_destruction_costs: Amount,
    },
    /// Insurer: pay a claim on a foreclosed receipt.
    PayInsuranceClaim {
        #[arg(long)]
        receipt_id: u64,
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Borrower: claim a held liquidation surplus.
    ClaimLoanSurplus {
        #[arg(long)]
        loan_id: u64,
    },
    // QEV (SPEC 11).
    /// Set the open bid per share in USDai ("0.002"); 0 withdraws it.
    SetBid {
        #[arg(long)]
        request_id: u64,
        #[arg(long, value_parser = price)]
        price: u128,
    },
    /// Commit a sealed bid: the commitment is computed here from price and salt.
    CommitSealedBid {
        #[arg(long)]
        request_id: u64,
        #[arg(long, value_parser = price)]
        price: u128,
        #[arg(long)]
        salt: B256,
        #[arg(long, value_parser = amount)]
        deposit: Amount,
    },
    /// Reveal a sealed bid.
    RevealSealedBid {
        #[arg(long)]
        request_id: u64,
        #[arg(long, value_parser = price)]
        price: u128,
        #[arg(long)]
        salt: B256,
    },
    /// Give one's request to another address.
    TransferRequest {
        #[arg(long)]
        request_id: u64,
        #[arg(long)]
        to: Address,
    },
    /// List one's request for sale.
    ListRequest {
        #[arg(long)]
        request_id: u64,
        #[arg(long, value_parser = amount)]
        price: Amount,
    },
    /// Withdraw one's listing.
    DelistRequest {
        #[arg(long)]
        request_id: u64,
    },
    /// Buy a listed request.
    BuyRequest {
        #[arg(long)]
        request_id: u64,
        #[arg(long, value_parser = amount)]
        max_price: Amount,
    },
    /// Any action as JSON (`{"type":"stake",...}`): every action the node knows.
    Raw {
        #[arg(long)]
        json: String,
    },
}

impl ActionCommand {
    /// The action.
    pub(crate) fn action(self) -> Result<Action> {
        use ActionCommand as C;
        Ok(match self {
            C::Transfer { asset, to, amount } => Action::Transfer { asset, to, amount },
            C::MintUsdai { token, amount, min_out } => Action::MintUsdai { token, amount, min_out },
            C::RedeemUsdai { token, amount, min_out } => {
                Action::RedeemUsdai { token, amount, min_out }
            }
            C::Stake { amount, min_shares } => Action::Stake { assets: amount, min_shares },
            C::MintShares { shares, max_assets } => Action::MintShares { shares, max_assets },
            C::Donate { amount } => Action::DonateToVault { amount },
            C::RequestRedeem { shares } => Action::RequestRedeem { shares },
            C::CancelRedeem { id } => Action::CancelRedeem { request_id: RequestId(id) },
            C::Claim { id } => Action::Claim { request_id: RequestId(id) },
            C::ServiceQueue { max_requests } => Action::ServiceQueue { max_requests },
            C::HarvestBaseYield => Action::HarvestBaseYield {},
            C::GatewayCredit { account, token, amount, external_id } => {
                Action::GatewayCredit { account, token, amount, external_id }
            }
            C::GatewayWithdraw { token, amount, destination } => {
                Action::GatewayWithdraw { token, amount, destination }
            }
            C::GatewayConfirm { payout_id, external_id } => {
                Action::GatewayConfirm { payout_id: PayoutId(payout_id), external_id }
            }
            C::GatewayReject { payout_id, reason } => {
                Action::GatewayReject { payout_id: PayoutId(payout_id), reason }
            }
            C::GrantRole { role, account } => Action::GrantRole { role, account },
            C::RevokeRole { role, account } => Action::RevokeRole { role, account },
            C::SetParameter { json } => {
                Action::SetParameter { change: serde_json::from_str(&json).context("parameter")? }
            }
            C::AddStablecoin { token } => Action::AddStablecoin { token },
            C::SetPause { scope, paused } => Action::SetPause { scope, paused },
            C::Freeze { account } => Action::Freeze { account },
            C::Unfreeze { account } => Action::Unfreeze { account },
            C::SetKyc { account, verified } => Action::SetKyc { account, verified },
            C::PostPrice { token, price } => Action::PostPrice { token, price },
            C::PostTbillRate { apr_bps } => {
                Action::PostTbillRate { rate: Rate::from_apr_bps(apr_bps) }
            }
            C::AddAssetClass {
                class,
                new_price_per_unit,
                annual_depreciation_bps,
                floor_bps,
                itad_commission_bps,
                legal_cost_per_unit,
                logistics_cost_per_unit,
                data_destruction_cost_per_unit,
                condition_haircut_bps,
            } => Action::AddAssetClass {
                class,
                terms: AssetClassTerms {
                    new_price_per_unit,
                    annual_depreciation_bps: Bps(annual_depreciation_bps),
                    floor_bps: Bps(floor_bps),
                    recovery: RecoveryCostModel {
                        itad_commission_bps: Bps(itad_commission_bps),
                        legal_cost_per_unit,
                        logistics_cost_per_unit,
                        data_destruction_cost_per_unit,
                        condition_haircut_bps: Bps(condition_haircut_bps),
                    },
                },
            },
            C::ApplyGenerationStepDown { class, step_down_bps } => {
                Action::ApplyGenerationStepDown { class, step_down_bps: Bps(step_down_bps) }
            }
            C::IssueReceipt { class, owner, description } => {
                Action::IssueReceipt { class, owner, description: description.description() }
            }
            C::AmendReceipt { receipt_id, description } => Action::AmendReceipt {
                receipt_id: ReceiptId(receipt_id),
                description: description.description(),
            },
            C::ReleaseReceipt { receipt_id } => {
                Action::ReleaseReceipt { receipt_id: ReceiptId(receipt_id) }
            }
            C::TransferReceipt { receipt_id, to } => {
                Action::TransferReceipt { receipt_id: ReceiptId(receipt_id), to }
            }
            C::RequestReceiptRedemption { receipt_id } => {
                Action::RequestReceiptRedemption { receipt_id: ReceiptId(receipt_id) }
            }
            C::RedeemReceipt { receipt_id } => {
                Action::RedeemReceipt { receipt_id: ReceiptId(receipt_id) }
            }
            C::AttachPolicy { receipt_id, policy_id, coverage, expires_at } => {
                Action::AttachPolicy {
                    receipt_id: ReceiptId(receipt_id),
                    policy_id,
                    coverage,
                    expires_at,
                }
            }
            C::RenewPolicy { receipt_id, coverage, expires_at } => {
                Action::RenewPolicy { receipt_id: ReceiptId(receipt_id), coverage, expires_at }
            }
            C::PostValuation { receipt_id, value } => {
                Action::PostValuation { receipt_id: ReceiptId(receipt_id), value }
            }
            C::OpenSilo {
                mut classes,
                max_initial_ltv_bps,
                margin_call_ltv_bps,
                max_borrower_share_bps,
                curator_fee_bps,
            } => {
                classes.sort();
                Action::OpenSilo {
                    terms: SiloTerms {
                        eligible_classes: classes,
                        max_initial_ltv_bps: Bps(max_initial_ltv_bps),
                        margin_call_ltv_bps: Bps(margin_call_ltv_bps),
                        max_borrower_share_bps: Bps(max_borrower_share_bps),
                        curator_fee_bps: Bps(curator_fee_bps),
                    },
                }
            }
            C::DepositFirstLoss { silo_id, amount } => {
                Action::DepositFirstLoss { silo_id: SiloId(silo_id), amount }
            }
            C::WithdrawFirstLoss { silo_id, amount } => {
                Action::WithdrawFirstLoss { silo_id: SiloId(silo_id), amount }
            }
            C::SetSiloSeniorCap { silo_id, cap } => {
                Action::SetSiloSeniorCap { silo_id: SiloId(silo_id), cap }
            }
            C::SetSiloFrozen { silo_id, frozen } => {
                Action::SetSiloFrozen { silo_id: SiloId(silo_id), frozen }
            }
            C::AssignSuccessorCurator { silo_id, curator } => {
                Action::AssignSuccessorCurator { silo_id: SiloId(silo_id), curator }
            }
            C::ProposeLoan { silo_id, terms } => {
                Action::ProposeLoan { silo_id: SiloId(silo_id), terms: terms.terms() }
            }
            C::CancelLoanProposal { loan_id } => {
                Action::CancelLoanProposal { loan_id: LoanId(loan_id) }
            }
            C::AcceptLoan { loan_id } => Action::AcceptLoan { loan_id: LoanId(loan_id) },
            C::RepayLoan { loan_id, max_amount } => {
                Action::RepayLoan { loan_id: LoanId(loan_id), max_amount }
            }
            C::PrepayLoan { loan_id, principal, max_amount } => {
                Action::PrepayLoan { loan_id: LoanId(loan_id), principal, max_amount }
            }
            C::PledgeReceipts { loan_id, receipts } => {
                Action::PledgeReceipts { loan_id: LoanId(loan_id), receipt_ids: ids(&receipts) }
            }
            C::RemarkLoans { first_loan_id, max_loans } => {
                Action::RemarkLoans { first_loan_id: LoanId(first_loan_id), max_loans }
            }
            C::TriggerDefault { loan_id } => Action::TriggerDefault { loan_id: LoanId(loan_id) },
            C::ForecloseLoan { loan_id, liquidation_agent } => {
                Action::ForecloseLoan { loan_id: LoanId(loan_id), liquidation_agent }
            }
            C::ReportSale {
                receipt_id,
                gross_proceeds,
                itad_commission,
                legal_costs,
                logistics_costs,
                data_destruction_costs,
            } => Action::ReportSale {
                receipt_id: ReceiptId(receipt_id),
                report: SaleReport {
                    gross_proceeds,
                    itad_commission,
                    legal_costs,
                    logistics_costs,
                    data_destruction_costs,
                },
            },
            C::PayInsuranceClaim { receipt_id, amount } => {
                Action::PayInsuranceClaim { receipt_id: ReceiptId(receipt_id), amount }
            }
            C::ClaimLoanSurplus { loan_id } => {
                Action::ClaimLoanSurplus { loan_id: LoanId(loan_id) }
            }
            C::SetBid { request_id, price } => {
                Action::SetBid { request_id: RequestId(request_id), price_wad: price }
            }
            C::CommitSealedBid { request_id, price, salt, deposit } => {
                let request_id = RequestId(request_id);
                let commitment = infrafi_core::qev::sealed_bid_commitment(request_id, price, salt);
                Action::CommitSealedBid { request_id, commitment, deposit }
            }
            C::RevealSealedBid { request_id, price, salt } => Action::RevealSealedBid {
                request_id: RequestId(request_id),
                price_wad: price,
                salt,
            },
            C::TransferRequest { request_id, to } => {
                Action::TransferRequest { request_id: RequestId(request_id), to }
            }
            C::ListRequest { request_id, price } => {
                Action::ListRequest { request_id: RequestId(request_id), price }
            }
            C::DelistRequest { request_id } => {
                Action::DelistRequest { request_id: RequestId(request_id) }
            }
            C::BuyRequest { request_id, max_price } => {
                Action::BuyRequest { request_id: RequestId(request_id), max_price }
            }
            C::Raw { json } => serde_json::from_str(&json).context("the action JSON")?,
        })
    }
}
