//! The random workload of the property tests and the golden roots: after a fixed set-up
//! (stakes, a silo, receipts and two loans), sequences of steps from six actors and the credit
//! parties that mix valid and invalid actions of every `Action` variant with time advancing. A
//! step is resolved against the current state ("a quarter of the sender's USDai", "one of the
//! sender's requests", "a loan whose payment is due", "a receipt the borrower could pledge"),
//! deterministically, so the same steps applied to the same state give the same transactions.

mod pick;
mod resolve;
mod step;
mod strategy;

pub use step::{Limit, Op, Size, Step, Terms, parameter_change};
pub use strategy::{step, steps};

use crate::market::*;
use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, BlockContext, Bps, Event, Genesis, LoanId, Rate,
    ReceiptId, Role, SiloId, State, Symbol, Transaction, WAD,
    action::*,
    apply,
    ids::{B256, USDC, USDT},
    invariants,
    loans::{Loan, LoanTerms, TrancheTerms},
    receipts::{AssetClassTerms, RecoveryCostModel},
    rental_index::IncomeTerms,
    schedule::InterestModel,
    silos::SiloTerms,
    vault,
};
use infrafi_core::{
    ParameterChange, RequestId,
    ids::PayoutId,
    loans::{self, LoanStatus, SaleReport},
    params::{DURATION_SECS_MAX, PauseScope},
    receipts::{self, Receipt, ReceiptStatus},
    reserve::PayoutStatus,
};
use pick::{bps_of, loan_terms_at};

/// Holds admin, guardian and compliance.
pub const OPS: Address = Address::repeat_byte(0xc1);
/// Holds oracle, gateway attestor and KYC registrar.
pub const FEEDS: Address = Address::repeat_byte(0xc2);
/// The six actors whose value the properties follow: two role holders (who also hold
/// money) and four users.
pub const ACTORS: [Address; 6] = [OPS, FEEDS, ALICE, BOB, CAROL, DAVE];

// BORROWER_TWO and RIVAL (the second holder of every credit role, so that acting on another
// holder's receipt, policy, silo or liquidation is tried too) are the fixture's.
/// The credit parties: the role holders of SPEC 8-10 and two borrowers. They are outside
/// the actors whose value the properties follow: a borrower's USDai is what it owes, and a
/// silo's pool is its curator's capital at risk. What they pay into the actors' accounts,
/// the vault or the fee collector (interest, fees, recoveries) is value from outside; what
/// the vault lends them stays in NAV as senior principal. Actors never own receipts, so
/// they never borrow.
pub const CREDIT_PARTIES: [Address; 8] =
    [CUSTODIAN, APPRAISER, INSURER, CURATOR, LIQUIDATION_AGENT, RIVAL, BORROWER, BORROWER_TWO];
const BORROWERS: [Address; 2] = [BORROWER, BORROWER_TWO];
/// Everyone who sends transactions.
pub const PARTICIPANTS: [Address; 14] = [
    OPS,
    FEEDS,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    CUSTODIAN,
    APPRAISER,
    INSURER,
    CURATOR,
    LIQUIDATION_AGENT,
    RIVAL,
    BORROWER,
    BORROWER_TWO,
];
/// Stablecoins each credit party starts with; the set-up mints USDai from some of it.
const CREDIT_PARTY_STABLECOIN_WHOLE: u128 = 10_000_000;

const fn class(name: &str) -> AssetClassId {
    match AssetClassId::new(name) {
        Some(class) => class,
        None => panic!("valid class name"),
    }
}

/// Class names: the GPU class of the set-up, two that admin may add, one never registered.
const CLASSES: [AssetClassId; 4] = [GPU, class("gpu.b200"), class("gpu.a100"), class("gpu.mi300x")];

/// A stablecoin the market does not support at genesis (the admin may add it).
pub const DAI: Symbol = match Symbol::new("DAI") {
    Some(symbol) => symbol,
    None => panic!("valid symbol"),
};
const TOKENS: [Symbol; 3] = [USDC, USDT, DAI];

/// The workload's genesis: every actor funded with 1,000,000 USDC and USDT, a 4.5% T-bill
/// rate, small fees so that every fee path runs, the other parameters at their defaults.
pub fn genesis() -> Genesis {
    let mut genesis = Genesis::with_admin(OPS, GENESIS_TIME);
    genesis.roles = vec![
        (Role::Admin, OPS),
        (Role::Guardian, OPS),
        (Role::Compliance, OPS),
        (Role::Oracle, FEEDS),
        (Role::GatewayAttestor, FEEDS),
        (Role::KycRegistrar, FEEDS),
        (Role::ReserveCustodian, FEEDS),
        (Role::Custodian, CUSTODIAN),
        (Role::Appraiser, APPRAISER),
        (Role::Insurer, INSURER),
        (Role::Curator, CURATOR),
        (Role::LiquidationAgent, LIQUIDATION_AGENT),
        (Role::Monitor, APPRAISER),
        (Role::Monitor, BORROWER_TWO),
    ];
    for role in
        [Role::Custodian, Role::Appraiser, Role::Insurer, Role::Curator, Role::LiquidationAgent]
    {
        genesis.roles.push((role, RIVAL));
    }
    genesis.tbill_rate = Rate::from_apr_bps(450);
    genesis.params.mint_fee_bps = Bps(5);
    genesis.params.redeem_fee_bps = Bps(5);
    genesis.params.yield_fee_bps = Bps(1_000);
    // Prices stay fresh for 30 days: the oracle posts one token's price about one step in
    // thirty and steps are a day apart on average, so with the default (one day) nearly
    // every mint would be stale. Staleness still happens, through parameter changes.
    genesis.params.max_price_age_secs = 30 * DAY;
    // Loans deploy the vault's USDai down to the default 5% buffer (and at most the default
    // 90% of NAV), so rounds are often short of liquidity and partial fills happen. Silos
    // need 5% first-loss capital (not 10%): the same pool backs twice the senior exposure
    // and absorbs less of it, so losses reach the vault and share prices fall below 1.
    genesis.params.min_first_loss_bps = Bps(500);
    for actor in ACTORS {
        for token in [USDC, USDT] {
            genesis.stablecoin_balances.push((actor, token, whole(USER_STABLECOIN_WHOLE)));
        }
    }
    for party in CREDIT_PARTIES {
        let amount = whole(CREDIT_PARTY_STABLECOIN_WHOLE);
        genesis.stablecoin_balances.push((party, USDC, amount));
    }
    genesis
}

/// The workload's GPU class: $30,000 new, 20% a year straight-line depreciation to a 10%
/// floor, the default 30% ITAD commission, a 10% condition haircut and $350 of fixed
/// liquidation costs a unit; so time alone erodes collateral and opens margin calls.
pub fn gpu_class_terms() -> AssetClassTerms {
    AssetClassTerms {
        new_price_per_unit: whole(30_000),
        annual_depreciation_bps: Bps(2_000),
        floor_bps: Bps(1_000),
        recovery: RecoveryCostModel {
            itad_commission_bps: Bps(3_000),
            legal_cost_per_unit: whole(100),
            logistics_cost_per_unit: whole(200),
            data_destruction_cost_per_unit: whole(50),
            condition_haircut_bps: Bps(1_000),
        },
    }
}

/// The rental index a class starts from in the workload: $2.50 a unit-hour, which with
/// [`income_terms`] values a new GPU near its appraisal (about $28,700 over four years).
pub const RENT_PER_UNIT_HOUR: Amount = Amount(5 * WAD / 2);

/// The workload's income terms set at `now`: 70% utilisation, 40% operating costs, 12% a year,
/// four years of life left, an index good for 90 days (the oracle posts about once every six
/// weeks of workload time), moves of 25% a day.
pub fn income_terms(now: u64) -> IncomeTerms {
    IncomeTerms {
        utilisation_bps: Bps(7_000),
        opex_share_bps: Bps(4_000),
        discount_rate_bps_per_year: Bps(1_200),
        economic_life_ends_at: now + 4 * 365 * DAY,
        index_max_age_secs: 90 * DAY,
        index_max_move_bps: Bps(2_500),
    }
}

/// What runs before the steps: every actor mints 200,000 USDai and stakes 100,000 of it
/// (so the vault has capital to lend from the first step), the credit parties mint the
/// USDai their roles need, admin registers the GPU class, the curator opens silo 0 (GPUs,
/// default terms) with 100,000 of first-loss capital, admin caps its senior exposure at
/// 5,000,000, and each borrower gets three receipts (10, 20 and 40 GPUs), insured for two years
/// for 120% of their new price (with a residual floor of half of it) and appraised at 90% of it.
pub fn setup() -> Vec<Transaction> {
    let mint = |sender: Address, whole_tokens: u128| Transaction {
        sender,
        action: Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: whole(whole_tokens),
            min_out: Amount::ZERO,
        }),
    };
    let mut setup = Vec::new();
    for actor in ACTORS {
        setup.push(mint(actor, 200_000));
        setup.push(Transaction {
            sender: actor,
            action: Action::Stake(Stake { assets: whole(100_000), min_shares: Amount::ZERO }),
        });
    }
    // Only what their roles need: every USDai in existence earns T-bill yield for the vault
    // through harvests, and millions held outside would lift the share price far above
    // any loss the credit book can cause.
    let needs = [
        (CURATOR, 1_000_000),
        (RIVAL, 500_000),
        (LIQUIDATION_AGENT, 2_000_000),
        (INSURER, 2_000_000),
        (BORROWER, 1_000_000),
        (BORROWER_TWO, 1_000_000),
    ];
    setup.extend(needs.into_iter().map(|(party, whole_tokens)| mint(party, whole_tokens)));
    let terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
    let silo_id = SiloId(0);
    setup.extend([
        Transaction {
            sender: OPS,
            action: Action::AddAssetClass(AddAssetClass { class: GPU, terms: gpu_class_terms() }),
        },
        Transaction { sender: CURATOR, action: Action::OpenSilo(OpenSilo { terms }) },
        Transaction {
            sender: CURATOR,
            action: Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount: whole(100_000) }),
        },
        Transaction {
            sender: OPS,
            action: Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap: whole(5_000_000) }),
        },
        // The silo's loans hold a debt-service reserve of one payment (issue 16), so the
        // workload's missed payments draw on reserves and borrowers refill them.
        Transaction {
            sender: CURATOR,
            action: Action::SetLoanCovenants(SetLoanCovenants {
                silo_id,
                debt_service_reserve_periods: 1,
                report_interval_secs: 0,
            }),
        },
    ]);
    let owners = [BORROWER, BORROWER, BORROWER, BORROWER_TWO, BORROWER_TWO, BORROWER_TWO];
    let units = [10, 20, 40, 10, 20, 40];
    for (index, (owner, units)) in owners.into_iter().zip(units).enumerate() {
        let receipt_id = ReceiptId(index as u64);
        let new_value = whole(30_000 * u128::from(units));
        let description = gpu_receipt(units);
        setup.extend([
            Transaction {
                sender: CUSTODIAN,
                action: Action::IssueReceipt(IssueReceipt { class: GPU, owner, description }),
            },
            Transaction {
                sender: INSURER,
                action: Action::AttachPolicy(AttachPolicy {
                    receipt_id,
                    policy_id: B256::repeat_byte(0x90),
                    coverage: bps_of(new_value, 12_000),
                    expires_at: GENESIS_TIME + 730 * DAY,
                }),
            },
            Transaction {
                sender: APPRAISER,
                action: Action::PostValuation(PostValuation {
                    receipt_id,
                    value: bps_of(new_value, 9_000),
                }),
            },
            // Residual-value cover (issue 16): a floor of half the new price.
            Transaction {
                sender: INSURER,
                action: Action::SetResidualFloor(SetResidualFloor {
                    receipt_id,
                    floor_value: bps_of(new_value, 5_000),
                }),
            },
        ]);
    }
    // The book starts with a loan to each borrower against its 40-GPU receipt (appraised
    // at 1,080,000): 250,000 senior, and 200,000 senior with 20,000 junior; 12 monthly
    // payments. That deploys 450,000 of the vault's 600,000.
    for (loan, (receipt, borrower, senior, junior)) in
        [(2, BORROWER, 250_000, 0), (5, BORROWER_TWO, 200_000, 20_000)].into_iter().enumerate()
    {
        let terms = Terms {
            within_room: true,
            senior_bps: 10_000,
            junior_bps: 0,
            fixed_principal: loan == 0,
            periods: 12,
            interval: 1,
        };
        let mut terms =
            loan_terms_at(GENESIS_TIME, whole(senior), borrower, ReceiptId(receipt), terms);
        terms.junior.amount = whole(junior);
        setup.extend([
            Transaction {
                sender: CURATOR,
                action: Action::ProposeLoan(ProposeLoan { silo_id, terms }),
            },
            Transaction {
                sender: borrower,
                action: Action::AcceptLoan(AcceptLoan { loan_id: LoanId(loan as u64) }),
            },
        ]);
    }
    setup
}

/// The workload's state after genesis and the set-up (every transaction accepted, the
/// invariants checked after each), the block the steps start from, and the set-up's events.
pub fn start() -> (State, BlockContext, Vec<Event>) {
    let genesis = genesis();
    let mut state = State::from_genesis(&genesis).expect("valid genesis");
    let block = BlockContext { height: 0, timestamp: genesis.timestamp };
    let mut events = Vec::new();
    for tx in setup() {
        match apply(&mut state, &block, &tx) {
            Ok(more) => events.extend(more),
            Err(error) => panic!("set-up {tx:?} was rejected: {error}"),
        }
        invariants::check(&state).expect("invariants hold during the set-up");
    }
    (state, block, events)
}

/// The block a step runs in, after `previous`.
pub fn next_block(previous: BlockContext, step: &Step) -> BlockContext {
    if step.advance_secs == 0 {
        previous
    } else {
        BlockContext {
            height: previous.height + 1,
            timestamp: previous.timestamp + step.advance_secs,
        }
    }
}
